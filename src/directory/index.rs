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
use std::io::{self, Write};

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
    /// The lookup keys of the objectId (its 128-bit hash: a ghost is found by it, as a line is
    /// known by its hash) and of the lower-cased UPN (64 bits, checked against the UPN), kept so
    /// that loading the index hashes nothing.
    pub keys: (u128, u64),
}

/// The lookup keys of a user: of its objectId and of its lower-cased UPN.
pub(super) fn keys_of(object_id: &str, upn: &str) -> (u128, u64) {
    (hash::of(object_id.as_bytes()), key_of(&upn.to_lowercase()))
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

type Table<K> = HashMap<K, u32, BuildHasherDefault<hash::Prehashed>>;

/// A [`SourceIndex`] with its lookups built (on whichever thread decoded it): what
/// [`super::Directory::parse_delta`] reads.
#[derive(Debug, Clone)]
pub struct LineIndex(pub(super) Box<Ghosts>);

impl From<SourceIndex> for LineIndex {
    fn from(index: SourceIndex) -> Self {
        LineIndex(Box::new(Ghosts::new(index)))
    }
}

impl LineIndex {
    /// The compiled mapping's fingerprint the index was made under.
    pub fn mapping(&self) -> &str {
        &self.0.index.mapping
    }
}

/// The users of a [`SourceIndex`] whose lines are unchanged: found by objectId, UPN or line hash.
#[derive(Debug, Clone, Default)]
pub(super) struct Ghosts {
    pub index: SourceIndex,
    /// Hash of objectId → position.
    ids: Table<u128>,
    /// Key of lower-cased UPN → position.
    upns: Table<u64>,
    /// Line hash → position.
    lines: Table<u128>,
    /// Two entries shared a key: the index cannot answer by key, so every line is read.
    pub doubtful: bool,
    /// Where each indexed user's unchanged line is now (its hash is the indexed one); meaningful
    /// where `placed`.
    at: Vec<Place>,
    /// Whether each indexed user is a ghost, packed: the lookups check it for a million
    /// references a cycle.
    placed: Vec<bool>,
    /// The key of each indexed user's target id (0 without one): a group's member sets bucket
    /// by these (see [`hash::Keyed`]).
    target_keys: Vec<u64>,
}

impl Ghosts {
    pub fn new(index: SourceIndex) -> Ghosts {
        let n = index.users.len();
        let mut ghosts = Ghosts {
            ids: Table::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            upns: Table::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            lines: Table::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            doubtful: false,
            at: vec![Place::default(); n],
            placed: vec![false; n],
            target_keys: index
                .users
                .iter()
                .map(|u| u.target.as_deref().map_or(0, hash::Keyed::key_of))
                .collect(),
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

    /// The indexed user whose line has this hash.
    pub fn indexed_line(&self, hash: u128) -> Option<u32> {
        self.lines.get(&hash).copied()
    }

    /// Where the indexed user at a position is now: `Some` makes it a ghost (its line is
    /// unchanged and unread), `None` not (changed, gone or read).
    pub fn place(&mut self, i: u32, at: Option<LineAt>) {
        if let (Some(slot), Some(placed)) =
            (self.at.get_mut(i as usize), self.placed.get_mut(i as usize))
        {
            *slot = at.map(Place::of).unwrap_or_default();
            *placed = at.is_some();
        }
    }

    /// How many users the index has.
    pub fn len(&self) -> usize {
        self.index.users.len()
    }

    /// Where the indexed user at a position is now, if a ghost.
    pub fn line_at(&self, i: u32) -> Option<LineAt> {
        let place = self.at.get(i as usize).filter(|_| self.is_placed(i))?;
        Some(place.line(self.user(i).line))
    }

    /// Whether the indexed user at a position is a ghost.
    pub fn is_placed(&self, i: u32) -> bool {
        self.placed.get(i as usize).copied().unwrap_or(false)
    }

    /// The ghost (a user whose line is unchanged and unread) with this objectId.
    pub fn find_id(&self, object_id: &str) -> Option<u32> {
        let i = *self.ids.get(&hash::of(object_id.as_bytes()))?;
        self.is_placed(i).then_some(i)
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
        (self.is_placed(i) && is(self.user(i))).then_some(i)
    }

    /// The target id of the indexed user at a position, with its key.
    pub fn target(&self, i: u32) -> Option<hash::Keyed<'_>> {
        let text = self.user(i).target.as_deref()?;
        let key = *self.target_keys.get(i as usize)?;
        Some(hash::Keyed { key, text })
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
            .zip(&self.placed)
            .filter(|(_, placed)| **placed)
            .filter_map(|(i, _)| Some((i, self.line_at(i)?)))
    }
}

/// A [`LineAt`] without its hash (a ghost's is the indexed one): a third of the size, for a
/// million users.
#[derive(Debug, Clone, Copy, Default)]
struct Place {
    offset: u64,
    number: u32,
}

impl Place {
    fn of(at: LineAt) -> Place {
        Place {
            offset: at.offset as u64,
            number: u32::try_from(at.number).unwrap_or(u32::MAX),
        }
    }

    fn line(self, hash: u128) -> LineAt {
        LineAt {
            hash,
            number: self.number as usize,
            offset: usize::try_from(self.offset).unwrap_or(usize::MAX),
        }
    }
}

const MAGIC: &[u8] = b"entra-sim source index 4\n";

/// One user of an index being written, borrowed from wherever it is (a read user, a ghost).
#[derive(Debug, Clone, Copy)]
pub(super) struct Row<'a> {
    /// Where the line is now (rows are written in file order).
    pub number: usize,
    /// See [`IndexedUser`].
    pub line: u128,
    pub object_id: &'a str,
    pub upn: &'a str,
    pub manager: Option<Manager<'a>>,
    pub assignment: u64,
    pub reread: bool,
    pub target: Option<&'a str>,
    pub keys: (u128, u64),
    /// For an unread user, its position in the last index.
    pub ghost: Option<u32>,
}

/// A user's manager, as a [`Row`] knows it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Manager<'a> {
    /// By objectId (a read user's).
    Id(&'a str),
    /// By position in the last index (an unread user's).
    Indexed(u32),
}

/// Writes the bytes of an index of `rows` (sorted here into file order) to `to` — what
/// [`SourceIndex::decode`] reads; a checksum at the end, so a torn write is never read as an
/// index. `last` is the index the unread users' rows come from.
pub(super) fn encode_rows<'a>(
    mapping: &str,
    rows: &mut [Row<'a>],
    groups: impl ExactSizeIterator<Item = &'a str>,
    orphans: &[MemberRef],
    last: Option<&Ghosts>,
    to: &mut dyn Write,
) -> io::Result<()> {
    // Read users and unread ones each come in file order: a stable sort merges the two runs.
    rows.sort_by_key(|r| r.number);
    let rows: &[Row<'a>] = rows;
    let positions = Positions::new(rows, last);
    // Written in pieces as it is encoded, the checksum computed as they go: a million users'
    // index held whole raised the cycle's peak (see BENCHMARKS.md, section "History: the fifth
    // session's figures").
    let mut out = Pieces {
        buf: Vec::with_capacity(Pieces::SIZE + 4096),
        sum: hash::Running::default(),
        to,
    };
    out.buf.extend_from_slice(MAGIC);
    put_str(&mut out.buf, mapping);
    put_len(&mut out.buf, rows.len());
    for row in rows {
        put_row(&mut out.buf, row, row.manager.and_then(|m| positions.of(m)));
        out.flush_full()?;
    }
    put_len(&mut out.buf, groups.len());
    for group in groups {
        put_str(&mut out.buf, group);
        out.flush_full()?;
    }
    put_len(&mut out.buf, orphans.len());
    for orphan in orphans {
        out.buf.push(match orphan.kind {
            MemberKind::User => 0,
            MemberKind::Group => 1,
        });
        put_str(&mut out.buf, &orphan.object_id);
        out.flush_full()?;
    }
    out.finish()
}

/// One row's bytes, its manager given by position.
fn put_row(buf: &mut Vec<u8>, row: &Row<'_>, manager: Option<u32>) {
    buf.extend_from_slice(&row.line.to_le_bytes());
    put_str(buf, row.object_id);
    put_str(buf, row.upn);
    buf.extend_from_slice(&manager.unwrap_or(u32::MAX).to_le_bytes());
    buf.extend_from_slice(&row.assignment.to_le_bytes());
    buf.extend_from_slice(&row.keys.0.to_le_bytes());
    buf.extend_from_slice(&row.keys.1.to_le_bytes());
    buf.push(u8::from(row.reread));
    match row.target {
        Some(target) => {
            buf.push(1);
            put_str(buf, target);
        }
        None => buf.push(0),
    }
}

/// Managers by position among the rows being written: an unread user's through where its row
/// moved, a read user's by the objectId of a read row (keyed by the kept key, checked against
/// the row) or of an unread one.
struct Positions<'r, 'a> {
    rows: &'r [Row<'a>],
    last: Option<&'r Ghosts>,
    /// Where each row of the last index is now (`u32::MAX`: gone).
    moved: Vec<u32>,
    /// Read rows by the key of their objectId.
    position: Table<u128>,
    /// Two read rows share a key: find them by objectId instead.
    doubtful: bool,
}

impl<'r, 'a> Positions<'r, 'a> {
    fn new(rows: &'r [Row<'a>], last: Option<&'r Ghosts>) -> Self {
        let mut moved = vec![u32::MAX; last.map_or(0, |g| g.index.users.len())];
        let mut position: Table<u128> = Table::default();
        let mut doubtful = false;
        for (row, i) in rows.iter().zip(0u32..) {
            match row.ghost.and_then(|g| moved.get_mut(g as usize)) {
                Some(slot) => *slot = i,
                None => doubtful |= position.insert(row.keys.0, i).is_some(),
            }
        }
        Positions {
            rows,
            last,
            moved,
            position,
            doubtful,
        }
    }

    /// The position of `manager`'s row; `None` when it is not written.
    fn of(&self, manager: Manager<'_>) -> Option<u32> {
        match manager {
            Manager::Id(id) => self.of_id(id),
            Manager::Indexed(old) => self.moved(old).or_else(|| self.of_id(self.last?.id(old))),
        }
    }

    fn of_id(&self, id: &str) -> Option<u32> {
        let read = if self.doubtful {
            self.rows
                .iter()
                .position(|r| r.ghost.is_none() && r.object_id == id)
                .and_then(|p| u32::try_from(p).ok())
        } else {
            self.position
                .get(&hash::of(id.as_bytes()))
                .copied()
                .filter(|&p| self.rows.get(p as usize).is_some_and(|r| r.object_id == id))
        };
        read.or_else(|| self.moved(self.last?.find_id(id)?))
    }

    /// Where row `old` of the last index is now.
    fn moved(&self, old: u32) -> Option<u32> {
        self.moved
            .get(old as usize)
            .copied()
            .filter(|&p| p != u32::MAX)
    }
}

