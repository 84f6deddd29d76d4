//! Writes users and groups back out as a directory file, YAML or JSON lines, in one canonical key
//! order, so that loading what was written gives back an equal [`Directory`](super::Directory).
//! Entries are streamed into any `impl Write`: nothing is built up per file.
//!
//! Defaults are left out (`accountEnabled: true`, `softDeleted: false`, `securityEnabled: true`,
//! `originalUserPrincipalName` equal to the UPN), references are written as objectIds.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{Group, User};
use crate::expr::Value;

/// The two directory file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryFormat {
    /// `users:` / `groups:` lists (`*.yaml`, `*.yml` and anything else).
    Yaml,
    /// One `{"user":{…}}` or `{"group":{…}}` object per line (`*.jsonl`).
    JsonLines,
}

impl DirectoryFormat {
    /// The format a file name selects: `.jsonl` is JSON lines, anything else YAML.
    pub fn for_path(name: &str) -> DirectoryFormat {
        if name.to_ascii_lowercase().ends_with(".jsonl") {
            DirectoryFormat::JsonLines
        } else {
            DirectoryFormat::Yaml
        }
    }
}

/// User keys in the order they are written; keys not listed (directory extensions) follow in
/// name order, then `accountEnabled` and `softDeleted`.
const USER_KEY_ORDER: &[&str] = &[
    "originalUserPrincipalName",
    "mailNickname",
    "mail",
    "givenName",
    "surname",
    "displayName",
    "jobTitle",
    "department",
    "employeeId",
    "telephoneNumber",
    "mobile",
    "facsimileTelephoneNumber",
    "streetAddress",
    "city",
    "state",
    "postalCode",
    "country",
    "physicalDeliveryOfficeName",
    "preferredLanguage",
    "userType",
    "onPremisesSecurityIdentifier",
    "proxyAddresses",
    "extensionAttribute1",
    "extensionAttribute2",
    "extensionAttribute3",
    "extensionAttribute4",
    "extensionAttribute5",
    "extensionAttribute6",
    "extensionAttribute7",
    "extensionAttribute8",
    "extensionAttribute9",
    "extensionAttribute10",
    "extensionAttribute11",
    "extensionAttribute12",
    "extensionAttribute13",
    "extensionAttribute14",
    "extensionAttribute15",
];

/// User attributes the writer takes from the model's fields rather than from `attrs`.
const USER_MODEL_KEYS: &[&str] = &["objectId", "userPrincipalName", "accountEnabled", "manager"];

/// Group attributes written before the extensions; `securityEnabled` and `members` come last.
const GROUP_KEY_ORDER: &[&str] = &["mailNickname", "description"];

/// Group attributes taken from the model's fields.
const GROUP_MODEL_KEYS: &[&str] = &["objectId", "displayName", "securityEnabled"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Start,
    Users,
    Groups,
}

