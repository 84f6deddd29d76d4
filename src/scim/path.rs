//! Target attribute paths as written in a mapping's `targetAttributeName` (`userName`,
//! `name.givenName`, `emails[type eq "work"].value`, full-URN extension paths): parsing with
//! column-carrying errors, rendering back to the string Entra puts in a PATCH `path`, and tolerant
//! reading of the current value at the path from a resource a server returned.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde_json::Value as Json;

use crate::expr::Value;
use crate::scim::schema::{self, AttrShape, AttrType};

/// A `[attr eq "value"]` value filter on a multi-valued attribute.
#[derive(Debug, Clone)]
pub struct ValueFilter {
    /// The filtered sub-attribute, as written (`type`, `primary`).
    pub attr: String,
    /// The compared value, unquoted (`work`, `True`).
    pub value: String,
}

/// A parsed target attribute path. Equality and hashing are case-insensitive (SCIM attribute names
/// are); rendering keeps the spelling of the mapping.
#[derive(Debug, Clone)]
pub struct TargetPath {
    schema: Option<String>,
    attr: String,
    filter: Option<ValueFilter>,
    sub: Option<String>,
}

/// Why a target attribute path did not parse; `column` is 1-based, in characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target attribute `{path}`, column {column}: expected {expected}")]
pub struct PathError {
    /// The path as given.
    pub path: String,
    /// 1-based character column of the problem.
    pub column: usize,
    /// What the parser wanted there.
    pub expected: &'static str,
}

impl TargetPath {
    /// Parses a mapping's target attribute.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        Parser {
            text,
            chars: text.char_indices().collect(),
            pos: 0,
        }
        .path()
    }

    /// The attribute name (for extension paths, the name after the URN).
    pub fn attr(&self) -> &str {
        &self.attr
    }

    /// The sub-attribute (`givenName` in `name.givenName`, `value` in `emails[…].value`).
    pub fn sub_attr(&self) -> Option<&str> {
        self.sub.as_deref()
    }

    /// The value filter, if any.
    pub fn filter(&self) -> Option<&ValueFilter> {
        self.filter.as_ref()
    }

    /// The extension schema URN of a full-URN path (`urn:…:enterprise:2.0:User`).
    pub fn extension_urn(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// True for `attr[filter].sub` paths: they keep their own op in `aadOptscim062020` PATCHes.
    pub fn is_value_filtered(&self) -> bool {
        self.filter.is_some()
    }

    /// True when the path is `name` (case-insensitively) with no URN, filter or sub-attribute.
    pub fn is_plain(&self, name: &str) -> bool {
        self.schema.is_none()
            && self.filter.is_none()
            && self.sub.is_none()
            && self.attr.eq_ignore_ascii_case(name)
    }

    /// True when the path addresses the core `roles` attribute (filtered or not).
    pub(crate) fn is_roles(&self) -> bool {
        self.schema.is_none() && self.attr.eq_ignore_ascii_case("roles")
    }

    /// What the built-in schema says about this path.
    pub fn shape(&self) -> AttrShape {
        schema::shape(
            self.schema.as_deref(),
            &self.attr,
            self.sub.as_deref(),
            self.filter.is_some(),
        )
    }

    /// True for reference attributes (`manager`, `members`): never in a POST, linked afterwards.
    pub fn is_reference(&self) -> bool {
        self.shape().ty == AttrType::Reference
    }

    /// Reads the current value at this path from a resource returned by a server.
    ///
    /// Tolerant: keys match case-insensitively; a reference may be a string or `{value, …}`; a
    /// boolean may be `true` or `"True"`/`"true"` (normalised to `"True"`/`"False"`); numbers
    /// become strings; a missing element, `null` or an unreadable shape is [`Value::Null`].
    pub fn read(&self, resource: &Json) -> Value {
        let shape = self.shape();
        let found = match &self.schema {
            Some(urn) => get_ci(resource, urn)
                .and_then(|ext| get_ci(ext, &self.attr))
                .or_else(|| get_ci(resource, &self.to_string())),
            None => self.read_core(resource),
        };
        let value = found.map_or(Value::Null, |json| json_to_value(json, shape.multi_valued));
        match (shape.ty, value) {
            (AttrType::Boolean, Value::Str(text)) => {
                Value::Str(normalise_bool(&text).unwrap_or(text))
            }
            (_, value) => value,
        }
    }

    fn read_core<'a>(&self, resource: &'a Json) -> Option<&'a Json> {
        let container = get_ci(resource, &self.attr)?;
        let Some(filter) = &self.filter else {
            return match &self.sub {
                Some(sub) => get_ci(container, sub),
                None => Some(container),
            };
        };
        let element = match container {
            Json::Array(items) => items.iter().find(|item| filter.matches(item)),
            Json::Object(_) => Some(container).filter(|item| filter.matches(item)),
            _ => None,
        }?;
        get_ci(element, self.sub.as_deref().unwrap_or("value"))
    }
}