/// The encoder's output: a buffer handed on in pieces of about [`Pieces::SIZE`] bytes, and the
/// running checksum of everything handed on.
struct Pieces<'w> {
    buf: Vec<u8>,
    sum: hash::Running,
    to: &'w mut dyn Write,
}

impl Pieces<'_> {
    const SIZE: usize = 1 << 20;

    fn flush_full(&mut self) -> io::Result<()> {
        if self.buf.len() < Self::SIZE {
            return Ok(());
        }
        self.hand_on()
    }

    fn hand_on(&mut self) -> io::Result<()> {
        self.sum.update(&self.buf);
        self.to.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Hands on the rest, then the checksum of it all.
    fn finish(mut self) -> io::Result<()> {
        self.hand_on()?;
        self.to.write_all(&self.sum.finish().to_le_bytes())
    }
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
            users.push(r.user()?);
        }
        let n = r.len()?;
        let mut groups = Vec::with_capacity(n.min(body.len() / 4));
        for _ in 0..n {
            groups.push(r.string()?);
        }
        let n = r.len()?;
        let mut orphans = Vec::with_capacity(n.min(body.len() / 5));
        for _ in 0..n {
            orphans.push(r.orphan()?);
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

    /// One user's row, as [`put_row`] wrote it.
    fn user(&mut self) -> Option<IndexedUser> {
        let line = u128::from_le_bytes(self.array()?);
        let object_id = self.string()?;
        let upn = self.string()?;
        let manager = match u32::from_le_bytes(self.array()?) {
            u32::MAX => None,
            m => Some(m),
        };
        let assignment = u64::from_le_bytes(self.array()?);
        let keys = (
            u128::from_le_bytes(self.array()?),
            u64::from_le_bytes(self.array()?),
        );
        let reread = self.array::<1>()?[0] != 0;
        let target = match self.array::<1>()?[0] {
            0 => None,
            1 => Some(self.string()?),
            _ => return None,
        };
        Some(IndexedUser {
            line,
            object_id,
            upn,
            manager,
            assignment,
            reread,
            target,
            keys,
        })
    }

    fn orphan(&mut self) -> Option<MemberRef> {
        let kind = match self.array::<1>()?[0] {
            0 => MemberKind::User,
            1 => MemberKind::Group,
            _ => return None,
        };
        Some(MemberRef {
            object_id: self.string()?,
            kind,
        })
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
                    .map(|m| Manager::Id(&m.object_id)),
                assignment: u.assignment,
                reread: u.reread,
                target: u.target.as_deref(),
                keys: u.keys,
                ghost: None,
            })
            .collect();
        let mut out = Vec::new();
        encode_rows(
            &index.mapping,
            &mut rows,
            index.groups.iter().map(String::as_str),
            &index.orphans,
            None,
            &mut out,
        )
        .expect("a Vec takes every write");
        out
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
    fn an_index_written_in_many_pieces_round_trips() {
        // ~20,000 users encode to ~2.4 MB: the encoder hands it on in 1 MiB pieces and
        // checksums it as it goes.
        let users: Vec<IndexedUser> = (0..20_000u32)
            .map(|i| {
                let (id, upn) = (format!("user-{i:08}"), format!("user{i}@contoso.com"));
                IndexedUser {
                    line: u128::from(i) << 64 | u128::from(i),
                    keys: keys_of(&id, &upn),
                    object_id: id,
                    upn,
                    manager: i.checked_sub(1),
                    assignment: u64::from(i % 5),
                    reread: i % 7 == 0,
                    target: (i % 3 != 0).then(|| format!("t{i}")),
                }
            })
            .collect();
        let index = SourceIndex { users, ..sample() };
        let bytes = encode(&index);
        assert!(bytes.len() > 2 * Pieces::SIZE, "{} bytes", bytes.len());
        assert_eq!(SourceIndex::decode(&bytes), Some(index));
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
        assert_eq!(ghosts.indexed_line(7), Some(0));
        assert!(!ghosts.is_placed(0));
        ghosts.place(0, Some(at));
        assert!(ghosts.is_placed(0), "each line places one user");
        assert_eq!(ghosts.line_at(0), Some(at));
        assert_eq!(ghosts.find_id("u1"), Some(0));
        assert_eq!(ghosts.find_upn("ann@contoso.COM"), Some(0));
        assert_eq!(ghosts.find_id("ann@contoso.com"), None);
        assert_eq!(ghosts.find_id("u2"), None);
        assert_eq!(ghosts.present().collect::<Vec<_>>(), [(0, at)]);
    }
}