/// One value as written.
enum Field<'a> {
    Text(&'a str),
    Bool(bool),
    List(&'a [String]),
}

/// Streams a directory file: all users first, then all groups.
pub struct DirectoryWriter<W: Write> {
    out: W,
    format: DirectoryFormat,
    section: Section,
    /// Fields of the entry being written, reused between entries.
    fields_written: usize,
}

impl<W: Write> DirectoryWriter<W> {
    /// A writer of `format` into `out`. `comment` lines open a YAML file as `# …` (JSON lines have
    /// no comments, so they are dropped there).
    pub fn new(mut out: W, format: DirectoryFormat, comment: &[String]) -> io::Result<Self> {
        if format == DirectoryFormat::Yaml {
            for line in comment {
                writeln!(out, "# {line}")?;
            }
        }
        Ok(DirectoryWriter {
            out,
            format,
            section: Section::Start,
            fields_written: 0,
        })
    }

    /// Writes one user. Users must all come before the first group.
    pub fn user(&mut self, user: &User) -> io::Result<()> {
        self.enter(Section::Users)?;
        self.open("user")?;
        self.field("objectId", Field::Text(&user.object_id))?;
        self.field("userPrincipalName", Field::Text(&user.upn))?;
        let attrs = &user.attrs;
        for &key in USER_KEY_ORDER {
            if key == "originalUserPrincipalName"
                && matches!(attrs.get(key), Some(Value::Str(s)) if *s == user.upn)
            {
                continue;
            }
            if let Some(value) = attrs.get(key) {
                self.value(key, value)?;
            }
            if key == "employeeId"
                && let Some(manager) = &user.manager
            {
                self.field("manager", Field::Text(manager))?;
            }
        }
        self.remaining(attrs, USER_KEY_ORDER, USER_MODEL_KEYS)?;
        if !user.account_enabled {
            self.field("accountEnabled", Field::Bool(false))?;
        }
        if user.soft_deleted {
            self.field("softDeleted", Field::Bool(true))?;
        }
        self.close()
    }

    /// Writes one group.
    pub fn group(&mut self, group: &Group) -> io::Result<()> {
        self.enter(Section::Groups)?;
        self.open("group")?;
        self.field("objectId", Field::Text(&group.object_id))?;
        self.field("displayName", Field::Text(&group.display_name))?;
        for &key in GROUP_KEY_ORDER {
            if let Some(value) = group.attrs.get(key) {
                self.value(key, value)?;
            }
        }
        self.remaining(&group.attrs, GROUP_KEY_ORDER, GROUP_MODEL_KEYS)?;
        if matches!(group.attrs.get("securityEnabled"), Some(Value::Str(s)) if s == "False") {
            self.field("securityEnabled", Field::Bool(false))?;
        }
        let members: Vec<String> = group.members.iter().map(|m| m.object_id.clone()).collect();
        self.field("members", Field::List(&members))?;
        self.close()
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn enter(&mut self, section: Section) -> io::Result<()> {
        if section < self.section {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a directory file lists all users before the first group",
            ));
        }
        if section != self.section {
            self.section = section;
            if self.format == DirectoryFormat::Yaml {
                let name = if section == Section::Users {
                    "users"
                } else {
                    "groups"
                };
                writeln!(self.out, "{name}:")?;
            }
        }
        Ok(())
    }

    fn open(&mut self, kind: &str) -> io::Result<()> {
        self.fields_written = 0;
        if self.format == DirectoryFormat::JsonLines {
            write!(self.out, "{{\"{kind}\":{{")?;
        }
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        if self.format == DirectoryFormat::JsonLines {
            self.out.write_all(b"}}\n")?;
        }
        Ok(())
    }

    /// Attributes neither in `order` nor taken from the model, in name order.
    fn remaining(
        &mut self,
        attrs: &BTreeMap<String, Value>,
        order: &[&str],
        model: &[&str],
    ) -> io::Result<()> {
        for (key, value) in attrs {
            if !order.contains(&key.as_str()) && !model.contains(&key.as_str()) {
                self.value(key, value)?;
            }
        }
        Ok(())
    }

    fn value(&mut self, key: &str, value: &Value) -> io::Result<()> {
        match value {
            Value::Str(s) => self.field(key, Field::Text(s)),
            Value::Multi(items) => self.field(key, Field::List(items)),
            Value::Null | Value::Roles(_) => Ok(()),
        }
    }

    fn field(&mut self, key: &str, value: Field<'_>) -> io::Result<()> {
        let first = self.fields_written == 0;
        self.fields_written += 1;
        match self.format {
            DirectoryFormat::Yaml => {
                let indent = if first { "  - " } else { "    " };
                write!(self.out, "{indent}{key}:")?;
                match value {
                    Field::Text(s) => {
                        self.out.write_all(b" ")?;
                        write_yaml_scalar(&mut self.out, s)?;
                    }
                    Field::Bool(b) => write!(self.out, " {b}")?,
                    Field::List([]) => self.out.write_all(b" []")?,
                    Field::List(items) => {
                        for item in items {
                            self.out.write_all(b"\n      - ")?;
                            write_yaml_scalar(&mut self.out, item)?;
                        }
                    }
                }
                self.out.write_all(b"\n")
            }
            DirectoryFormat::JsonLines => {
                if !first {
                    self.out.write_all(b",")?;
                }
                write_json_string(&mut self.out, key)?;
                self.out.write_all(b":")?;
                match value {
                    Field::Text(s) => write_json_string(&mut self.out, s),
                    Field::Bool(b) => write!(self.out, "{b}"),
                    Field::List(items) => {
                        self.out.write_all(b"[")?;
                        for (i, item) in items.iter().enumerate() {
                            if i > 0 {
                                self.out.write_all(b",")?;
                            }
                            write_json_string(&mut self.out, item)?;
                        }
                        self.out.write_all(b"]")
                    }
                }
            }
        }
    }
}

