//! Maps key paths such as `users.attributes[3].source` to the line:column of the key and of the
//! value, by walking yaml-rust2's marked events once.
//!
//! Paths join mapping keys with `.` and sequence indexes with `[i]`; the root is the empty path.

use std::collections::{HashMap, HashSet};

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::Location;

/// Key and value locations of the paths of one YAML document.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    values: HashMap<String, Location>,
    keys: HashMap<String, Location>,
    quoted: HashSet<String>,
}

impl Locator {
    /// Records every path of `text`; for small files (mappings, jobs).
    pub fn new(text: &str) -> Locator {
        Self::build(text, None)
    }

    /// Records only `paths` (and their ancestors, used as a fallback), so that locating a few
    /// errors in a huge file keeps little memory.
    pub fn for_paths<'a>(text: &str, paths: impl IntoIterator<Item = &'a str>) -> Locator {
        let mut wanted = HashSet::new();
        for path in paths {
            let mut current = path;
            wanted.insert(current.to_owned());
            while let Some(parent) = parent_path(current) {
                if !wanted.insert(parent.to_owned()) {
                    break;
                }
                current = parent;
            }
        }
        Self::build(text, Some(&wanted))
    }

    fn build(text: &str, wanted: Option<&HashSet<String>>) -> Locator {
        let mut walker = Walker {
            wanted,
            stack: Vec::new(),
            locator: Locator::default(),
        };
        // The text already passed serde_yaml, so a scan error here can only cut the walk short;
        // whatever was recorded before it is still right. `load` recurses per level: a text too
        // deep for it is not walked (its parse already failed, located, on the depth).
        if super::depth::too_deep(text).is_none() {
            let _ = Parser::new_from_str(text).load(&mut walker, false);
        }
        walker.locator
    }

    /// Where the value of `path` starts; falls back to its key, then to the nearest ancestor,
    /// then to 1:1.
    pub fn value(&self, path: &str) -> Location {
        self.lookup(path, true)
    }

    /// Where the text of the scalar at `path` starts: after the opening quote of a quoted scalar,
    /// at the first content character of a block scalar, else as [`Locator::value`]. (Escapes in
    /// a double-quoted scalar can still shift later columns of its text.)
    pub fn text(&self, path: &str) -> Location {
        let start = self.value(path);
        if self.quoted.contains(path) {
            Location {
                line: start.line,
                column: start.column + 1,
            }
        } else {
            start
        }
    }

    /// Where the key of `path` is; falls back like [`Locator::value`].
    pub fn key(&self, path: &str) -> Location {
        self.lookup(path, false)
    }

    fn lookup(&self, path: &str, value_first: bool) -> Location {
        let mut current = Some(path);
        while let Some(p) = current {
            let (first, second) = if value_first {
                (&self.values, &self.keys)
            } else {
                (&self.keys, &self.values)
            };
            if let Some(loc) = first.get(p).or_else(|| second.get(p)) {
                return *loc;
            }
            current = parent_path(p);
        }
        Location { line: 1, column: 1 }
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → `` → none.
fn parent_path(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    path.get(..cut)
}

enum Frame {
    Map {
        path: String,
        key: Option<String>,
        is_key: bool,
        fresh: bool,
    },
    Seq {
        path: String,
        index: usize,
        is_key: bool,
    },
}

struct Walker<'w> {
    wanted: Option<&'w HashSet<String>>,
    stack: Vec<Frame>,
    locator: Locator,
}

fn is_key_frame(frame: &Frame) -> bool {
    match frame {
        Frame::Map { is_key, .. } | Frame::Seq { is_key, .. } => *is_key,
    }
}

/// What the next node is, given the frame on top of the stack.
enum Role {
    Key,
    Value(String),
}

fn location(mark: Marker) -> Location {
    // yaml-rust2 lines are 1-based, columns 0-based.
    Location {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl Walker<'_> {
    fn role(&self) -> Role {
        match self.stack.last() {
            None => Role::Value(String::new()),
            Some(Frame::Map { key: None, .. }) => Role::Key,
            Some(Frame::Map {
                path, key: Some(k), ..
            }) => Role::Value(join_key(path, k)),
            Some(Frame::Seq { path, index, .. }) => Role::Value(format!("{path}[{index}]")),
        }
    }

    fn wants(&self, path: &str) -> bool {
        self.wanted.is_none_or(|w| w.contains(path))
    }

    fn record_value(&mut self, path: &str, mark: Marker) {
        if self.wants(path) {
            self.locator.values.insert(path.to_owned(), location(mark));
        }
    }

    /// A value node finished: the enclosing map expects a key next, a sequence its next item.
    fn advance(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }

    /// A key node finished; complex (non-scalar) keys are named `?`.
    fn set_key(&mut self, name: String, mark: Marker) {
        let (map_path, first) = match self.stack.last() {
            Some(Frame::Map { path, fresh, .. }) => (path.clone(), *fresh),
            _ => return,
        };
        // A block mapping's start event is marked after its first key; its first key is where
        // a reader sees the mapping begin.
        if first && self.wants(&map_path) && !self.stack.last().is_some_and(is_key_frame) {
            self.locator.values.insert(map_path.clone(), location(mark));
        }
        let path = join_key(&map_path, &name);
        if self.wants(&path) {
            self.locator.keys.insert(path, location(mark));
        }
        if let Some(Frame::Map { key, fresh, .. }) = self.stack.last_mut() {
            *key = Some(name);
            *fresh = false;
        }
    }

    fn start_collection(&mut self, mark: Marker, is_map: bool) {
        let (path, is_key) = match self.role() {
            Role::Key => (String::from("?"), true),
            Role::Value(path) => {
                self.record_value(&path, mark);
                (path, false)
            }
        };
        self.stack.push(if is_map {
            Frame::Map {
                path,
                key: None,
                is_key,
                fresh: true,
            }
        } else {
            Frame::Seq {
                path,
                index: 0,
                is_key,
            }
        });
    }

    fn end_collection(&mut self, mark: Marker) {
        let was_key = match self.stack.pop() {
            Some(Frame::Map { is_key, .. } | Frame::Seq { is_key, .. }) => is_key,
            None => false,
        };
        if was_key {
            self.set_key(String::from("?"), mark)
        } else {
            self.advance()
        }
    }
}

impl MarkedEventReceiver for Walker<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, style, ..) => match self.role() {
                Role::Key => self.set_key(text, mark),
                Role::Value(path) => {
                    if matches!(
                        style,
                        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
                    ) && self.wants(&path)
                    {
                        self.locator.quoted.insert(path.clone());
                    }
                    self.record_value(&path, mark);
                    self.advance();
                }
            },
            Event::Alias(_) => match self.role() {
                Role::Key => self.set_key(String::from("?"), mark),
                Role::Value(path) => {
                    self.record_value(&path, mark);
                    self.advance();
                }
            },
            Event::MappingStart(..) => self.start_collection(mark, true),
            Event::SequenceStart(..) => self.start_collection(mark, false),
            Event::MappingEnd | Event::SequenceEnd => self.end_collection(mark),
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}
