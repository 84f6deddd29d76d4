//! The one integration-test binary: a module per area, each starting the built-in target on
//! 127.0.0.1:0 in-process where it needs a server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod apps;
mod cascade;
mod cli;
mod conformance;
mod crash;
mod cycle;
mod daemon;
mod directory_cli;
mod drift;
mod entra_jwt;
mod exits;
mod failure;
mod fidelity;
mod fixture;
mod flag_mode;
mod graph_shapes;
mod help;
mod hostile;
mod job_lock;
mod lifecycle;
mod line_deltas;
mod logs_csv;
mod oauth;
mod plan;
mod quirks;
#[cfg(unix)]
mod readme;
mod report;
mod responses;
mod schemas;
mod scope;
mod support;
mod tidy;
mod unchanged;
mod unique;
mod validate;
