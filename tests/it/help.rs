//! The command line itself: every subcommand's `--help` shows an example, and the completion
//! scripts know the subcommands.

use crate::support::Test;
use clap::CommandFactory;
use entra_sim::cli::Cli;

/// Every subcommand path, e.g. `["target", "serve"]`.
fn subcommands(command: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
    for sub in command.get_subcommands() {
        let mut path = prefix.to_vec();
        path.push(sub.get_name().to_owned());
        out.push(path.clone());
        subcommands(sub, &path, out);
    }
}

#[test]
fn every_subcommand_help_shows_an_example() {
    let mut paths = Vec::new();
    subcommands(&Cli::command(), &[], &mut paths);
    assert!(paths.len() >= 9, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = Test::new().args(&args).run();
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        let example = format!("Example: entra-sim {}", path.join(" "));
        assert!(out.stdout.contains(&example), "{args:?}:\n{}", out.stdout);
    }
}

#[test]
fn completion_scripts_know_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Test::new().args(["completions", shell]).run();
        assert_eq!(out.code, 0, "{shell}: {out:?}");
        for word in ["cycle", "validate", "provision-on-demand"] {
            assert!(out.stdout.contains(word), "{shell} script lacks {word}");
        }
    }
    let out = Test::new().args(["completions", "tcsh"]).run();
    assert_eq!(out.code, 3, "{out:?}");
}
