//! The JSON-lines directory format (`*.jsonl`): one `{"user":{…}}` or `{"group":{…}}` object per
//! line, blank lines allowed. Same keys, validation and messages as the YAML format; problems are
//! placed at the entry's line and the key's column. serde_json reads it much faster than
//! serde_yaml reads YAML (`cargo bench --bench directory_load` times both), which matters for
//! million-user tenants. With a source index
//! of the last clean cycle, only new and changed lines are parsed (see [`super::index`]).

use std::collections::HashMap;

use super::index::{Ghosts, LineAt, UserLine, line_hash};
use super::raw::RawEntry;
use super::{Directory, User, load, par};
use crate::yaml::{Location, Pending, Problem, Problems};

/// One line of the file.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Line {
    User(RawEntry),
    Group(RawEntry),
}

/// The non-blank lines of `text`, each with where it is and its hash (on every core).
fn lines_of(text: &str) -> Vec<(LineAt, &str)> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let at = LineAt {
            hash: 0,
            number: i + 1,
            offset,
        };
        offset += line.len();
        if !line.trim().is_empty() {
            lines.push((at, line));
        }
    }
    par::map(lines, |(at, line)| {
        (
            LineAt {
                hash: line_hash(line),
                ..at
            },
            line,
        )
    })
}

pub(super) fn parse(file: &str, text: &str) -> Result<Directory, Problems> {
    parse_lines(file, text, lines_of(text), None)
}

/// [`Directory::parse_delta`] with the index's mapping already checked.
pub(super) fn parse_delta(
    file: &str,
    text: &str,
    mut ghosts: Box<Ghosts>,
) -> Result<Directory, Problems> {
    if ghosts.doubtful {
        return parse(file, text);
    }
    let mut read = Vec::new();
    for (at, line) in lines_of(text) {
        // A line listed twice places its user once.
        match ghosts.indexed_line(at.hash) {
            Some(i) if !ghosts.is_placed(i) && !ghosts.user(i).reread => {
                ghosts.place(i, Some(at));
            }
            _ => read.push((at, line)),
        }
    }
    crate::stage!("lines hashed");
    let parsed = parse_lines(file, text, read, Some(ghosts));
    crate::stage!("new and changed lines parsed");
    match parsed {
        // A dropped reference is worded with the closest name of the whole file.
        Ok(dir) if answers_for_the_rest(&dir) && dir.warnings.is_empty() => Ok(dir),
        // Whatever the index cannot vouch for, and every problem, is decided by the whole file.
        _ => parse(file, text),
    }
}

/// The unread users are as valid as in the last clean cycle: no read line clashes with them,
/// and their managers are still users of the source.
fn answers_for_the_rest(dir: &Directory) -> bool {
    let Some(ghosts) = dir.ghosts.as_deref() else {
        return true;
    };
    let clash = dir
        .users
        .iter()
        .any(|u| ghosts.find_id(&u.object_id).is_some() || ghosts.find_upn(&u.upn).is_some())
        || dir
            .groups
            .iter()
            .any(|g| ghosts.find_id(&g.object_id).is_some());
    let managers_present = ghosts.present().all(|(i, _)| {
        ghosts
            .user(i)
            .manager
            .is_none_or(|m| ghosts.is_placed(m) || dir.users_by_id.contains_key(ghosts.id(m)))
    });
    !clash && managers_present
}

/// [`super::Directory::read_ghosts`].
pub(super) fn read_ghosts(
    dir: &mut Directory,
    file: &str,
    text: &str,
    wanted: impl Fn(&str, u64) -> bool + Sync,
) -> Result<(), Problems> {
    let Some(ghosts) = dir.ghosts.as_deref() else {
        return Ok(());
    };
    let picked = pick_ghosts(ghosts, wanted);
    if picked.is_empty() {
        return Ok(());
    }
    let read = read_ghost_lines(dir, file, text, &picked)?;
    if let Some(ghosts) = dir.ghosts.as_deref_mut() {
        for (i, _) in &picked {
            ghosts.place(*i, None);
        }
    }
    for (user, at) in read {
        dir.users.push(user);
        dir.lines.push(UserLine { at, reread: false });
    }
    into_file_order(dir);
    Ok(())
}