impl ValueFilter {
    /// True when `element[attr]` equals the filter value (case-insensitive; `true` equals `"True"`).
    pub(crate) fn matches(&self, element: &Json) -> bool {
        get_ci(element, &self.attr)
            .and_then(scalar_text)
            .is_some_and(|text| text.eq_ignore_ascii_case(&self.value))
    }
}

impl fmt::Display for TargetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.schema {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{} eq {}]", filter.attr, filter_literal(&filter.value))?;
        }
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl PartialEq for TargetPath {
    fn eq(&self, other: &Self) -> bool {
        self.to_string().eq_ignore_ascii_case(&other.to_string())
    }
}

impl Eq for TargetPath {}

impl Hash for TargetPath {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.to_string().to_ascii_lowercase().hash(state);
    }
}

/// A SCIM filter string literal: double-quoted, with `\` and `"` escaped.
pub fn filter_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for ch in value.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// `"True"`/`"true"`/`"TRUE"` → `"True"`, likewise for false; anything else is not a boolean.
pub(crate) fn normalise_bool(text: &str) -> Option<String> {
    if text.eq_ignore_ascii_case("true") {
        Some("True".to_owned())
    } else if text.eq_ignore_ascii_case("false") {
        Some("False".to_owned())
    } else {
        None
    }
}

/// Looks a key up in a JSON object: the exact key first, then case-insensitively.
pub(crate) fn get_ci<'a>(json: &'a Json, key: &str) -> Option<&'a Json> {
    let map = json.as_object()?;
    map.get(key)
        .or_else(|| {
            map.iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(key))
                .map(|(_, value)| value)
        })
        .filter(|value| !value.is_null())
}

