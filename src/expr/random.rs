//! Guid() and RandomString(), drawing only from the randomness passed in by the caller.

use rand::RngCore;
use rand::seq::{IndexedRandom, SliceRandom};

/// Sixteen bytes as a GUID's text: lower-case hex, hyphenated 8-4-4-4-12.
pub fn guid_text(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or_default(),
        hex.get(8..12).unwrap_or_default(),
        hex.get(12..16).unwrap_or_default(),
        hex.get(16..20).unwrap_or_default(),
        hex.get(20..32).unwrap_or_default()
    )
}

/// A random version-4 GUID, lower-case and hyphenated.
pub fn guid(rng: &mut dyn RngCore) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    guid_text(&b)
}

/// The longest string RandomString makes.
pub(crate) const MAX_RANDOM_LENGTH: i64 = 256;

/// Special characters from Windows' password-complexity reference, which the doc points to.
const SPECIAL: &str = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";

/// `RandomString(Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital, MinimumLowerCase,
/// CharactersToAvoid)`: the minima first, the rest from every allowed character, then shuffled.
pub(crate) fn random_string(
    rng: &mut dyn RngCore,
    counts: [i64; 5],
    avoid: &str,
) -> Result<String, String> {
    let [length, numbers, special, capital, lower] = counts;
    if !(1..=MAX_RANDOM_LENGTH).contains(&length) {
        return Err(format!(
            "Length must be between 1 and {MAX_RANDOM_LENGTH}, got {length}"
        ));
    }
    if [numbers, special, capital, lower].iter().any(|n| *n < 0) {
        return Err("minimum counts must not be negative".to_owned());
    }
    let sum = numbers + special + capital + lower;
    if sum > length {
        return Err(format!(
            "Length {length} is less than the sum of the minimum counts ({sum})"
        ));
    }
    let keep = |set: &str| -> Vec<char> { set.chars().filter(|c| !avoid.contains(*c)).collect() };
    let classes = [
        ("MinimumNumbers", numbers, keep("0123456789")),
        ("MinimumSpecialCharacters", special, keep(SPECIAL)),
        (
            "MinimumCapital",
            capital,
            keep("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        ),
        (
            "MinimumLowerCase",
            lower,
            keep("abcdefghijklmnopqrstuvwxyz"),
        ),
    ];
    let mut out: Vec<char> = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    for (name, min, set) in &classes {
        if *min > 0 && set.is_empty() {
            return Err(format!(
                "{name} is {min} but CharactersToAvoid excludes every such character"
            ));
        }
        for _ in 0..*min {
            out.extend(set.choose(rng));
        }
    }
    let all: Vec<char> = classes
        .iter()
        .flat_map(|(_, _, set)| set.iter().copied())
        .collect();
    if all.is_empty() {
        return Err("CharactersToAvoid excludes every character".to_owned());
    }
    while i64::try_from(out.len()).unwrap_or(i64::MAX) < length {
        out.extend(all.choose(rng));
    }
    out.shuffle(rng);
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn guid_shape() {
        let mut rng = StdRng::seed_from_u64(7);
        let g = guid(&mut rng);
        assert_eq!(g.len(), 36);
        assert_eq!(g.matches('-').count(), 4);
        assert_eq!(g.chars().nth(14), Some('4'));
        assert!(
            g.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn random_string_meets_minima_and_avoids() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let s = random_string(&mut rng, [10, 2, 2, 2, 1], "?,").unwrap_or_default();
            assert_eq!(s.chars().count(), 10);
            assert!(s.chars().filter(char::is_ascii_digit).count() >= 2);
            assert!(s.chars().filter(|c| SPECIAL.contains(*c)).count() >= 2);
            assert!(s.chars().filter(char::is_ascii_uppercase).count() >= 2);
            assert!(s.chars().filter(char::is_ascii_lowercase).count() >= 1);
            assert!(!s.contains('?') && !s.contains(','));
            let t = random_string(&mut rng, [6, 3, 0, 0, 3], "").unwrap_or_default();
            assert_eq!(t.chars().count(), 6);
        }
        assert!(random_string(&mut rng, [257, 0, 0, 0, 0], "").is_err());
        assert!(random_string(&mut rng, [3, 2, 2, 0, 0], "").is_err());
        assert!(random_string(&mut rng, [3, 1, 0, 0, 0], "0123456789").is_err());
        assert_eq!(
            random_string(&mut rng, [256, 0, 0, 0, 0], "").map(|s| s.len()),
            Ok(256)
        );
    }
}
