//! The `entra-sim` binary: parse the command line, run the command, map errors to exit codes.

use clap::Parser;
use entra_sim::cli::{Cli, Command, Scheduling, TargetCommand};
use entra_sim::error::AppError;
use entra_sim::{commands, sched};

/// mimalloc instead of the system allocator: a cycle allocates and frees small buffers for every
/// request, reply and log record, and glibc's malloc cost the engine much of its CPU there (see
/// BENCHMARKS.md, section "History: the fifth session's figures", the allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // No transparent huge pages for this process: with the kernel's THP set to "always", the
    // allocator's arenas are backed by huge pages that partly-used memory keeps resident (the
    // 1M-user incremental cycle peaked higher with them), and zeroing them cost system time (see
    // BENCHMARKS.md, section "History: the fifth session's figures", transparent huge pages).
    // Best effort: a kernel without the prctl keeps its default.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
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
    // The engine drives every flow from one task, so its HTTP connections are best polled on
    // that same thread: a multi-threaded runtime only adds a cross-thread wake-up per reply. The
    // built-in target serves many connections at once and keeps the multi-threaded runtime.
    let mut builder = match &cli.command {
        Command::Target(TargetCommand::Serve(args)) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            if args.scheduling == Scheduling::Batch {
                // The target steps aside for its clients (the engine, a benchmark loop).
                sched::step_aside_on_wakeup();
                builder.on_thread_start(sched::step_aside_on_wakeup);
            }
            builder
        }
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(4);
        }
    };
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => failed(&e),
    };
    std::process::exit(code);
}

/// Prints `e` with its cause chain on standard error and returns its exit code; a closed
/// standard output (`entra-sim logs … | head`) is success, and says nothing.
fn failed(e: &AppError) -> i32 {
    if e.is_broken_pipe() {
        return 0;
    }
    for line in e.report() {
        eprintln!("{line}");
    }
    e.exit_code()
}
