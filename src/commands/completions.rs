//! `entra-sim completions SHELL`: a completion script for bash, zsh, fish, elvish or PowerShell,
//! generated from the clap definition so it never drifts from the real flags.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::AppError;

pub fn run(args: CompletionsArgs) -> Result<i32, AppError> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    clap_complete::generate(args.shell, &mut command, name, &mut std::io::stdout());
    Ok(0)
}
