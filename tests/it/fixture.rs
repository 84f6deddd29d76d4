//! A small builder for CLI tests: fixture files in a temp dir, the built binary run against them,
//! and its exit code, stdout and stderr.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A temp dir holding fixture files; removed when dropped.
pub struct Fixture {
    dir: tempfile::TempDir,
}

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The fixture dir.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` (relative to the fixture dir) and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs the binary in the fixture dir.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.dir.path(), args)
    }
}

/// Runs the binary in the crate root.
pub fn run(args: &[&str]) -> Run {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_entra-sim"))
        .args(args)
        .current_dir(dir)
        .env_remove("ENTRA_SIM_TOKEN")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}
