//! Line-level deltas for JSON-lines directories. After a cycle that ended clean, the engine keeps
//! a [`SourceIndex`]: for every user line, the hash of its bytes, the user's objectId and UPN, its
//! manager, a digest of its app assignment and the target id of its connection; the groups'
//! objectIds; and the objects Entra still holds a connection for that are no longer in the source. The next cycle hashes each line
//! ([`super::Directory::parse_delta`]) and parses only the lines the index does not know; the
//! others stay *ghosts*: known by id and UPN (so references to them resolve), never materialised.
//! A user whose line is unchanged has the fingerprint it had in that clean cycle unless its
//! assignment changed — and then [`super::Directory::read_ghosts`] reads its line after all.
//! Every group line is always read (a group's membership decides its members' assignments).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::expr::AppRole;
use crate::hash;

use super::{MemberKind, MemberRef};

/// What a clean cycle leaves for the next one to read only the lines that changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceIndex {
    /// The compiled mapping's fingerprint it was made under (another mapping needs every line).
    pub mapping: String,
    /// Every user line.
    pub users: Vec<IndexedUser>,
    /// Every group's objectId.
    pub groups: Vec<String>,
    /// Objects with a connection that were not in the source (deleted with the Delete action
    /// off): each cycle handles them again, as a full cycle would.
    pub orphans: Vec<MemberRef>,
}

/// One user line of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedUser {
    /// The hash of the line's bytes.
    pub line: u128,
    /// The objectId.
    pub object_id: String,
    /// The userPrincipalName as written.
    pub upn: String,
    /// The manager, as a position in [`SourceIndex::users`].
    pub manager: Option<u32>,
    /// [`assignment_digest`] of the user's assignment.
    pub assignment: u64,
    /// The manager is written as a UPN: what it resolves to depends on other lines, so the line
    /// is read every cycle.
    pub reread: bool,
    /// The target id of the user's connection, if it has one. A user whose line is not read is
    /// not processed, so its connection is still this one: the cycle takes it from here when a
    /// group's members or a manager reference name the user, instead of reading the store.
    pub target: Option<String>,
    /// The 64-bit lookup keys of the objectId and of the lower-cased UPN, kept so that loading
    /// the index hashes nothing.
    pub keys: (u64, u64),
}

/// The lookup keys of a user: of its objectId and of its lower-cased UPN.
pub(super) fn keys_of(object_id: &str, upn: &str) -> (u64, u64) {
    (key_of(object_id), key_of(&upn.to_lowercase()))
}

/// A digest of an assignment: assigned, and the roles in order
/// (`AssignmentIndex::user_parts`).
pub fn assignment_digest((assigned, roles): (bool, &[AppRole])) -> u64 {
    let mut lanes = hash::Lanes::default();
    lanes.part(if assigned { b"in" } else { b"out" });
    for role in roles {
        lanes.part(role.id.as_bytes());
        lanes.part(role.value.as_bytes());
        lanes.part(role.display_name.as_bytes());
    }
    short(lanes.finish())
}

fn short(h: u128) -> u64 {
    // Truncation is the point: 64 bits of a 128-bit hash.
    #[allow(clippy::cast_possible_truncation)]
    let low = h as u64;
    low
}

/// The 64-bit key of a string in the ghost lookups.
pub(super) fn key_of(text: &str) -> u64 {
    short(hash::of(text.as_bytes()))
}

/// The hash of one directory line (without its line break).
pub(super) fn line_hash(line: &str) -> u128 {
    hash::of(line.trim_end_matches(['\n', '\r']).as_bytes())
}

/// Where a line is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LineAt {
    /// Its hash.
    pub hash: u128,
    /// 1-based line number.
    pub number: usize,
    /// Byte offset of its start.
    pub offset: usize,
}

/// A user's line and whether its manager is written as a UPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct UserLine {
    /// The line.
    pub at: LineAt,
    /// See [`IndexedUser::reread`].
    pub reread: bool,
}

