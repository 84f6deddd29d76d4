//! entra-sim: the Microsoft Entra ID provisioning service, on the wire, for testing SCIM 2.0 servers
//! without a tenant. See ARCHITECTURE.md for the map of modules.

/// Marks the end of a stage of a cycle. `ENTRA_SIM_LOG=stages=debug` prints each with its time
/// on stderr: how the stage timings in BENCHMARKS.md are taken.
#[macro_export]
macro_rules! stage {
    ($name:literal) => {
        tracing::debug!(target: "stages", $name)
    };
}

pub mod auth;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod directory;
pub mod engine;
pub mod error;
pub mod expr;
pub mod hash;
pub mod http;
pub mod mapping;
pub mod output;
pub mod plan;
pub mod policy;
pub mod portal_csv;
pub mod provlog;
pub mod report;
pub mod runner;
pub mod sched;
pub mod scim;
pub mod scope;
pub mod store;
pub mod target;
pub mod yaml;