/// A scalar as Entra's string form: strings as is, booleans `True`/`False`, numbers in decimal.
pub(crate) fn scalar_text(json: &Json) -> Option<String> {
    match json {
        Json::String(text) => Some(text.clone()),
        Json::Bool(true) => Some("True".to_owned()),
        Json::Bool(false) => Some("False".to_owned()),
        Json::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A scalar, or the `value` of a complex object (a manager returned as `{value, $ref}`).
fn item_text(json: &Json) -> Option<String> {
    scalar_text(json).or_else(|| get_ci(json, "value").and_then(scalar_text))
}

fn json_to_value(json: &Json, multi_valued: bool) -> Value {
    match json {
        Json::Array(items) => {
            let values: Vec<String> = items.iter().filter_map(item_text).collect();
            if values.is_empty() {
                Value::Null
            } else {
                Value::Multi(values)
            }
        }
        other => match item_text(other) {
            Some(text) if multi_valued => Value::Multi(vec![text]),
            Some(text) => Value::Str(text),
            None => Value::Null,
        },
    }
}

struct Parser<'a> {
    text: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
}

impl Parser<'_> {
    fn path(mut self) -> Result<TargetPath, PathError> {
        if self
            .text
            .get(..4)
            .is_some_and(|head| head.eq_ignore_ascii_case("urn:"))
        {
            return self.extension_path();
        }
        let attr = self.name("an attribute name")?;
        let filter = if self.eat('[') {
            Some(self.filter()?)
        } else {
            None
        };
        let sub = if self.eat('.') {
            Some(self.name("a sub-attribute name")?)
        } else if filter.is_some() {
            return Err(self.error("`.` and a sub-attribute after the filter"));
        } else {
            None
        };
        if self.peek().is_some() {
            return Err(self.error(if filter.is_some() {
                "end of path"
            } else {
                "`.`, `[` or end of path"
            }));
        }
        Ok(TargetPath {
            schema: None,
            attr,
            filter,
            sub,
        })
    }

    fn extension_path(mut self) -> Result<TargetPath, PathError> {
        let Some(colon) = self.chars.iter().rposition(|(_, ch)| *ch == ':') else {
            return Err(self.error("a schema URN"));
        };
        let urn_end = self
            .chars
            .get(colon)
            .map_or(self.text.len(), |(offset, _)| *offset);
        if self
            .chars
            .get(..colon)
            .is_some_and(|urn| urn.iter().any(|(_, ch)| ch.is_whitespace()))
        {
            self.pos = self
                .chars
                .iter()
                .position(|(_, ch)| ch.is_whitespace())
                .unwrap_or(colon);
            return Err(self.error("a schema URN without spaces"));
        }
        self.pos = colon + 1;
        let attr = self.name("an attribute name after the schema URN")?;
        if self.peek().is_some() {
            return Err(self.error("end of path after the extension attribute"));
        }
        let schema = self.text.get(..urn_end).unwrap_or_default().to_owned();
        Ok(TargetPath {
            schema: Some(schema),
            attr,
            filter: None,
            sub: None,
        })
    }

    fn filter(&mut self) -> Result<ValueFilter, PathError> {
        self.skip_spaces();
        let attr = self.name("a filter attribute")?;
        if !self.skip_spaces() {
            return Err(self.error("a space before `eq`"));
        }
        let op = self.name("`eq`")?;
        if !op.eq_ignore_ascii_case("eq") {
            self.pos -= op.chars().count();
            return Err(self.error("`eq` (the only operator Entra uses)"));
        }
        self.skip_spaces();
        let value = self.quoted()?;
        self.skip_spaces();
        if !self.eat(']') {
            return Err(self.error("`]`"));
        }
        Ok(ValueFilter { attr, value })
    }

    fn quoted(&mut self) -> Result<String, PathError> {
        if !self.eat('"') {
            return Err(self.error("a double-quoted value"));
        }
        let mut value = String::new();
        loop {
            match self.next() {
                Some('"') => return Ok(value),
                Some('\\') => match self.next() {
                    Some(ch) => value.push(ch),
                    None => return Err(self.error("a character after `\\`")),
                },
                Some(ch) => value.push(ch),
                None => return Err(self.error("a closing `\"`")),
            }
        }
    }

    fn name(&mut self, expected: &'static str) -> Result<String, PathError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '$')
        {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error(expected));
        }
        Ok(self
            .chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .map(|(_, ch)| ch)
            .collect())
    }

    fn skip_spaces(&mut self) -> bool {
        let start = self.pos;
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
        self.pos > start
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(_, ch)| *ch)
    }

    fn next(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.pos += 1;
        Some(ch)
    }

    fn eat(&mut self, want: char) -> bool {
        let hit = self.peek() == Some(want);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn error(&self, expected: &'static str) -> PathError {
        PathError {
            path: self.text.to_owned(),
            column: self.pos + 1,
            expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(text: &str) -> TargetPath {
        TargetPath::parse(text).unwrap_or_else(|err| unreachable!("{err}"))
    }

    #[test]
    fn round_trips_every_spec_path() {
        for text in [
            "userName",
            "name.givenName",
            "emails[type eq \"work\"].value",
            "phoneNumbers[type eq \"mobile\"].value",
            "addresses[type eq \"work\"].postalCode",
            "emails[type eq \"other\"].Value",
            "roles[primary eq \"True\"].value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:uniFLOWOnline:2.0:User:localUsername",
            "members",
            "externalId",
            "active",
        ] {
            assert_eq!(path(text).to_string(), text);
        }
        assert_eq!(
            path("emails[ type  eq \"work\" ].value").to_string(),
            "emails[type eq \"work\"].value"
        );
    }

    #[test]
    fn parts_and_case_insensitive_equality() {
        let p = path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager");
        assert_eq!(p.extension_urn(), Some(schema::ENTERPRISE_USER_SCHEMA));
        assert_eq!(p.attr(), "manager");
        assert!(p.is_reference());
        let e = path("emails[type eq \"work\"].value");
        assert!(e.is_value_filtered());
        assert_eq!(e.filter().map(|f| f.value.as_str()), Some("work"));
        assert_eq!(e.sub_attr(), Some("value"));
        assert_eq!(e, path("EMAILS[TYPE eq \"Work\"].VALUE"));
        assert!(path("Active").is_plain("active"));
        assert!(!path("name.givenName").is_value_filtered());
    }

    #[test]
    fn errors_name_the_column() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "an attribute name"),
            ("name.", 6, "a sub-attribute name"),
            (
                "emails[type ne \"work\"].value",
                13,
                "`eq` (the only operator Entra uses)",
            ),
            ("emails[type eq work].value", 16, "a double-quoted value"),
            ("emails[type eq \"work\"", 22, "`]`"),
            ("emails[type eq \"work].value", 28, "a closing `\"`"),
            (
                "emails[type eq \"work\"]",
                23,
                "`.` and a sub-attribute after the filter",
            ),
            ("user Name", 5, "`.`, `[` or end of path"),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
                60,
                "an attribute name after the schema URN",
            ),
        ];
        for (text, column, expected) in cases {
            let err = TargetPath::parse(text).err();
            assert_eq!(
                err.as_ref().map(|e| (e.column, e.expected)),
                Some((*column, *expected)),
                "{text}"
            );
        }
        let err = TargetPath::parse("emails[type eq work].value")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "target attribute `emails[type eq work].value`, column 16: expected a double-quoted value"
            )
        );
    }

    #[test]
    fn reads_tolerantly() {
        let resource = json!({
            "id": 42,
            "UserName": "bjensen@contoso.com",
            "active": "true",
            "name": {"givenName": "Barbara"},
            "emails": [
                {"type": "home", "value": "b@home"},
                {"type": "Work", "value": "b@work", "primary": true}
            ],
            "roles": [{"primary": "True", "value": "Admin"}, {"primary": false, "value": "User"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": 701984,
                "manager": {"value": "m-1", "$ref": "../Users/m-1", "displayName": "Boss"}
            },
            "members": [{"value": "u1"}, {"value": "u2", "display": "Two"}]
        });
        let cases: &[(&str, Value)] = &[
            ("userName", Value::Str("bjensen@contoso.com".into())),
            ("active", Value::Str("True".into())),
            ("name.givenName", Value::Str("Barbara".into())),
            ("name.familyName", Value::Null),
            (
                "emails[type eq \"work\"].value",
                Value::Str("b@work".into()),
            ),
            (
                "emails[type eq \"work\"].primary",
                Value::Str("True".into()),
            ),
            ("emails[type eq \"other\"].value", Value::Null),
            ("phoneNumbers[type eq \"mobile\"].value", Value::Null),
            (
                "roles[primary eq \"True\"].value",
                Value::Str("Admin".into()),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                Value::Str("701984".into()),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                Value::Str("m-1".into()),
            ),
            ("members", Value::Multi(vec!["u1".into(), "u2".into()])),
            ("roles", Value::Multi(vec!["Admin".into(), "User".into()])),
        ];
        for (text, want) in cases {
            assert_eq!(&path(text).read(&resource), want, "{text}");
        }
    }

    #[test]
    fn reads_manager_as_string_and_flat_extension_keys() {
        let manager = path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager");
        let as_string = json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "m-2"}});
        assert_eq!(manager.read(&as_string), Value::Str("m-2".into()));
        let flat =
            json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "m-3"});
        assert_eq!(manager.read(&flat), Value::Str("m-3".into()));
        let null = json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": null}});
        assert_eq!(manager.read(&null), Value::Null);
        assert_eq!(
            path("active").read(&json!({"active": false})),
            Value::Str("False".into())
        );
        assert_eq!(path("userName").read(&json!("not an object")), Value::Null);
    }

    #[test]
    fn filter_literal_escapes() {
        assert_eq!(filter_literal("a\"b\\c"), "\"a\\\"b\\\\c\"");
        let p = path("emails[type eq \"we\\\"ird\"].value");
        assert_eq!(p.filter().map(|f| f.value.as_str()), Some("we\"ird"));
        assert_eq!(p.to_string(), "emails[type eq \"we\\\"ird\"].value");
    }
}
