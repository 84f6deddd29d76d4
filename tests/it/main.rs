//! The one integration-test binary: a module per area, each starting the built-in target on
//! 127.0.0.1:0 in-process where it needs a server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod directory_cli;
mod tidy;
