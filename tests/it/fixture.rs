//! A temp dir of fixture files for CLI tests; [`Fixture::test`] runs the binary in it.

use std::path::{Path, PathBuf};

use crate::support::Test;

/// A temp dir holding fixture files; removed when dropped.
pub struct Fixture {
    dir: tempfile::TempDir,
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

    /// A run of the binary in the fixture dir.
    pub fn test(&self) -> Test {
        Test::new().current_dir(self.dir.path())
    }
}
