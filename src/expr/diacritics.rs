//! The NormalizeDiacritics table, transcribed from Microsoft's "Reference for writing expressions for
//! attribute mappings" (functions-for-customizing-application-data.md). Keys may be several code points
//! (a precomposed letter followed by combining marks), so lookups try the longest sequence first.

/// (sequence with diacritics, replacement), sorted by the key's UTF-8 bytes for binary search.
pub(crate) const DIACRITICS: &[(&str, &str)] = &[
    ("A\u{0331}", "A"),         // LATIN CAPITAL LETTER A + COMBINING MACRON BELOW
    ("C\u{0304}", "C"),         // LATIN CAPITAL LETTER C + COMBINING MACRON
    ("C\u{0331}", "C"),         // LATIN CAPITAL LETTER C + COMBINING MACRON BELOW
    ("D\u{0304}", "D"),         // LATIN CAPITAL LETTER D + COMBINING MACRON
    ("E\u{030A}\u{0304}", "E"), // LATIN CAPITAL LETTER E + COMBINING RING ABOVE + COMBINING MACRON
    ("E\u{0331}", "E"),         // LATIN CAPITAL LETTER E + COMBINING MACRON BELOW
    ("G\u{0331}", "G"),         // LATIN CAPITAL LETTER G + COMBINING MACRON BELOW
    ("I\u{0331}", "I"),         // LATIN CAPITAL LETTER I + COMBINING MACRON BELOW
    ("L\u{0304}", "L"),         // LATIN CAPITAL LETTER L + COMBINING MACRON
    ("N\u{0304}", "N"),         // LATIN CAPITAL LETTER N + COMBINING MACRON
    ("O\u{0331}", "O"),         // LATIN CAPITAL LETTER O + COMBINING MACRON BELOW
    ("R\u{0304}", "R"),         // LATIN CAPITAL LETTER R + COMBINING MACRON
    ("S\u{0304}", "S"),         // LATIN CAPITAL LETTER S + COMBINING MACRON
    ("S\u{0331}", "S"),         // LATIN CAPITAL LETTER S + COMBINING MACRON BELOW
    ("T\u{0304}", "T"),         // LATIN CAPITAL LETTER T + COMBINING MACRON
    ("U\u{0307}\u{0304}", "U"), // LATIN CAPITAL LETTER U + COMBINING DOT ABOVE + COMBINING MACRON
    ("U\u{0331}", "U"),         // LATIN CAPITAL LETTER U + COMBINING MACRON BELOW
    ("Y\u{0331}", "Y"),         // LATIN CAPITAL LETTER Y + COMBINING MACRON BELOW
    ("Z\u{0304}", "Z"),         // LATIN CAPITAL LETTER Z + COMBINING MACRON
    ("a\u{0331}", "a"),         // LATIN SMALL LETTER A + COMBINING MACRON BELOW
    ("c\u{0304}", "c"),         // LATIN SMALL LETTER C + COMBINING MACRON
    ("c\u{0331}", "c"),         // LATIN SMALL LETTER C + COMBINING MACRON BELOW
    ("d\u{0304}", "d"),         // LATIN SMALL LETTER D + COMBINING MACRON
    ("e\u{030A}\u{0304}", "e"), // LATIN SMALL LETTER E + COMBINING RING ABOVE + COMBINING MACRON
    ("e\u{0331}", "e"),         // LATIN SMALL LETTER E + COMBINING MACRON BELOW
    ("g\u{0331}", "g"),         // LATIN SMALL LETTER G + COMBINING MACRON BELOW
    ("i\u{0331}", "i"),         // LATIN SMALL LETTER I + COMBINING MACRON BELOW
    ("l\u{0304}", "l"),         // LATIN SMALL LETTER L + COMBINING MACRON
    ("n\u{0304}", "n"),         // LATIN SMALL LETTER N + COMBINING MACRON
    ("o\u{0331}", "o"),         // LATIN SMALL LETTER O + COMBINING MACRON BELOW
    ("r\u{0304}", "r"),         // LATIN SMALL LETTER R + COMBINING MACRON
    ("s\u{0304}", "s"),         // LATIN SMALL LETTER S + COMBINING MACRON
    ("s\u{0331}", "s"),         // LATIN SMALL LETTER S + COMBINING MACRON BELOW
    ("t\u{0304}", "t"),         // LATIN SMALL LETTER T + COMBINING MACRON
    ("u\u{0307}\u{0304}", "u"), // LATIN SMALL LETTER U + COMBINING DOT ABOVE + COMBINING MACRON
    ("u\u{0331}", "u"),         // LATIN SMALL LETTER U + COMBINING MACRON BELOW
    ("y\u{0331}", "y"),         // LATIN SMALL LETTER Y + COMBINING MACRON BELOW
    ("z\u{0304}", "z"),         // LATIN SMALL LETTER Z + COMBINING MACRON
    ("À", "A"),                 // LATIN CAPITAL LETTER A WITH GRAVE
    ("Á", "A"),                 // LATIN CAPITAL LETTER A WITH ACUTE
    ("Â", "A"),                 // LATIN CAPITAL LETTER A WITH CIRCUMFLEX
    ("Ã", "A"),                 // LATIN CAPITAL LETTER A WITH TILDE
    ("Ä", "A"),                 // LATIN CAPITAL LETTER A WITH DIAERESIS
    ("Å", "A"),                 // LATIN CAPITAL LETTER A WITH RING ABOVE
    ("Å\u{0304}", "A"),         // LATIN CAPITAL LETTER A WITH RING ABOVE + COMBINING MACRON
    ("Æ", "AE"),                // LATIN CAPITAL LETTER AE
    ("Ç", "C"),                 // LATIN CAPITAL LETTER C WITH CEDILLA
    ("È", "E"),                 // LATIN CAPITAL LETTER E WITH GRAVE
    ("É", "E"),                 // LATIN CAPITAL LETTER E WITH ACUTE
    ("Ê", "E"),                 // LATIN CAPITAL LETTER E WITH CIRCUMFLEX
    ("Ê\u{0304}", "E"),         // LATIN CAPITAL LETTER E WITH CIRCUMFLEX + COMBINING MACRON
    ("Ë", "E"),                 // LATIN CAPITAL LETTER E WITH DIAERESIS
    ("Ë\u{0304}", "E"),         // LATIN CAPITAL LETTER E WITH DIAERESIS + COMBINING MACRON
    ("Ì", "I"),                 // LATIN CAPITAL LETTER I WITH GRAVE
    ("Í", "I"),                 // LATIN CAPITAL LETTER I WITH ACUTE
    ("Î", "I"),                 // LATIN CAPITAL LETTER I WITH CIRCUMFLEX
    ("Ï", "I"),                 // LATIN CAPITAL LETTER I WITH DIAERESIS
    ("Ñ", "N"),                 // LATIN CAPITAL LETTER N WITH TILDE
    ("Ò", "O"),                 // LATIN CAPITAL LETTER O WITH GRAVE
    ("Ó", "O"),                 // LATIN CAPITAL LETTER O WITH ACUTE
    ("Ô", "O"),                 // LATIN CAPITAL LETTER O WITH CIRCUMFLEX
    ("Õ", "O"),                 // LATIN CAPITAL LETTER O WITH TILDE
    ("Ö", "O"),                 // LATIN CAPITAL LETTER O WITH DIAERESIS
    ("Ø", "OE"),                // LATIN CAPITAL LETTER O WITH STROKE
    ("Ø\u{0304}", "OE"),        // LATIN CAPITAL LETTER O WITH STROKE + COMBINING MACRON
    ("Ù", "U"),                 // LATIN CAPITAL LETTER U WITH GRAVE
    ("Ú", "U"),                 // LATIN CAPITAL LETTER U WITH ACUTE
    ("Û", "U"),                 // LATIN CAPITAL LETTER U WITH CIRCUMFLEX
    ("Ü", "U"),                 // LATIN CAPITAL LETTER U WITH DIAERESIS
    ("Ý", "Y"),                 // LATIN CAPITAL LETTER Y WITH ACUTE
    ("ß", "ss"),                // LATIN SMALL LETTER SHARP S
    ("à", "a"),                 // LATIN SMALL LETTER A WITH GRAVE
    ("á", "a"),                 // LATIN SMALL LETTER A WITH ACUTE
    ("â", "a"),                 // LATIN SMALL LETTER A WITH CIRCUMFLEX
    ("ã", "a"),                 // LATIN SMALL LETTER A WITH TILDE
    ("ä", "a"),                 // LATIN SMALL LETTER A WITH DIAERESIS
    ("å", "a"),                 // LATIN SMALL LETTER A WITH RING ABOVE
    ("å\u{0304}", "a"),         // LATIN SMALL LETTER A WITH RING ABOVE + COMBINING MACRON
    ("æ", "ae"),                // LATIN SMALL LETTER AE
    ("ç", "c"),                 // LATIN SMALL LETTER C WITH CEDILLA
    ("è", "e"),                 // LATIN SMALL LETTER E WITH GRAVE
    ("é", "e"),                 // LATIN SMALL LETTER E WITH ACUTE
    ("ê", "e"),                 // LATIN SMALL LETTER E WITH CIRCUMFLEX
    ("ê\u{0304}", "e"),         // LATIN SMALL LETTER E WITH CIRCUMFLEX + COMBINING MACRON
    ("ë", "e"),                 // LATIN SMALL LETTER E WITH DIAERESIS
    ("ë\u{0304}", "e"),         // LATIN SMALL LETTER E WITH DIAERESIS + COMBINING MACRON
    ("ì", "i"),                 // LATIN SMALL LETTER I WITH GRAVE
    ("í", "i"),                 // LATIN SMALL LETTER I WITH ACUTE
    ("î", "i"),                 // LATIN SMALL LETTER I WITH CIRCUMFLEX
    ("ï", "i"),                 // LATIN SMALL LETTER I WITH DIAERESIS
    ("ñ", "n"),                 // LATIN SMALL LETTER N WITH TILDE
    ("ò", "o"),                 // LATIN SMALL LETTER O WITH GRAVE
    ("ó", "o"),                 // LATIN SMALL LETTER O WITH ACUTE
    ("ô", "o"),                 // LATIN SMALL LETTER O WITH CIRCUMFLEX
    ("õ", "o"),                 // LATIN SMALL LETTER O WITH TILDE
    ("ö", "o"),                 // LATIN SMALL LETTER O WITH DIAERESIS
    ("ø", "oe"),                // LATIN SMALL LETTER O WITH STROKE
    ("ø\u{0304}", "oe"),        // LATIN SMALL LETTER O WITH STROKE + COMBINING MACRON
    ("ù", "u"),                 // LATIN SMALL LETTER U WITH GRAVE
    ("ú", "u"),                 // LATIN SMALL LETTER U WITH ACUTE
    ("û", "u"),                 // LATIN SMALL LETTER U WITH CIRCUMFLEX
    ("ü", "u"),                 // LATIN SMALL LETTER U WITH DIAERESIS
    ("ý", "y"),                 // LATIN SMALL LETTER Y WITH ACUTE
    ("ÿ", "y"),                 // LATIN SMALL LETTER Y WITH DIAERESIS
    ("Ā", "A"),                 // LATIN CAPITAL LETTER A WITH MACRON
    ("Ā\u{0300}", "A"),         // LATIN CAPITAL LETTER A WITH MACRON + COMBINING GRAVE ACCENT
    ("Ā\u{0301}", "A"),         // LATIN CAPITAL LETTER A WITH MACRON + COMBINING ACUTE ACCENT
    ("Ā\u{0302}", "A"),         // LATIN CAPITAL LETTER A WITH MACRON + COMBINING CIRCUMFLEX ACCENT
    ("Ā\u{0303}", "A"),         // LATIN CAPITAL LETTER A WITH MACRON + COMBINING TILDE
    ("Ā\u{0308}", "A"),         // LATIN CAPITAL LETTER A WITH MACRON + COMBINING DIAERESIS
    ("ā", "a"),                 // LATIN SMALL LETTER A WITH MACRON
    ("ā\u{0300}", "a"),         // LATIN SMALL LETTER A WITH MACRON + COMBINING GRAVE ACCENT
    ("ā\u{0301}", "a"),         // LATIN SMALL LETTER A WITH MACRON + COMBINING ACUTE ACCENT
    ("ā\u{0302}", "a"),         // LATIN SMALL LETTER A WITH MACRON + COMBINING CIRCUMFLEX ACCENT
    ("ā\u{0303}", "a"),         // LATIN SMALL LETTER A WITH MACRON + COMBINING TILDE
    ("ā\u{0308}", "a"),         // LATIN SMALL LETTER A WITH MACRON + COMBINING DIAERESIS
    ("Ă", "A"),                 // LATIN CAPITAL LETTER A WITH BREVE
    ("ă", "a"),                 // LATIN SMALL LETTER A WITH BREVE
    ("Ą", "A"),                 // LATIN CAPITAL LETTER A WITH OGONEK
    ("ą", "a"),                 // LATIN SMALL LETTER A WITH OGONEK
    ("Ć", "C"),                 // LATIN CAPITAL LETTER C WITH ACUTE
    ("ć", "c"),                 // LATIN SMALL LETTER C WITH ACUTE
    ("Č", "C"),                 // LATIN CAPITAL LETTER C WITH CARON
    ("č", "c"),                 // LATIN SMALL LETTER C WITH CARON
    ("Ď", "D"),                 // LATIN CAPITAL LETTER D WITH CARON
    ("ď", "d"),                 // LATIN SMALL LETTER D WITH CARON
    ("Ē", "E"),                 // LATIN CAPITAL LETTER E WITH MACRON
    ("Ē\u{0302}", "E"),         // LATIN CAPITAL LETTER E WITH MACRON + COMBINING CIRCUMFLEX ACCENT
    ("Ē\u{0303}", "E"),         // LATIN CAPITAL LETTER E WITH MACRON + COMBINING TILDE
    ("ē", "e"),                 // LATIN SMALL LETTER E WITH MACRON
    ("ē\u{0302}", "e"),         // LATIN SMALL LETTER E WITH MACRON + COMBINING CIRCUMFLEX ACCENT
    ("ē\u{0303}", "e"),         // LATIN SMALL LETTER E WITH MACRON + COMBINING TILDE
    ("Ė", "E"),                 // LATIN CAPITAL LETTER E WITH DOT ABOVE
    ("ė", "e"),                 // LATIN SMALL LETTER E WITH DOT ABOVE
    ("Ę", "E"),                 // LATIN CAPITAL LETTER E WITH OGONEK
    ("ę", "e"),                 // LATIN SMALL LETTER E WITH OGONEK
    ("Ě", "E"),                 // LATIN CAPITAL LETTER E WITH CARON
    ("ě", "e"),                 // LATIN SMALL LETTER E WITH CARON
    ("Ğ", "G"),                 // LATIN CAPITAL LETTER G WITH BREVE
    ("ğ", "g"),                 // LATIN SMALL LETTER G WITH BREVE
    ("Ī", "I"),                 // LATIN CAPITAL LETTER I WITH MACRON
    ("Ī\u{0300}", "I"),         // LATIN CAPITAL LETTER I WITH MACRON + COMBINING GRAVE ACCENT
    ("Ī\u{0301}", "I"),         // LATIN CAPITAL LETTER I WITH MACRON + COMBINING ACUTE ACCENT
    ("Ī\u{0302}", "I"),         // LATIN CAPITAL LETTER I WITH MACRON + COMBINING CIRCUMFLEX ACCENT
    ("Ī\u{0303}", "I"),         // LATIN CAPITAL LETTER I WITH MACRON + COMBINING TILDE
    ("ī", "i"),                 // LATIN SMALL LETTER I WITH MACRON
    ("ī\u{0300}", "i"),         // LATIN SMALL LETTER I WITH MACRON + COMBINING GRAVE ACCENT
    ("ī\u{0301}", "i"),         // LATIN SMALL LETTER I WITH MACRON + COMBINING ACUTE ACCENT
    ("ī\u{0302}", "i"),         // LATIN SMALL LETTER I WITH MACRON + COMBINING CIRCUMFLEX ACCENT
    ("ī\u{0303}", "i"),         // LATIN SMALL LETTER I WITH MACRON + COMBINING TILDE
    ("İ", "I"),                 // LATIN CAPITAL LETTER I WITH DOT ABOVE
    ("ı", "i"),                 // LATIN SMALL LETTER DOTLESS I
    ("Ľ", "L"),                 // LATIN CAPITAL LETTER L WITH CARON
    ("ľ", "l"),                 // LATIN SMALL LETTER L WITH CARON
    ("Ł", "L"),                 // LATIN CAPITAL LETTER L WITH STROKE
    ("ł", "l"),                 // LATIN SMALL LETTER L WITH STROKE
    ("Ń", "N"),                 // LATIN CAPITAL LETTER N WITH ACUTE
    ("ń", "n"),                 // LATIN SMALL LETTER N WITH ACUTE
    ("Ň", "N"),                 // LATIN CAPITAL LETTER N WITH CARON
    ("ň", "n"),                 // LATIN SMALL LETTER N WITH CARON
    ("Ō", "O"),                 // LATIN CAPITAL LETTER O WITH MACRON
    ("Ō\u{0302}", "O"),         // LATIN CAPITAL LETTER O WITH MACRON + COMBINING CIRCUMFLEX ACCENT
    ("Ō\u{0303}", "O"),         // LATIN CAPITAL LETTER O WITH MACRON + COMBINING TILDE
    ("Ō\u{0308}", "O"),         // LATIN CAPITAL LETTER O WITH MACRON + COMBINING DIAERESIS
    ("ō", "o"),                 // LATIN SMALL LETTER O WITH MACRON
    ("ō\u{0302}", "o"),         // LATIN SMALL LETTER O WITH MACRON + COMBINING CIRCUMFLEX ACCENT
    ("ō\u{0303}", "o"),         // LATIN SMALL LETTER O WITH MACRON + COMBINING TILDE
    ("ō\u{0308}", "o"),         // LATIN SMALL LETTER O WITH MACRON + COMBINING DIAERESIS
    ("Ő", "O"),                 // LATIN CAPITAL LETTER O WITH DOUBLE ACUTE
    ("ő", "o"),                 // LATIN SMALL LETTER O WITH DOUBLE ACUTE
    ("Œ\u{0304}", "OE"),        // LATIN CAPITAL LIGATURE OE + COMBINING MACRON
    ("œ\u{0304}", "oe"),        // LATIN SMALL LIGATURE OE + COMBINING MACRON
    ("Ř", "R"),                 // LATIN CAPITAL LETTER R WITH CARON
    ("ř", "r"),                 // LATIN SMALL LETTER R WITH CARON
    ("Ś", "S"),                 // LATIN CAPITAL LETTER S WITH ACUTE
    ("ś", "s"),                 // LATIN SMALL LETTER S WITH ACUTE
    ("Ş", "S"),                 // LATIN CAPITAL LETTER S WITH CEDILLA
    ("ş", "s"),                 // LATIN SMALL LETTER S WITH CEDILLA
    ("Š", "S"),                 // LATIN CAPITAL LETTER S WITH CARON
    ("š", "s"),                 // LATIN SMALL LETTER S WITH CARON
    ("Ť", "T"),                 // LATIN CAPITAL LETTER T WITH CARON
    ("ť", "t"),                 // LATIN SMALL LETTER T WITH CARON
    ("Ū", "U"),                 // LATIN CAPITAL LETTER U WITH MACRON
    ("Ū\u{0300}", "U"),         // LATIN CAPITAL LETTER U WITH MACRON + COMBINING GRAVE ACCENT
    ("Ū\u{0301}", "U"),         // LATIN CAPITAL LETTER U WITH MACRON + COMBINING ACUTE ACCENT
    ("Ū\u{0302}", "U"),         // LATIN CAPITAL LETTER U WITH MACRON + COMBINING CIRCUMFLEX ACCENT
    ("Ū\u{0303}", "U"),         // LATIN CAPITAL LETTER U WITH MACRON + COMBINING TILDE
    ("ū", "u"),                 // LATIN SMALL LETTER U WITH MACRON
    ("ū\u{0300}", "u"),         // LATIN SMALL LETTER U WITH MACRON + COMBINING GRAVE ACCENT
    ("ū\u{0301}", "u"),         // LATIN SMALL LETTER U WITH MACRON + COMBINING ACUTE ACCENT
    ("ū\u{0302}", "u"),         // LATIN SMALL LETTER U WITH MACRON + COMBINING CIRCUMFLEX ACCENT
    ("ū\u{0303}", "u"),         // LATIN SMALL LETTER U WITH MACRON + COMBINING TILDE
    ("Ů", "U"),                 // LATIN CAPITAL LETTER U WITH RING ABOVE
    ("ů", "u"),                 // LATIN SMALL LETTER U WITH RING ABOVE
    ("Ű", "U"),                 // LATIN CAPITAL LETTER U WITH DOUBLE ACUTE
    ("ű", "u"),                 // LATIN SMALL LETTER U WITH DOUBLE ACUTE
    ("Ÿ", "Y"),                 // LATIN CAPITAL LETTER Y WITH DIAERESIS
    ("Ź", "Z"),                 // LATIN CAPITAL LETTER Z WITH ACUTE
    ("ź", "z"),                 // LATIN SMALL LETTER Z WITH ACUTE
    ("Ż", "Z"),                 // LATIN CAPITAL LETTER Z WITH DOT ABOVE
    ("ż", "z"),                 // LATIN SMALL LETTER Z WITH DOT ABOVE
    ("Ž", "Z"),                 // LATIN CAPITAL LETTER Z WITH CARON
    ("ž", "z"),                 // LATIN SMALL LETTER Z WITH CARON
    ("Ǖ", "U"),                 // LATIN CAPITAL LETTER U WITH DIAERESIS AND MACRON
    ("ǖ", "u"),                 // LATIN SMALL LETTER U WITH DIAERESIS AND MACRON
    ("Ǟ", "A"),                 // LATIN CAPITAL LETTER A WITH DIAERESIS AND MACRON
    ("ǟ", "a"),                 // LATIN SMALL LETTER A WITH DIAERESIS AND MACRON
    ("Ǡ", "A"),                 // LATIN CAPITAL LETTER A WITH DOT ABOVE AND MACRON
    ("ǡ", "a"),                 // LATIN SMALL LETTER A WITH DOT ABOVE AND MACRON
    ("Ǣ", "AE"),                // LATIN CAPITAL LETTER AE WITH MACRON
    ("ǣ", "ae"),                // LATIN SMALL LETTER AE WITH MACRON
    ("Ǭ", "O"),                 // LATIN CAPITAL LETTER O WITH OGONEK AND MACRON
    ("ǭ", "o"),                 // LATIN SMALL LETTER O WITH OGONEK AND MACRON
    ("Ș", "S"),                 // LATIN CAPITAL LETTER S WITH COMMA BELOW
    ("ș", "s"),                 // LATIN SMALL LETTER S WITH COMMA BELOW
    ("Ț", "T"),                 // LATIN CAPITAL LETTER T WITH COMMA BELOW
    ("ț", "t"),                 // LATIN SMALL LETTER T WITH COMMA BELOW
    ("Ȫ", "O"),                 // LATIN CAPITAL LETTER O WITH DIAERESIS AND MACRON
    ("ȫ", "o"),                 // LATIN SMALL LETTER O WITH DIAERESIS AND MACRON
    ("Ȭ", "O"),                 // LATIN CAPITAL LETTER O WITH TILDE AND MACRON
    ("ȭ", "o"),                 // LATIN SMALL LETTER O WITH TILDE AND MACRON
    ("Ȱ", "O"),                 // LATIN CAPITAL LETTER O WITH DOT ABOVE AND MACRON
    ("ȱ", "o"),                 // LATIN SMALL LETTER O WITH DOT ABOVE AND MACRON
    ("Ȳ", "Y"),                 // LATIN CAPITAL LETTER Y WITH MACRON
    ("Ȳ\u{0300}", "Y"),         // LATIN CAPITAL LETTER Y WITH MACRON + COMBINING GRAVE ACCENT
    ("Ȳ\u{0301}", "Y"),         // LATIN CAPITAL LETTER Y WITH MACRON + COMBINING ACUTE ACCENT
    ("Ȳ\u{0303}", "Y"),         // LATIN CAPITAL LETTER Y WITH MACRON + COMBINING TILDE
    ("ȳ", "y"),                 // LATIN SMALL LETTER Y WITH MACRON
    ("ȳ\u{0300}", "y"),         // LATIN SMALL LETTER Y WITH MACRON + COMBINING GRAVE ACCENT
    ("ȳ\u{0301}", "y"),         // LATIN SMALL LETTER Y WITH MACRON + COMBINING ACUTE ACCENT
    ("ȳ\u{0303}", "y"),         // LATIN SMALL LETTER Y WITH MACRON + COMBINING TILDE
    ("Ḏ", "D"),                 // LATIN CAPITAL LETTER D WITH LINE BELOW
    ("ḏ", "d"),                 // LATIN SMALL LETTER D WITH LINE BELOW
    ("Ḕ", "E"),                 // LATIN CAPITAL LETTER E WITH MACRON AND GRAVE
    ("ḕ", "e"),                 // LATIN SMALL LETTER E WITH MACRON AND GRAVE
    ("Ḗ", "E"),                 // LATIN CAPITAL LETTER E WITH MACRON AND ACUTE
    ("ḗ", "e"),                 // LATIN SMALL LETTER E WITH MACRON AND ACUTE
    ("Ḡ", "G"),                 // LATIN CAPITAL LETTER G WITH MACRON
    ("ḡ", "g"),                 // LATIN SMALL LETTER G WITH MACRON
    ("Ḹ", "L"),                 // LATIN CAPITAL LETTER L WITH DOT BELOW AND MACRON
    ("ḹ", "l"),                 // LATIN SMALL LETTER L WITH DOT BELOW AND MACRON
    ("Ḻ", "L"),                 // LATIN CAPITAL LETTER L WITH LINE BELOW
    ("ḻ", "l"),                 // LATIN SMALL LETTER L WITH LINE BELOW
    ("Ṉ", "N"),                 // LATIN CAPITAL LETTER N WITH LINE BELOW
    ("ṉ", "n"),                 // LATIN SMALL LETTER N WITH LINE BELOW
    ("Ṑ", "O"),                 // LATIN CAPITAL LETTER O WITH MACRON AND GRAVE
    ("ṑ", "o"),                 // LATIN SMALL LETTER O WITH MACRON AND GRAVE
    ("Ṓ", "O"),                 // LATIN CAPITAL LETTER O WITH MACRON AND ACUTE
    ("ṓ", "o"),                 // LATIN SMALL LETTER O WITH MACRON AND ACUTE
    ("Ṝ", "R"),                 // LATIN CAPITAL LETTER R WITH DOT BELOW AND MACRON
    ("ṝ", "r"),                 // LATIN SMALL LETTER R WITH DOT BELOW AND MACRON
    ("Ṟ", "R"),                 // LATIN CAPITAL LETTER R WITH LINE BELOW
    ("ṟ", "r"),                 // LATIN SMALL LETTER R WITH LINE BELOW
    ("Ṯ", "T"),                 // LATIN CAPITAL LETTER T WITH LINE BELOW
    ("ṯ", "t"),                 // LATIN SMALL LETTER T WITH LINE BELOW
    ("Ṳ\u{0304}", "U"),         // LATIN CAPITAL LETTER U WITH DIAERESIS BELOW + COMBINING MACRON
    ("ṳ\u{0304}", "u"),         // LATIN SMALL LETTER U WITH DIAERESIS BELOW + COMBINING MACRON
    ("Ṻ", "U"),                 // LATIN CAPITAL LETTER U WITH MACRON AND DIAERESIS
    ("ṻ", "u"),                 // LATIN SMALL LETTER U WITH MACRON AND DIAERESIS
    ("Ẕ", "Z"),                 // LATIN CAPITAL LETTER Z WITH LINE BELOW
    ("ẕ", "z"),                 // LATIN SMALL LETTER Z WITH LINE BELOW
];