/// Keys that are hashes already: used as they are.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }

    fn write_u128(&mut self, n: u128) {
        self.0 ^= short(n) ^ short(n >> 64);
    }
}

type Table<K> = HashMap<K, u32, BuildHasherDefault<Prehashed>>;

/// The users of a [`SourceIndex`] whose lines are unchanged: found by objectId, UPN or line hash.
#[derive(Debug, Clone, Default)]
pub(super) struct Ghosts {
    pub index: SourceIndex,
    /// Key of objectId → position.
    ids: Table<u64>,
    /// Key of lower-cased UPN → position.
    upns: Table<u64>,
    /// Line hash → position.
    lines: Table<u128>,
    /// Two entries shared a key: the index cannot answer by key, so every line is read.
    pub doubtful: bool,
    /// Where each indexed user's unchanged line is now; `None`: changed, gone or read.
    pub at: Vec<Option<LineAt>>,
}

impl Ghosts {
    pub fn new(index: SourceIndex) -> Ghosts {
        let n = index.users.len();
        let mut ghosts = Ghosts {
            ids: Table::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            upns: Table::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            lines: Table::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            doubtful: false,
            at: vec![None; n],
            index: SourceIndex::default(),
        };
        for (user, i) in index.users.iter().zip(0u32..) {
            let (id, upn) = user.keys;
            let clash = ghosts.ids.insert(id, i).is_some()
                | ghosts.upns.insert(upn, i).is_some()
                | ghosts.lines.insert(user.line, i).is_some();
            ghosts.doubtful |= clash;
        }
        ghosts.index = index;
        ghosts
    }

    /// The indexed user whose line has this hash, if not yet placed.
    pub fn unplaced_line(&self, hash: u128) -> Option<u32> {
        let i = *self.lines.get(&hash)?;
        self.at.get(i as usize)?.is_none().then_some(i)
    }

    /// The ghost (a user whose line is unchanged and unread) with this objectId.
    pub fn find_id(&self, object_id: &str) -> Option<u32> {
        self.lookup(&self.ids, object_id, |u| u.object_id == object_id)
    }

    /// The ghost with this userPrincipalName (case-insensitive).
    pub fn find_upn(&self, upn: &str) -> Option<u32> {
        let lower = upn.to_lowercase();
        self.lookup(&self.upns, &lower, |u| u.upn.to_lowercase() == lower)
    }

    fn lookup(
        &self,
        table: &Table<u64>,
        key: &str,
        is: impl Fn(&IndexedUser) -> bool,
    ) -> Option<u32> {
        let i = *table.get(&key_of(key))?;
        let placed = self.at.get(i as usize)?.is_some();
        (placed && is(self.user(i))).then_some(i)
    }

    /// The objectId of the indexed user at a position.
    pub fn id(&self, i: u32) -> &str {
        &self.user(i).object_id
    }

    /// The indexed user at a position.
    pub fn user(&self, i: u32) -> &IndexedUser {
        &self.index.users[i as usize]
    }

    /// The ghosts: positions and lines.
    pub fn present(&self) -> impl Iterator<Item = (u32, LineAt)> + '_ {
        (0u32..)
            .zip(&self.at)
            .filter_map(|(i, at)| at.map(|at| (i, at)))
    }
}

const MAGIC: &[u8] = b"entra-sim source index 3\n";

/// One user of an index being written, borrowed from wherever it is (a read user, a ghost).
#[derive(Debug, Clone, Copy)]
pub(super) struct Row<'a> {
    /// Where the line is now (rows are written in file order).
    pub number: usize,
    /// See [`IndexedUser`].
    pub line: u128,
    pub object_id: &'a str,
    pub upn: &'a str,
    /// The manager's objectId.
    pub manager: Option<&'a str>,
    pub assignment: u64,
    pub reread: bool,
    pub target: Option<&'a str>,
    pub keys: (u64, u64),
}

