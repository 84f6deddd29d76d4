//! The one place that talks to the YAML crates: typed parsing of a file's text with located errors,
//! a locator that maps key paths (`users.attributes[3].source`) to line:column, and the located
//! problem type every input file reports with.
//!
//! serde_yaml turns text into typed structs and reports the first structural error with its
//! location; yaml-rust2's marked event parser gives the locations needed for semantic errors found
//! after deserialisation. Swapping either crate touches this module only.

mod depth;
mod locator;
mod raw;

pub use locator::Locator;
pub use raw::RawValue;

use std::fmt;

/// A 1-based line and column in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One problem in one input file, printed as `file:line:column: field: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problem {
    /// The file as the user named it (or as resolved relative to the job file).
    pub file: String,
    /// Where in the file.
    pub location: Location,
    /// The key path of the offending field, e.g. `users.attributes[3].source`; empty for
    /// problems of the document as a whole (malformed YAML).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.location)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in one or more files; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// A file read as far as it goes: what could be built from its valid parts, and every problem
/// found. Validation reports all problems; the rest of the program only takes a clean value.
#[derive(Debug, Clone)]
pub struct Checked<T> {
    /// What was built; `None` when the file's shape is unusable (malformed YAML, a missing
    /// required section). When `problems` is not empty it holds only the parts that were valid.
    pub value: Option<T>,
    /// Every problem, located.
    pub problems: Problems,
}

impl<T> Checked<T> {
    /// A file whose shape could not be read at all.
    pub fn unusable(problem: Problem) -> Self {
        Checked {
            value: None,
            problems: Problems(vec![problem]),
        }
    }

    /// A file read whole (the value) or not at all (every problem).
    pub fn from_result(result: Result<T, Problems>) -> Self {
        match result {
            Ok(value) => Checked {
                value: Some(value),
                problems: Problems::default(),
            },
            Err(problems) => Checked {
                value: None,
                problems,
            },
        }
    }

    /// The value if the file has no problem, else every problem.
    pub fn into_result(self) -> Result<T, Problems> {
        match self.value {
            Some(value) if self.problems.0.is_empty() => Ok(value),
            _ => Err(self.problems),
        }
    }
}

/// A file's bytes as its text. Bytes that are not UTF-8 are a problem of the file at the first
/// bad byte, its column counted in characters as every [`Location`] is (issue 18 item 11: it
/// was reported at the job's line naming the file).
pub fn text_of(file: &str, bytes: Vec<u8>) -> Result<String, Problem> {
    String::from_utf8(bytes).map_err(|err| {
        let at = err.utf8_error().valid_up_to();
        let bytes = err.as_bytes();
        let valid = bytes
            .get(..at)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default();
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        let byte = bytes.get(at).copied().unwrap_or_default();
        let message = match err.utf8_error().error_len() {
            Some(_) => format!("the file is not UTF-8: invalid byte 0x{byte:02X}"),
            None => {
                format!("the file is not UTF-8: it ends inside a character (byte 0x{byte:02X})")
            }
        };
        Problem {
            file: file.to_owned(),
            location: Location {
                line: valid.matches('\n').count() + 1,
                column: valid.get(line_start..).unwrap_or_default().chars().count() + 1,
            },
            field: String::new(),
            message,
        }
    })
}

/// A problem found after deserialisation, known by key path until the locator places it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Key path of the field.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// Point at the key rather than the value (for unknown or misplaced keys).
    pub at_key: bool,
}

impl Pending {
    /// A problem with the value at `field`.
    pub fn value(field: impl Into<String>, message: impl Into<String>) -> Self {
        Pending {
            field: field.into(),
            message: message.into(),
            at_key: false,
        }
    }

    /// A problem with the key `field` itself.
    pub fn key(field: impl Into<String>, message: impl Into<String>) -> Self {
        Pending {
            field: field.into(),
            message: message.into(),
            at_key: true,
        }
    }
}

/// Places pending problems in `text`, building a locator for just the paths they name (so a
/// million-user file is only walked when something is wrong, and nothing big is kept).
pub fn place(file: &str, text: &str, pending: Vec<Pending>) -> Problems {
    if pending.is_empty() {
        return Problems::default();
    }
    let locator = Locator::for_paths(text, pending.iter().map(|p| p.field.as_str()));
    place_with(file, &locator, pending)
}

/// Places pending problems with an existing locator.
pub fn place_with(file: &str, locator: &Locator, pending: Vec<Pending>) -> Problems {
    let mut problems: Vec<Problem> = pending
        .into_iter()
        .map(|p| {
            let location = if p.at_key {
                locator.key(&p.field)
            } else {
                locator.value(&p.field)
            };
            Problem {
                file: file.to_owned(),
                location,
                field: p.field,
                message: p.message,
            }
        })
        .collect();
    problems.sort_by_key(|p| p.location);
    Problems(problems)
}

/// Deserialises `text` into `T`, turning a serde_yaml error (malformed YAML, unknown field, wrong
/// type) into a located [`Problem`].
pub fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, Problem> {
    if let Some(location) = depth::too_deep(text) {
        return Err(Problem {
            file: file.to_owned(),
            location,
            field: String::new(),
            message: format!(
                "collections nest deeper than {} levels here; no job, mapping or directory needs that many",
                depth::MAX_DEPTH
            ),
        });
    }
    serde_yaml::from_str(text).map_err(|err| serde_problem(file, &err))
}

fn serde_problem(file: &str, err: &serde_yaml::Error) -> Problem {
    let location = err
        .location()
        .map(|l| Location {
            line: l.line(),
            column: l.column(),
        })
        .unwrap_or(Location { line: 1, column: 1 });
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", location.line, location.column);
    let stripped = full.replacen(&suffix, "", 1);
    let text = stripped.as_str();
    // serde_yaml prefixes the key path as `path: `; a path never contains a space, a message does.
    let (field, message) = match text.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') && !path.is_empty() => {
            (path.to_owned(), rest.to_owned())
        }
        _ => (String::new(), text.to_owned()),
    };
    let message = if field.is_empty() && message.contains("while parsing") {
        format!("malformed YAML: {message}")
    } else {
        message
    };
    Problem {
        file: file.to_owned(),
        location,
        field,
        message,
    }
}

/// The closest candidate to a misspelt name, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting an adjacent transposition as one edit (optimal string alignment), so
/// `mial` is one edit from `mail`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            let value = if i == 0 || j == 0 {
                i + j
            } else {
                let get = |i: usize, j: usize| d.get(at(i, j)).copied().unwrap_or(usize::MAX - 1);
                let same = a.get(i - 1) == b.get(j - 1);
                let mut best = (get(i - 1, j) + 1)
                    .min(get(i, j - 1) + 1)
                    .min(get(i - 1, j - 1) + usize::from(!same));
                if i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1) {
                    best = best.min(get(i - 2, j - 2) + 1);
                }
                best
            };
            if let Some(slot) = d.get_mut(at(i, j)) {
                *slot = value;
            }
        }
    }
    d.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests;
