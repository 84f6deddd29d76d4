//! Stable, fast, non-cryptographic fingerprints: two 64-bit lanes fed eight bytes a step. Used
//! for the source fingerprint of a job (`config::Digest`) and for the per-line hashes of a
//! JSON-lines directory (`directory::index`), and as bucket keys of sets that compare the
//! strings themselves on a key match ([`KeySet`]). Stable across builds and Rust releases (unlike
//! `DefaultHasher`), so values can be stored between cycles.

/// A running two-lane hash.
#[derive(Debug, Clone)]
pub struct Lanes {
    lanes: [u64; 2],
}

const K: [u64; 2] = [0x9e37_79b9_7f4a_7c15, 0xc2b2_ae3d_27d4_eb4f];

impl Default for Lanes {
    fn default() -> Self {
        Lanes {
            lanes: [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344],
        }
    }
}

impl Lanes {
    /// Adds one part (its length too, so parts cannot shift into each other).
    pub fn part(&mut self, bytes: &[u8]) {
        let rest = self.words(bytes);
        self.tail(rest, bytes.len() as u64);
    }

    /// Adds every whole little-endian word of `bytes`; returns the bytes after the last one.
    fn words<'b>(&mut self, bytes: &'b [u8]) -> &'b [u8] {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in chunks.by_ref() {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.word(u64::from_le_bytes(word));
        }
        chunks.remainder()
    }

    /// Ends a part whose whole words were fed with [`Lanes::word`]: the `rest` (< 8 bytes) and
    /// the part's total length.
    pub fn tail(&mut self, rest: &[u8], total: u64) {
        let mut tail = [0u8; 8];
        let n = rest.len().min(8);
        tail[..n].copy_from_slice(&rest[..n]);
        self.word(u64::from_le_bytes(tail));
        self.word(total);
    }

    /// Adds one little-endian word.
    pub fn word(&mut self, w: u64) {
        for (lane, k) in self.lanes.iter_mut().zip(K) {
            *lane = (*lane ^ w).wrapping_mul(k).rotate_left(29) ^ (*lane >> 17);
        }
    }

    /// The hash, both lanes finalised.
    pub fn finish(&self) -> u128 {
        let mix = |mut x: u64| {
            x ^= x >> 33;
            x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
            x ^= x >> 33;
            x
        };
        (u128::from(mix(self.lanes[0])) << 64) | u128::from(mix(self.lanes[1]))
    }
}

/// The hash of one byte string.
pub fn of(bytes: &[u8]) -> u128 {
    let mut lanes = Lanes::default();
    lanes.part(bytes);
    lanes.finish()
}

/// [`of`] of bytes that arrive in pieces of any size: the same hash as of their concatenation.
#[derive(Debug, Clone, Default)]
pub struct Running {
    lanes: Lanes,
    carry: Vec<u8>,
    total: u64,
}

impl Running {
    /// Adds the next bytes.
    pub fn update(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if !self.carry.is_empty() {
            let take = (8 - self.carry.len()).min(bytes.len());
            self.carry.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.carry.len() < 8 {
                return;
            }
            self.lanes.words(&self.carry);
            self.carry.clear();
        }
        let rest = self.lanes.words(bytes);
        self.carry.extend_from_slice(rest);
    }

    /// The hash of everything added.
    pub fn finish(mut self) -> u128 {
        self.lanes.tail(&self.carry, self.total);
        self.lanes.finish()
    }
}

/// Keys that are hashes already: used as they are.
#[derive(Debug, Default, Clone, Copy)]
pub struct Prehashed(u64);

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
        self.0 ^= fold(n);
    }
}

fn fold(n: u128) -> u64 {
    // The two halves of a hash, folded: truncation is the point.
    #[allow(clippy::cast_possible_truncation)]
    let folded = (n as u64) ^ ((n >> 64) as u64);
    folded
}

/// A set of strings bucketed by their precomputed [`Keyed::key`]: the hash only picks the bucket,
/// and a hash match is confirmed by comparing the strings ([`Keyed`]'s `Eq`). A group's member
/// diff is built on it, so two target ids that share a hash stay two members: a collision costs
/// one string comparison, never a dropped add or removal. Comparing keys alone (as this set did
/// before issue 19) made a collision silently hide a member change; a wider or better-specified
/// hash would only make that unlikely, while comparing the ids makes it impossible. The strings
/// are borrowed, and a key is hashed once per id, so a group of hundreds of thousands of
/// members is diffed without copying or rehashing its ids.
pub type KeySet<'a> =
    std::collections::HashSet<Keyed<'a>, std::hash::BuildHasherDefault<Prehashed>>;