/// The bytes of an index of `rows` (sorted here into file order) — what
/// [`SourceIndex::decode`] reads; a checksum at the end, so a torn write is never read as an
/// index.
pub(super) fn encode_rows<'a>(
    mapping: &str,
    rows: &mut [Row<'a>],
    groups: impl ExactSizeIterator<Item = &'a str>,
    orphans: &[MemberRef],
) -> Vec<u8> {
    rows.sort_unstable_by_key(|r| r.number);
    // objectId → position, keyed by the kept key (checked against the row on lookup).
    let mut position: Table<u64> =
        Table::with_capacity_and_hasher(rows.len(), BuildHasherDefault::default());
    let mut doubtful = false;
    for (row, i) in rows.iter().zip(0u32..) {
        doubtful |= position.insert(row.keys.0, i).is_some();
    }
    let position_of = |id: &str| {
        if doubtful {
            return rows
                .iter()
                .position(|r| r.object_id == id)
                .and_then(|p| u32::try_from(p).ok());
        }
        position
            .get(&key_of(id))
            .copied()
            .filter(|&p| rows.get(p as usize).is_some_and(|r| r.object_id == id))
    };
    let mut out = Vec::with_capacity(64 + rows.len() * 140);
    out.extend_from_slice(MAGIC);
    put_str(&mut out, mapping);
    put_len(&mut out, rows.len());
    for row in rows.iter() {
        out.extend_from_slice(&row.line.to_le_bytes());
        put_str(&mut out, row.object_id);
        put_str(&mut out, row.upn);
        let manager = row.manager.and_then(position_of);
        out.extend_from_slice(&manager.unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&row.assignment.to_le_bytes());
        out.extend_from_slice(&row.keys.0.to_le_bytes());
        out.extend_from_slice(&row.keys.1.to_le_bytes());
        out.push(u8::from(row.reread));
        match row.target {
            Some(target) => {
                out.push(1);
                put_str(&mut out, target);
            }
            None => out.push(0),
        }
    }
    put_len(&mut out, groups.len());
    for group in groups {
        put_str(&mut out, group);
    }
    put_len(&mut out, orphans.len());
    for orphan in orphans {
        out.push(match orphan.kind {
            MemberKind::User => 0,
            MemberKind::Group => 1,
        });
        put_str(&mut out, &orphan.object_id);
    }
    let sum = hash::of(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

impl SourceIndex {
    /// Reads the bytes a cycle wrote (`Directory::source_index`); `None` for anything else
    /// (another version, a torn or corrupted file).
    pub fn decode(bytes: &[u8]) -> Option<SourceIndex> {
        let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(16)?)?;
        if hash::of(body).to_le_bytes() != sum {
            return None;
        }
        let mut r = Reader(body.strip_prefix(MAGIC)?);
        let mapping = r.string()?;
        let n = r.len()?;
        let mut users = Vec::with_capacity(n.min(body.len() / 40));
        for _ in 0..n {
            let line = u128::from_le_bytes(r.array()?);
            let object_id = r.string()?;
            let upn = r.string()?;
            let manager = match u32::from_le_bytes(r.array()?) {
                u32::MAX => None,
                m => Some(m),
            };
            let assignment = u64::from_le_bytes(r.array()?);
            let keys = (
                u64::from_le_bytes(r.array()?),
                u64::from_le_bytes(r.array()?),
            );
            let reread = r.array::<1>()?[0] != 0;
            let target = match r.array::<1>()?[0] {
                0 => None,
                1 => Some(r.string()?),
                _ => return None,
            };
            users.push(IndexedUser {
                line,
                object_id,
                upn,
                manager,
                assignment,
                reread,
                target,
                keys,
            });
        }
        let n = r.len()?;
        let mut groups = Vec::with_capacity(n.min(body.len() / 4));
        for _ in 0..n {
            groups.push(r.string()?);
        }
        let n = r.len()?;
        let mut orphans = Vec::with_capacity(n.min(body.len() / 5));
        for _ in 0..n {
            let kind = match r.array::<1>()?[0] {
                0 => MemberKind::User,
                1 => MemberKind::Group,
                _ => return None,
            };
            orphans.push(MemberRef {
                object_id: r.string()?,
                kind,
            });
        }
        let count = users.len();
        if !r.0.is_empty()
            || users
                .iter()
                .any(|u| u.manager.is_some_and(|m| m as usize >= count))
        {
            return None;
        }
        Some(SourceIndex {
            mapping,
            users,
            groups,
            orphans,
        })
    }
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u64::try_from(n).unwrap_or(u64::MAX).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(u64::from_le_bytes(self.array()?)).ok()
    }

    fn string(&mut self) -> Option<String> {
        let n = self.len()?;
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        String::from_utf8(head.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index's bytes, as a cycle writes them.
    fn encode(index: &SourceIndex) -> Vec<u8> {
        let mut rows: Vec<Row<'_>> = index
            .users
            .iter()
            .enumerate()
            .map(|(number, u)| Row {
                number,
                line: u.line,
                object_id: &u.object_id,
                upn: &u.upn,
                manager: u
                    .manager
                    .and_then(|m| index.users.get(m as usize))
                    .map(|m| m.object_id.as_str()),
                assignment: u.assignment,
                reread: u.reread,
                target: u.target.as_deref(),
                keys: u.keys,
            })
            .collect();
        encode_rows(
            &index.mapping,
            &mut rows,
            index.groups.iter().map(String::as_str),
            &index.orphans,
        )
    }

    fn sample() -> SourceIndex {
        SourceIndex {
            mapping: "m1".into(),
            users: vec![
                IndexedUser {
                    line: 7,
                    object_id: "u1".into(),
                    upn: "Ann@Contoso.com".into(),
                    manager: None,
                    assignment: 3,
                    reread: false,
                    target: Some("t1".into()),
                    keys: keys_of("u1", "Ann@Contoso.com"),
                },
                IndexedUser {
                    line: u128::MAX,
                    object_id: "u2".into(),
                    upn: "bo@contoso.com".into(),
                    manager: Some(0),
                    assignment: 4,
                    reread: true,
                    target: None,
                    keys: keys_of("u2", "bo@contoso.com"),
                },
            ],
            groups: vec!["g1".into()],
            orphans: vec![MemberRef {
                object_id: "gone".into(),
                kind: MemberKind::Group,
            }],
        }
    }

    #[test]
    fn round_trips_and_rejects_torn_or_corrupted_bytes() {
        let index = sample();
        let bytes = encode(&index);
        assert_eq!(SourceIndex::decode(&bytes), Some(index));
        for cut in [0, 1, MAGIC.len(), bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(SourceIndex::decode(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[MAGIC.len() + 3] ^= 1;
        assert_eq!(SourceIndex::decode(&flipped), None);
    }

    #[test]
    fn ghosts_are_found_by_id_or_upn_only_once_placed() {
        let mut ghosts = Ghosts::new(sample());
        assert_eq!(
            ghosts.find_id("u1"),
            None,
            "not placed: its line is not in the file"
        );
        let at = LineAt {
            hash: 7,
            number: 1,
            offset: 0,
        };
        assert_eq!(ghosts.unplaced_line(7), Some(0));
        ghosts.at[0] = Some(at);
        assert_eq!(ghosts.unplaced_line(7), None, "each line places one user");
        assert_eq!(ghosts.find_id("u1"), Some(0));
        assert_eq!(ghosts.find_upn("ann@contoso.COM"), Some(0));
        assert_eq!(ghosts.find_id("ann@contoso.com"), None);
        assert_eq!(ghosts.find_id("u2"), None);
        assert_eq!(ghosts.present().collect::<Vec<_>>(), [(0, at)]);
    }
}
