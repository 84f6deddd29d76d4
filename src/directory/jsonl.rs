//! The JSON-lines directory format (`*.jsonl`): one `{"user":{…}}` or `{"group":{…}}` object per
//! line, blank lines allowed. Same keys, validation and messages as the YAML format; problems are
//! placed at the entry's line and the key's column. serde_json reads it an order of magnitude
//! faster than serde_yaml reads YAML, which matters for million-user tenants.

use std::collections::HashMap;

use super::Directory;
use super::load;
use super::par;
use super::raw::RawEntry;
use crate::yaml::{Location, Pending, Problem, Problems};

/// One line of the file.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Line {
    User(RawEntry),
    Group(RawEntry),
}

/// Where an entry's line starts: its 1-based number and byte offset.
#[derive(Debug, Clone, Copy)]
struct LineStart {
    number: usize,
    offset: usize,
}

pub(super) fn parse(file: &str, text: &str) -> Result<Directory, Problems> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let start = LineStart {
            number: i + 1,
            offset,
        };
        offset += line.len();
        if !line.trim().is_empty() {
            lines.push((start, line));
        }
    }
    // Lines are independent: parse them on every core.
    let parsed = par::map(lines, |(start, line)| {
        (start, serde_json::from_str::<Line>(line))
    });
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut user_lines = Vec::new();
    let mut group_lines = Vec::new();
    let mut problems = Vec::new();
    for (start, line) in parsed {
        match line {
            Ok(Line::User(entry)) => {
                users.push(entry);
                user_lines.push(start);
            }
            Ok(Line::Group(entry)) => {
                groups.push(entry);
                group_lines.push(start);
            }
            Err(err) => problems.push(Problem {
                file: file.to_owned(),
                location: Location {
                    line: start.number,
                    column: err.column().max(1),
                },
                field: String::new(),
                message: format!(
                    "malformed line (expected {{\"user\":{{…}}}} or {{\"group\":{{…}}}}): {err}"
                ),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    let (dir, pending) = load::build(users, groups);
    if pending.is_empty() {
        return Ok(dir);
    }
    let lines = HashMap::from([("users", user_lines), ("groups", group_lines)]);
    let mut problems: Vec<Problem> = pending
        .into_iter()
        .map(|p| Problem {
            file: file.to_owned(),
            location: locate(text, &lines, &p),
            field: p.field,
            message: p.message,
        })
        .collect();
    problems.sort_by_key(|p| p.location);
    Err(Problems(problems))
}

/// The line of the entry a key path names (`users[3].manager`), at the key (or its value).
fn locate(text: &str, lines: &HashMap<&str, Vec<LineStart>>, pending: &Pending) -> Location {
    let unknown = Location { line: 1, column: 1 };
    let Some((list, rest)) = pending.field.split_once('[') else {
        return unknown;
    };
    let Some((index, rest)) = rest.split_once(']') else {
        return unknown;
    };
    let Some(start) = index
        .parse::<usize>()
        .ok()
        .and_then(|i| lines.get(list).and_then(|l| l.get(i)))
    else {
        return unknown;
    };
    let line = text
        .get(start.offset..)
        .and_then(|t| t.lines().next())
        .unwrap_or_default();
    let key = rest
        .trim_start_matches('.')
        .split(['[', '.'])
        .next()
        .unwrap_or_default();
    let quoted = format!("\"{key}\"");
    let byte = match line.find(&quoted) {
        Some(at) if pending.at_key || key.is_empty() => at,
        Some(at) => {
            let after = at + quoted.len();
            let tail = line.get(after..).unwrap_or_default();
            let colon = tail.find(':').map_or(0, |c| c + 1);
            let value = tail.get(colon..).unwrap_or_default();
            after + colon + (value.len() - value.trim_start().len())
        }
        None => 0,
    };
    Location {
        line: start.number,
        column: line.get(..byte).map_or(0, |p| p.chars().count()) + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match Directory::parse("t.jsonl", text) {
            Ok(_) => Vec::new(),
            Err(p) => p.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn loads_users_and_groups_with_references() {
        let text = concat!(
            "{\"user\":{\"objectId\":\"u1\",\"userPrincipalName\":\"zoe@contoso.com\",\"givenName\":\"Zoë\"}}\n",
            "\n",
            "{\"user\":{\"objectId\":\"u2\",\"userPrincipalName\":\"b@contoso.com\",\"manager\":\"zoe@contoso.com\",\"accountEnabled\":false,\"employeeId\":42}}\n",
            "{\"group\":{\"objectId\":\"g1\",\"displayName\":\"G\",\"members\":[\"u1\",\"b@contoso.com\"]}}\n",
        );
        let dir = Directory::parse("t.jsonl", text).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(dir.users().len(), 2);
        let b = dir.user("u2").expect("u2");
        assert_eq!(b.manager.as_deref(), Some("u1"));
        assert!(!b.account_enabled);
        assert_eq!(
            b.attrs.get("employeeId"),
            Some(&crate::expr::Value::Str("42".to_owned()))
        );
        assert_eq!(dir.groups().first().map(|g| g.members.len()), Some(2));
    }

    #[test]
    fn problems_name_the_line_and_column() {
        let text = concat!(
            "{\"user\":{\"objectId\":\"u1\",\"userPrincipalName\":\"a@contoso.com\"}}\n",
            "{\"user\":{\"objectId\":\"u2\",\"userPrincipalName\":\"b@contoso.com\",\"manager\":\"nobody\"}}\n",
            "{\"user\":{\"objectId\":\"u3\",\"userPrincipalName\":\"c@contoso.com\",\"mial\":\"x\"}}\n",
        );
        assert_eq!(
            problems(text),
            [
                "t.jsonl:2:72: users[1].manager: dangling manager reference: no user or group with objectId, userPrincipalName or displayName \"nobody\"",
                "t.jsonl:3:62: users[2].mial: unknown field \"mial\" (did you mean \"mail\"?)",
            ]
        );
    }

    #[test]
    fn malformed_lines_are_all_reported() {
        let text = "{\"user\":{\"objectId\":\"u1\"\n{\"person\":{}}\n";
        let found = problems(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found.first().is_some_and(|p| p.starts_with("t.jsonl:1:")),
            "{found:?}"
        );
        assert!(
            found
                .get(1)
                .is_some_and(|p| p.starts_with("t.jsonl:2:") && p.contains("unknown variant")),
            "{found:?}"
        );
    }
}