/// The longest key, in chars.
pub(crate) const MAX_KEY_CHARS: usize = 3;

/// Replaces every table entry found in `source`, longest match first; other characters pass through.
pub(crate) fn normalize_diacritics(source: &str) -> String {
    if source.is_ascii() {
        return source.to_owned();
    }
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(first) = rest.chars().next() {
        let mut consumed = first.len_utf8();
        let mut replaced = false;
        // Byte offsets of the ends of the first 1..=MAX_KEY_CHARS chars, tried longest first.
        let ends: Vec<usize> = rest
            .char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .chain(std::iter::once(rest.len()))
            .take(MAX_KEY_CHARS)
            .collect();
        for &end in ends.iter().rev() {
            let candidate = rest.get(..end).unwrap_or_default();
            let found = DIACRITICS
                .binary_search_by(|(k, _)| k.as_bytes().cmp(candidate.as_bytes()))
                .ok()
                .and_then(|i| DIACRITICS.get(i));
            if let Some((_, replacement)) = found {
                out.push_str(replacement);
                consumed = end;
                replaced = true;
                break;
            }
        }
        if !replaced {
            out.push(first);
        }
        rest = rest.get(consumed..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(
            DIACRITICS
                .windows(2)
                .all(|w| matches!(w, [a, b] if a.0.as_bytes() < b.0.as_bytes()))
        );
    }

    #[test]
    fn normalizes_precomposed_and_combining_sequences() {
        for (input, expected) in [
            ("Zoë", "Zoe"),
            ("Ærøskøbing", "AEroeskoebing"),
            ("Straße", "Strasse"),
            ("Łódź", "Lodz"),
            ("a\u{0331}b", "ab"),
            ("e\u{030A}\u{0304}!", "e!"),
            ("İstanbul ı", "Istanbul i"),
            ("plain ascii", "plain ascii"),
            ("日本", "日本"),
        ] {
            assert_eq!(normalize_diacritics(input), expected, "{input}");
        }
    }
}
