//! The `entra-sim` binary: parse the command line, run the command, map errors to exit codes.

use clap::Parser;
use entra_sim::{cli::Cli, commands};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 3 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("ENTRA_SIM_LOG"))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(4);
        }
    };
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            let text = e.to_string();
            if !text.is_empty() {
                eprintln!("error: {text}");
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}