/// A string with its bucket key ([`Keyed::key_of`]). Two are equal when their strings are:
/// the key is only compared first, as a shortcut.
#[derive(Debug, Clone, Copy)]
pub struct Keyed<'a> {
    /// `Keyed::key_of(text)`; a lookup finds the string only under this key.
    pub key: u64,
    /// The string.
    pub text: &'a str,
}

impl<'a> Keyed<'a> {
    /// `text` with its key computed.
    pub fn new(text: &'a str) -> Self {
        Keyed {
            key: Self::key_of(text),
            text,
        }
    }

    /// The bucket key of a string: its [`of`] hash folded to 64 bits (only a bucket, so 64 bits
    /// are plenty; stored per user in the source index's lookups, so half the size matters).
    pub fn key_of(text: &str) -> u64 {
        fold(of(text.as_bytes()))
    }
}

impl PartialEq for Keyed<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.text == other.text
    }
}

impl Eq for Keyed<'_> {}

impl std::hash::Hash for Keyed<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.key);
    }
}

/// The hash of a byte string of any size: [`of`] up to 16 MiB; above, [`of`] the hashes of its
/// 16 MiB chunks and its length, the chunks hashed on two threads (a million-user directory file
/// is read whole and hashed on every cycle; see BENCHMARKS.md, section "History: the fourth
/// session's figures", the directory read once).
pub fn of_large(bytes: &[u8]) -> u128 {
    const CHUNK: usize = 16 << 20;
    if bytes.len() <= CHUNK {
        return of(bytes);
    }
    let chunks: Vec<&[u8]> = bytes.chunks(CHUNK).collect();
    let (front, back) = chunks.split_at(chunks.len() / 2);
    let hashes = |part: &[&[u8]]| part.iter().map(|c| of(c)).collect::<Vec<u128>>();
    let (mut all, rest) = std::thread::scope(|scope| {
        let rest = scope.spawn(|| hashes(back));
        let all = hashes(front);
        (
            all,
            rest.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
        )
    });
    all.extend(rest);
    let mut lanes = Lanes::default();
    for h in all {
        lanes.part(&h.to_le_bytes());
    }
    lanes.part(&(bytes.len() as u64).to_le_bytes());
    lanes.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_hash_is_the_hash_of_the_whole_however_it_is_cut() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 999, 1000] {
            let whole = of(&bytes[..len]);
            for piece in [1, 3, 5, 8, 13, 64, 1000] {
                let mut running = Running::default();
                for chunk in bytes[..len].chunks(piece) {
                    running.update(chunk);
                }
                assert_eq!(running.finish(), whole, "length {len} in pieces of {piece}");
            }
        }
    }

    #[test]
    fn parts_do_not_shift_into_each_other_and_values_are_stable() {
        let mut ab = Lanes::default();
        ab.part(b"ab");
        ab.part(b"c");
        let mut a = Lanes::default();
        a.part(b"a");
        a.part(b"bc");
        assert_ne!(ab.finish(), a.finish());
        assert_eq!(of(b"hello"), of(b"hello"));
        assert_ne!(of(b"hello"), of(b"hellp"));
        // Stored between cycles: a change of this value invalidates every stored index.
        assert_eq!(of(b""), 0x1271_8e57_8380_89ba_1da9_d779_905e_f2e7);
    }

    #[test]
    fn a_key_set_tells_apart_strings_that_share_a_key() {
        let a = Keyed::new("a");
        let b = Keyed {
            key: a.key,
            text: "b",
        };
        let mut set = KeySet::default();
        assert!(set.insert(a));
        assert!(set.insert(b), "a shared key is not a shared string");
        assert!(!set.insert(Keyed::new("a")));
        assert_eq!(set.len(), 2);
        assert!(set.contains(&b) && set.contains(&Keyed::new("a")));
        assert!(!set.contains(&Keyed {
            key: a.key,
            text: "c",
        }));
    }

    #[test]
    fn large_hashes_are_chunked_and_still_see_every_byte() {
        let mut big: Vec<u8> = (0..(40 << 20) + 11).map(|i| (i * 13 % 251) as u8).collect();
        assert_eq!(of_large(b"abc"), of(b"abc"), "small: the plain hash");
        let base = of_large(&big);
        assert_ne!(base, of(&big), "large: chunked");
        assert_eq!(base, of_large(&big.clone()));
        for at in [0, 16 << 20, (40 << 20) + 10] {
            big[at] ^= 1;
            assert_ne!(of_large(&big), base, "byte {at}");
            big[at] ^= 1;
        }
        big.push(0);
        assert_ne!(of_large(&big), base);
    }
}