/// A YAML scalar: plain when it cannot be misread (starts with a letter, only letters, digits,
/// spaces and a few punctuation marks, not a YAML 1.1 boolean or null), else double-quoted.
fn write_yaml_scalar(out: &mut impl Write, s: &str) -> io::Result<()> {
    if is_plain_safe(s) {
        out.write_all(s.as_bytes())
    } else {
        write_json_string(out, s)
    }
}

fn is_plain_safe(s: &str) -> bool {
    const RESERVED: &[&str] = &["true", "false", "null", "yes", "no", "on", "off", "y", "n"];
    s.chars().next().is_some_and(char::is_alphabetic)
        && !s.ends_with(' ')
        && !s.contains("  ")
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_' | '@' | '(' | ')'))
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

/// A JSON string, which is also a valid YAML double-quoted scalar: quotes, backslashes and every
/// character YAML does not allow unescaped (controls, DEL, C1 controls, U+FEFF, U+FFFE/F) escaped.
fn write_json_string(out: &mut impl Write, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.write_all(s.as_bytes())?;
    } else {
        let mut buf = [0u8; 4];
        for c in s.chars() {
            match c {
                '"' => out.write_all(b"\\\"")?,
                '\\' => out.write_all(b"\\\\")?,
                '\n' => out.write_all(b"\\n")?,
                '\r' => out.write_all(b"\\r")?,
                '\t' => out.write_all(b"\\t")?,
                '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => {
                    write!(out, "\\u{:04x}", u32::from(c))?
                }
                c => out.write_all(c.encode_utf8(&mut buf).as_bytes())?,
            }
        }
    }
    out.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Directory;

    fn write_all(dir: &Directory, format: DirectoryFormat) -> String {
        let mut writer = DirectoryWriter::new(Vec::new(), format, &[]).expect("vec");
        for user in dir.users() {
            writer.user(user).expect("vec");
        }
        for group in dir.groups() {
            writer.group(group).expect("vec");
        }
        String::from_utf8(writer.finish().expect("vec")).expect("utf-8")
    }

    #[test]
    fn contoso_round_trips_in_both_formats() {
        let text = include_str!("../../directory-samples/contoso.yaml");
        let dir = Directory::parse("contoso.yaml", text).expect("valid sample");
        for (format, name) in [
            (DirectoryFormat::Yaml, "out.yaml"),
            (DirectoryFormat::JsonLines, "out.jsonl"),
        ] {
            let written = write_all(&dir, format);
            let again = match Directory::parse(name, &written) {
                Ok(d) => d,
                Err(p) => panic!("{p}\n{written}"),
            };
            assert_eq!(again.users(), dir.users(), "{name}");
            assert_eq!(again.groups(), dir.groups(), "{name}");
            assert_eq!(write_all(&again, format), written, "{name} is stable");
        }
    }

    #[test]
    fn awkward_strings_survive_both_formats() {
        let awkward = [
            "yes",
            "No",
            "123",
            "1e5",
            "- dash",
            "a: b",
            "x #y",
            "quote \" and \\ back",
            "tab\there",
            "new\nline",
            "trailing ",
            "\u{85}nel and \u{feff}bom",
            "Zoë Ødegård",
            "",
        ];
        for s in awkward {
            let mut yaml =
                b"users:\n  - objectId: x\n    userPrincipalName: a@b\n    jobTitle: ".to_vec();
            write_yaml_scalar(&mut yaml, s).expect("vec");
            let yaml = String::from_utf8(yaml).expect("utf-8");
            let dir = Directory::parse("t.yaml", &yaml).unwrap_or_else(|p| panic!("{s:?}: {p}"));
            let got = dir.users().first().and_then(|u| u.attrs.get("jobTitle"));
            assert_eq!(got, Some(&Value::Str(s.to_owned())), "{yaml}");
        }
    }
}