/// The positions and lines of the ghosts `wanted` picks (by objectId and assignment), in order.
fn pick_ghosts(ghosts: &Ghosts, wanted: impl Fn(&str, u64) -> bool + Sync) -> Vec<(u32, LineAt)> {
    // A million ghosts asked on every core, in slices of positions.
    let n = u32::try_from(ghosts.len()).unwrap_or(u32::MAX);
    let slices: Vec<std::ops::Range<u32>> = (0..n)
        .step_by(1 << 16)
        .map(|start| start..start.saturating_add(1 << 16).min(n))
        .collect();
    par::map_weighted(
        slices,
        |slice| slice.len(),
        1 << 16,
        |slice| {
            slice
                .filter_map(|i| ghosts.line_at(i).map(|at| (i, at)))
                .filter(|(i, _)| wanted(ghosts.id(*i), ghosts.user(*i).assignment))
                .collect::<Vec<_>>()
        },
    )
    .into_iter()
    .flatten()
    .collect()
}

/// Reads the `picked` ghosts' lines into users; every problem when any line changed since the
/// last index or no longer reads as a user.
fn read_ghost_lines(
    dir: &Directory,
    file: &str,
    text: &str,
    picked: &[(u32, LineAt)],
) -> Result<Vec<(User, LineAt)>, Problems> {
    let mut read = Vec::with_capacity(picked.len());
    let mut problems = Vec::new();
    for (_, at) in picked {
        let line = text
            .get(at.offset..)
            .and_then(|t| t.split('\n').next())
            .unwrap_or_default();
        let problem = |field: String, message: String| Problem {
            file: file.to_owned(),
            location: Location {
                line: at.number,
                column: 1,
            },
            field,
            message,
        };
        let entry = match serde_json::from_str::<Line>(line) {
            Ok(Line::User(entry)) if line_hash(line) == at.hash => entry,
            _ => {
                let message = "the line changed while it was being read".to_owned();
                problems.push(problem(String::new(), message));
                continue;
            }
        };
        match load::user_alone(dir, entry) {
            Ok(user) => read.push((user, *at)),
            Err(pending) => problems.extend(
                pending
                    .into_iter()
                    .map(|p| problem(p.field.replacen("users[0].", "", 1), p.message)),
            ),
        }
    }
    if problems.is_empty() {
        Ok(read)
    } else {
        Err(Problems(problems))
    }
}

/// Sorts the users (read ones followed by the ghosts read after them) back into file order, with
/// the lookups rebuilt.
fn into_file_order(dir: &mut Directory) {
    let mut users: Vec<(User, UserLine)> = std::mem::take(&mut dir.users)
        .into_iter()
        .zip(std::mem::take(&mut dir.lines))
        .collect();
    users.sort_by_key(|(_, line)| line.at.number);
    dir.users_by_id.clear();
    dir.users_by_upn.clear();
    for (i, (user, line)) in users.into_iter().enumerate() {
        dir.users_by_id.insert(user.object_id.clone(), i);
        dir.users_by_upn.insert(user.upn.to_lowercase(), i);
        dir.users.push(user);
        dir.lines.push(line);
    }
}

