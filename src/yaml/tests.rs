//! Tests of the locator, serde error conversion and suggestions.

use super::*;

const DOC: &str = "users:\n  attributes:\n    - target: userName\n      source: mial\n    - target: x\n      expression: |\n        Join(\" \", [a])\nflow: {a: 1, b: [x, y]}\n";

#[test]
fn locator_finds_keys_and_values() {
    let loc = Locator::new(DOC);
    let cases = [
        ("users.attributes[0].source", (4, 15), (4, 7)),
        ("users.attributes[1]", (5, 7), (5, 7)),
        ("users.attributes[1].expression", (7, 9), (6, 7)),
        ("flow.b[1]", (8, 21), (8, 21)),
        ("flow.a", (8, 11), (8, 8)),
    ];
    for (path, value, key) in cases {
        let v = loc.value(path);
        let k = loc.key(path);
        assert_eq!((v.line, v.column), value, "value of {path}");
        assert_eq!((k.line, k.column), key, "key of {path}");
    }
}

#[test]
fn text_start_skips_opening_quote() {
    let loc = Locator::new("a: \"x\"\nb: 'y'\nc: z\n");
    let cols: Vec<usize> = ["a", "b", "c"].iter().map(|p| loc.text(p).column).collect();
    assert_eq!(cols, [5, 5, 4]);
}

#[test]
fn locator_falls_back_to_ancestor() {
    let loc = Locator::for_paths(DOC, ["users.attributes[0].nothing"]);
    assert_eq!(
        loc.value("users.attributes[0].nothing"),
        Location { line: 3, column: 7 }
    );
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Doc {
    users: Vec<Entry>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Entry {
    name: String,
}

#[test]
fn serde_errors_are_located() {
    let err = parse::<Doc>("f.yaml", "users:\n  - name: a\n  - nme: b\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "f.yaml:3:5: users[1]: unknown field `nme`, expected `name`"
    );
    let err = parse::<Doc>("f.yaml", "users:\n  - name: a\n  - name: b\n   x: y\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "f.yaml:4:4: malformed YAML: did not find expected '-' indicator, \
         while parsing a block collection at line 2 column 3"
    );
}

#[test]
fn suggestions() {
    assert_eq!(
        did_you_mean("mial", ["mail", "mobile", "city"]),
        Some("mail")
    );
    assert_eq!(did_you_mean("zzzz", ["mail", "mobile"]), None);
    assert_eq!(did_you_mean("givenname", ["givenName"]), Some("givenName"));
}

/// Issue 18 item 11: bytes that are not UTF-8 are placed at the first bad byte, the column in
/// characters; a file cut inside a character says so.
#[test]
fn bytes_that_are_not_utf8_are_placed_at_the_first_bad_byte() {
    let cases: [(&[u8], &str); 4] = [
        (b"a: b\n", ""),
        (
            b"ab\nc\xE9d\n\xFF",
            "f:2:2: the file is not UTF-8: invalid byte 0xE9",
        ),
        (
            b"z\xC3\xA9\xC3\xA9: \xFF", // "zéé: " then 0xFF
            "f:1:6: the file is not UTF-8: invalid byte 0xFF",
        ),
        (
            b"ab\ncd\xE2\x82",
            "f:2:3: the file is not UTF-8: it ends inside a character (byte 0xE2)",
        ),
    ];
    for (bytes, expected) in cases {
        let got = text_of("f", bytes.to_vec()).err().map(|p| p.to_string());
        assert_eq!(got.unwrap_or_default(), expected, "{bytes:?}");
    }
}
