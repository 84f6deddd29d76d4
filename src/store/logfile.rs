//! The provisioning log as an append-only JSON-lines file (`logs.jsonl` in the state directory):
//! one record per line, buffered, and made durable by [`LogFile::sync`] in the store's commit.
//! Records are only ever appended, so a file beats a tree of keys: a cycle's records are written
//! once, where sled rewrote its pages several times over (see BENCHMARKS.md, section "History:
//! the second session's figures").
//!
//! A crash can leave the last line half-written; opening the file cuts it off (the record was
//! never committed), so later appends start on a fresh line.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The log file, open for appending.
pub struct LogFile {
    path: PathBuf,
    writer: BufWriter<File>,
}

/// Buffered bytes before a write reaches the file (one commit's records usually fit).
const BUFFER_BYTES: usize = 1 << 20;

impl LogFile {
    /// Opens (creating if needed) the log file, dropping a torn last line.
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let complete = complete_len(&mut file)?;
        if complete < file.metadata()?.len() {
            file.set_len(complete)?;
            file.sync_data()?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            writer: BufWriter::with_capacity(BUFFER_BYTES, file),
        })
    }

    /// Appends records: JSON documents, each followed by a newline.
    pub fn append(&mut self, lines: &[u8]) -> io::Result<()> {
        self.writer.write_all(lines)
    }

    /// Writes out the buffer and waits until the file's data is on disk.
    pub fn sync(&mut self) -> io::Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().sync_data()
    }

    /// Drops the records before byte `offset` (the start of a line): the rest is copied to a
    /// new file, made durable, and put in place of this one by a rename, so a crash leaves
    /// either the old log or the new one, whole.
    pub fn keep_from(&mut self, offset: u64) -> io::Result<()> {
        self.writer.flush()?;
        let next = self.path.with_extension("jsonl.next");
        {
            let mut from = File::open(&self.path)?;
            from.seek(SeekFrom::Start(offset))?;
            let mut to = File::create(&next)?;
            io::copy(&mut from, &mut to)?;
            to.sync_all()?;
        }
        std::fs::rename(&next, &self.path)?;
        #[cfg(unix)]
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        *self = Self::open(&self.path)?;
        Ok(())
    }

    /// A reader over every record written so far (buffered ones included), oldest first, one
    /// per line.
    pub fn reader(&mut self) -> io::Result<BufReader<File>> {
        self.writer.flush()?;
        Ok(BufReader::new(File::open(&self.path)?))
    }
}

/// The length of the file up to and including its last newline.
fn complete_len(file: &mut File) -> io::Result<u64> {
    let len = file.metadata()?.len();
    let mut end = len;
    let mut chunk = [0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let size = usize::try_from(end - start).unwrap_or(chunk.len());
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk[..size])?;
        if let Some(i) = chunk[..size].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    fn records(log: &mut LogFile) -> Vec<String> {
        log.reader()
            .unwrap()
            .lines()
            .map(Result::unwrap)
            .filter(|l| !l.is_empty())
            .collect()
    }

    #[test]
    fn records_come_back_in_order_and_a_torn_line_is_dropped_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs.jsonl");
        let mut log = LogFile::open(&path).unwrap();
        log.append(b"{\"n\":1}\n{\"n\":2}\n").unwrap();
        // Visible before a sync (read-your-writes), and after it.
        assert_eq!(records(&mut log).len(), 2);
        log.sync().unwrap();
        drop(log);
        // A crash in the middle of the third record.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"n":"#).unwrap();
        drop(f);
        let mut log = LogFile::open(&path).unwrap();
        log.append(b"{\"n\":3}\n").unwrap();
        assert_eq!(
            records(&mut log),
            [r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":3}"#]
        );
    }

    #[test]
    fn a_file_without_any_newline_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs.jsonl");
        std::fs::write(&path, b"{\"torn").unwrap();
        let mut log = LogFile::open(&path).unwrap();
        assert!(records(&mut log).is_empty());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    }
}
