//! The loosely typed shape a directory file is first read into: each user or group is a list of
//! `(key, value)` pairs, so unknown keys, directory extensions and wrong value types become
//! collected, located problems instead of serde's first-error-only failure. A streaming visitor
//! keeps a million-user file linear.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};

use crate::yaml::RawValue;

/// The top level of a directory file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DirectoryFile {
    #[serde(default)]
    pub users: Vec<RawEntry>,
    #[serde(default)]
    pub groups: Vec<RawEntry>,
}

/// One user or group: its keys in file order.
#[derive(Debug, Default)]
pub(super) struct RawEntry(pub Vec<(String, RawValue)>);

impl<'de> serde::Deserialize<'de> for RawEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = RawEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping of attribute names to values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawEntry, A::Error> {
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some((key, value)) = map.next_entry::<String, RawValue>()? {
            pairs.push((key, value));
        }
        Ok(RawEntry(pairs))
    }
}