fn parse_lines(
    file: &str,
    text: &str,
    lines: Vec<(LineAt, &str)>,
    ghosts: Option<Box<Ghosts>>,
) -> Result<Directory, Problems> {
    // Lines are independent: parse them on every core, shared by bytes (group lines are long).
    let parsed = par::map_weighted(
        lines,
        |(_, line)| line.len(),
        1 << 20,
        |(at, line)| (at, serde_json::from_str::<Line>(line)),
    );
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut user_lines = Vec::new();
    let mut group_lines = Vec::new();
    let mut problems = Vec::new();
    for (at, line) in parsed {
        match line {
            Ok(Line::User(entry)) => {
                users.push(entry);
                user_lines.push(at);
            }
            Ok(Line::Group(entry)) => {
                groups.push(entry);
                group_lines.push(at);
            }
            Err(err) => problems.push(Problem {
                file: file.to_owned(),
                location: Location {
                    line: at.number,
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
    let (mut dir, pending, dropped) = load::build(users, groups, &user_lines, ghosts);
    if pending.is_empty() && dropped.is_empty() {
        return Ok(dir);
    }
    let lines = HashMap::from([("users", user_lines), ("groups", group_lines)]);
    let place = |pending: Vec<Pending>| {
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
        problems
    };
    if !pending.is_empty() {
        return Err(Problems(place(pending)));
    }
    dir.warnings = place(dropped);
    Ok(dir)
}

/// The line of the entry a key path names (`users[3].manager`), at the key (or its value).
fn locate(text: &str, lines: &HashMap<&str, Vec<LineAt>>, pending: &Pending) -> Location {
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
    use crate::directory::{MemberRef, SourceIndex};

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
            ["t.jsonl:3:62: users[2].mial: unknown field \"mial\" (did you mean \"mail\"?)"]
        );
        let text = text.lines().take(2).collect::<Vec<_>>().join("\n");
        let dir = Directory::parse("t.jsonl", &text).unwrap_or_else(|p| panic!("{p}"));
        let warnings: Vec<String> = dir.warnings().iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            [
                "t.jsonl:2:72: users[1].manager: \"nobody\" names no user or group; treated as deleted"
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

    fn index_of(text: &str) -> SourceIndex {
        let dir = Directory::parse("t.jsonl", text).unwrap_or_else(|p| panic!("{p}"));
        next_index(&dir)
    }

    fn next_index(dir: &Directory) -> SourceIndex {
        let mut bytes = Vec::new();
        dir.write_source_index("m", |_| 0, |_| None, &[], &mut bytes)
            .expect("an index");
        SourceIndex::decode(&bytes).expect("decodes")
    }

    fn ids(dir: &Directory) -> Vec<&str> {
        dir.users().iter().map(|u| u.object_id.as_str()).collect()
    }

    const U1: &str = "{\"user\":{\"objectId\":\"u1\",\"userPrincipalName\":\"a@contoso.com\"}}\n";
    const U2: &str = "{\"user\":{\"objectId\":\"u2\",\"userPrincipalName\":\"b@contoso.com\",\"manager\":\"u1\"}}\n";
    const U3: &str = "{\"user\":{\"objectId\":\"u3\",\"userPrincipalName\":\"c@contoso.com\",\"manager\":\"A@contoso.com\"}}\n";
    const U4: &str = "{\"user\":{\"objectId\":\"u4\",\"userPrincipalName\":\"d@contoso.com\"}}\n";
    const G1: &str = "{\"group\":{\"objectId\":\"g1\",\"displayName\":\"G\",\"members\":[\"u1\",\"d@contoso.com\"]}}\n";

    #[test]
    fn only_changed_lines_groups_and_upn_managers_are_read() {
        let v1 = [U1, U2, U3, U4, G1].concat();
        let index = index_of(&v1);
        assert_eq!(
            index.users.iter().map(|u| u.reread).collect::<Vec<_>>(),
            [false, false, true, false],
            "a manager written as a UPN depends on other lines"
        );
        let dir = Directory::parse_delta("t.jsonl", &v1, index.clone(), "m")
            .unwrap_or_else(|p| panic!("{p}"));
        assert!(dir.is_partial());
        assert_eq!(ids(&dir), ["u3"]);
        assert_eq!(dir.ghost_ids(), ["u1", "u2", "u4"]);
        assert_eq!(
            dir.user("u3").and_then(|u| u.manager.as_deref()),
            Some("u1"),
            "resolved to a ghost"
        );
        assert_eq!(dir.groups().first().map(|g| g.members.len()), Some(2));
        assert!(dir.gone().is_empty());
        assert_eq!(dir.user_name("u2"), Some("b@contoso.com"));

        // u2 edited, u4 gone (and out of the group): u2 and u3 read, u4 gone.
        let u2 = U2.replace("b@contoso.com\"", "b@contoso.com\",\"city\":\"Oslo\"");
        let g1 = G1.replace(",\"d@contoso.com\"", "");
        let v2 = [U1, &u2, U3, &g1].concat();
        let mut dir = Directory::parse_delta("t.jsonl", &v2, index.clone(), "m")
            .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(ids(&dir), ["u2", "u3"]);
        assert_eq!(
            dir.gone(),
            [MemberRef {
                object_id: "u4".into(),
                kind: super::super::MemberKind::User
            }]
        );
        // A ghost read after all (its assignment changed) joins in file order.
        dir.read_ghosts("t.jsonl", &v2, |id, _| id == "u1")
            .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(ids(&dir), ["u1", "u2", "u3"]);
        assert_eq!(dir.ghost_ids(), Vec::<&str>::new());
        let next = next_index(&dir);
        assert_eq!(
            next,
            index_of(&v2),
            "the next index is the one of reading every line"
        );

        // Another mapping: every line.
        let dir = Directory::parse_delta("t.jsonl", &v1, index, "other")
            .unwrap_or_else(|p| panic!("{p}"));
        assert!(!dir.is_partial());
        assert_eq!(ids(&dir), ["u1", "u2", "u3", "u4"]);
    }

    /// Issue 18 item 10: a duplicate overwrote the lookup before it was detected (u2's manager
    /// u1 became u2 itself). It is the one problem, whether every line is read or only the
    /// changed ones.
    #[test]
    fn a_duplicate_is_the_one_problem_read_either_way() {
        let index = index_of(&[U1, U2, U3, U4, G1].concat());
        let same_id = "{\"user\":{\"objectId\":\"u1\",\"userPrincipalName\":\"e@contoso.com\"}}\n";
        let same_upn = "{\"user\":{\"objectId\":\"u5\",\"userPrincipalName\":\"a@CONTOSO.com\"}}\n";
        for (text, expected) in [
            (
                [U1, same_id, U2, U3, U4, G1].concat(),
                "t.jsonl:2:21: users[1].objectId: duplicate objectId \"u1\"",
            ),
            (
                [U1, U2, U3, U4, same_upn, G1].concat(),
                "t.jsonl:5:46: users[4].userPrincipalName: duplicate userPrincipalName \"a@CONTOSO.com\"",
            ),
        ] {
            for read in [
                Directory::parse("t.jsonl", &text),
                Directory::parse_delta("t.jsonl", &text, index.clone(), "m"),
            ] {
                let problems: Vec<String> = read
                    .err()
                    .map(|p| p.0.iter().map(ToString::to_string).collect())
                    .unwrap_or_default();
                assert_eq!(problems, [expected], "{text}");
            }
        }
    }

    #[test]
    fn doubts_are_decided_by_reading_every_line() {
        let v1 = [U1, U2, U3, U4, G1].concat();
        let index = index_of(&v1);
        // The problems, or the users, unread users and warnings.
        let outcome = |read: Result<Directory, Problems>| match read {
            Ok(dir) => {
                let mut seen: Vec<String> = ids(&dir).into_iter().map(str::to_owned).collect();
                seen.extend(dir.ghost_ids().into_iter().map(|g| format!("ghost {g}")));
                seen.extend(dir.warnings().iter().map(ToString::to_string));
                seen
            }
            Err(p) => p.0.iter().map(ToString::to_string).collect(),
        };
        let full = |text: &str| outcome(Directory::parse("t.jsonl", text));
        let delta =
            |text: &str| outcome(Directory::parse_delta("t.jsonl", text, index.clone(), "m"));
        // A new line taking an unchanged user's UPN; an unchanged user's manager gone (a
        // warning: deleted); a group member gone; a malformed line.
        let clash = "{\"user\":{\"objectId\":\"u5\",\"userPrincipalName\":\"B@contoso.com\"}}\n";
        for text in [
            [U1, U2, U3, U4, clash, G1].concat(),
            [U2, U3, U4, G1].concat(),
            [U1, U2, U3, G1].concat(),
            [U1, U2, U3, U4, "{\"user\":\n", G1].concat(),
        ] {
            let expected = full(&text);
            assert!(expected.iter().any(|p| p.starts_with("t.jsonl:")), "{text}");
            assert_eq!(delta(&text), expected, "{text}");
        }
    }
}
