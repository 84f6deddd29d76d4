//! `entra-sim completions SHELL`: a completion script for bash, zsh, fish, elvish or PowerShell,
//! generated from the clap definition so it never drifts from the real flags.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::AppError;

pub fn run(args: CompletionsArgs) -> Result<i32, AppError> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    // Into a buffer first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    std::io::stdout()
        .write_all(&script)
        .map_err(AppError::Stdout)?;
    Ok(0)
}
