//! Quirks: named, opt-in behaviours of real SCIM servers that the strict target does not have and
//! that fault rules (a status per method and path) cannot express — a filter that compares
//! case-sensitively, duplicates accepted, a string boolean rejected. Each is modelled on what a
//! server Entra provisions into was seen to do (SCIMMY 1.3.5, scim2-server 0.8.3), so every way
//! such a server fails Entra can be reproduced against the built-in target.
//!
//! The checks here are pure functions of the request (its body, its PATCH operations, its filter)
//! and a stored resource; the handlers call them where the quirk changes the answer.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::target::error::{ScimError, ScimType};
use crate::target::eval::{self, get_ci};
use crate::target::filter::{CompValue, CompareOp, Filter, Path};
use crate::target::patch::{OpKind, PatchOp};
use crate::target::schema::{self, Kind};

/// One named server behaviour (`target serve --quirk NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quirk {
    /// `userName` / `displayName` `eq` filters match case-sensitively (SCIMMY), also under `and`
    /// and `or`.
    CaseSensitiveFilter,
    /// A duplicate `userName` / group `displayName` is created (201), not refused with 409
    /// (scim2-server, for groups).
    NoUniqueness,
    /// `excludedAttributes` is ignored: members come back although excluded.
    IgnoreExcludedAttributes,
    /// `count` and `startIndex` are ignored: every match on one page, `startIndex` 1.
    IgnorePagination,
    /// `active` given as a string (`"False"`) is refused with 400 `invalidValue` (SCIMMY).
    StrictBooleans,
    /// A group POST or PUT whose `schemas` carries Entra's ADSCIM extension URN is refused with
    /// 400 `invalidValue` (scim2-server).
    RejectAdscimUrn,
    /// A PATCH `remove` of `members` or `manager` with a `value` list and no filter in the path is
    /// refused with 400 `invalidValue` (scim2-server).
    RejectRemoveWithValue,
    /// A `manager` given as a plain id string is refused with 400 `invalidValue`; only
    /// `{"value": id}` is accepted (SCIMMY and scim2-server).
    ManagerComplexOnly,
}

impl Quirk {
    /// Every quirk, in the order the help lists them.
    pub const ALL: [Quirk; 8] = [
        Quirk::CaseSensitiveFilter,
        Quirk::NoUniqueness,
        Quirk::IgnoreExcludedAttributes,
        Quirk::IgnorePagination,
        Quirk::StrictBooleans,
        Quirk::RejectAdscimUrn,
        Quirk::RejectRemoveWithValue,
        Quirk::ManagerComplexOnly,
    ];

    /// The name `--quirk` takes.
    pub fn name(self) -> &'static str {
        match self {
            Quirk::CaseSensitiveFilter => "case-sensitive-filter",
            Quirk::NoUniqueness => "no-uniqueness",
            Quirk::IgnoreExcludedAttributes => "ignore-excluded-attributes",
            Quirk::IgnorePagination => "ignore-pagination",
            Quirk::StrictBooleans => "strict-booleans",
            Quirk::RejectAdscimUrn => "reject-adscim-urn",
            Quirk::RejectRemoveWithValue => "reject-remove-with-value",
            Quirk::ManagerComplexOnly => "manager-complex-only",
        }
    }
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--quirk` name that names no [`Quirk`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown quirk '{0}'; known quirks: {known}", known = known_names())]
pub struct UnknownQuirk(pub String);

fn known_names() -> String {
    Quirk::ALL.map(Quirk::name).join(", ")
}

impl FromStr for Quirk {
    type Err = UnknownQuirk;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Quirk::ALL
            .into_iter()
            .find(|q| q.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownQuirk(name.to_string()))
    }
}

/// The quirks a target runs with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quirks(Vec<Quirk>);

impl Quirks {
    /// The set of `list` (repeats are harmless).
    pub fn new(list: &[Quirk]) -> Self {
        let mut v = list.to_vec();
        v.sort();
        v.dedup();
        Quirks(v)
    }

    /// Whether `q` is on.
    pub fn has(&self, q: Quirk) -> bool {
        self.0.contains(&q)
    }

    /// Refuses a POST/PUT body (before it is normalised) as the quirks on say.
    pub fn check_body(&self, kind: Kind, body: &Value) -> Result<(), ScimError> {
        let Some(map) = body.as_object() else {
            return Ok(());
        };
        if self.has(Quirk::StrictBooleans) && get_ci(map, "active").is_some_and(Value::is_string) {
            return Err(string_boolean("active"));
        }
        if self.has(Quirk::RejectAdscimUrn) && kind == Kind::Group {
            reject_adscim(map)?;
        }
        // A plain-string manager in a POST/PUT body is refused without any quirk.
        Ok(())
    }

    /// Refuses PATCH operations as the quirks on say.
    pub fn check_patch(&self, ops: &[PatchOp]) -> Result<(), ScimError> {
        for op in ops {
            let value = op.value.as_ref();
            match &op.path {
                Some(path) => self.check_path_op(op.kind, path, value)?,
                None => {
                    if let Some(Value::Object(map)) = value {
                        self.check_pathless(map)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn check_path_op(
        &self,
        kind: OpKind,
        path: &Path,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        let plain = path.filter.is_none() && path.sub.is_none();
        let is = |attr: &str| plain && path.attr.eq_ignore_ascii_case(attr);
        if self.has(Quirk::StrictBooleans) && is("active") && value.is_some_and(Value::is_string) {
            return Err(string_boolean("active"));
        }
        let is_ref = is("members") || is("manager");
        let with_value = value.is_some_and(|v| !v.is_null());
        if self.has(Quirk::RejectRemoveWithValue) && kind == OpKind::Remove && is_ref && with_value
        {
            return Err(remove_with_value(&path.attr));
        }
        let string_manager = is("manager") && kind != OpKind::Remove;
        if self.has(Quirk::ManagerComplexOnly)
            && string_manager
            && value.is_some_and(Value::is_string)
        {
            return Err(plain_manager());
        }
        Ok(())
    }

    /// A path-less op: its value's keys are attributes (or full-URN attribute paths).
    fn check_pathless(&self, map: &Map<String, Value>) -> Result<(), ScimError> {
        if self.has(Quirk::StrictBooleans) && get_ci(map, "active").is_some_and(Value::is_string) {
            return Err(string_boolean("active"));
        }
        if self.has(Quirk::ManagerComplexOnly) && has_string_manager(map) {
            return Err(plain_manager());
        }
        Ok(())
    }

    /// With [`Quirk::CaseSensitiveFilter`], whether `res` also matches `f`'s `eq` comparisons
    /// on `userName` / `displayName` exactly (the store has matched them case-insensitively).
    pub fn exact_match(&self, kind: Kind, f: &Filter, res: &Map<String, Value>) -> bool {
        !self.has(Quirk::CaseSensitiveFilter) || case_exact_eq(kind, f, res)
    }
}

/// Whether `res`, which matches `f` case-insensitively, also matches it with `eq` on the unique
/// attribute compared exactly. Under `or` the branch that matched decides; under `not` the
/// case-insensitive answer stands.
fn case_exact_eq(kind: Kind, f: &Filter, res: &Map<String, Value>) -> bool {
    let branch =
        |g: &Filter| eval::matches(g, res, kind.core_urn(), None) && case_exact_eq(kind, g, res);
    match f {
        Filter::And(a, b) => case_exact_eq(kind, a, res) && case_exact_eq(kind, b, res),
        Filter::Or(a, b) => branch(a) || branch(b),
        Filter::Compare(path, CompareOp::Eq, CompValue::Str(want))
            if is_unique_attr(kind, path) =>
        {
            get_ci(res, &path.attr).and_then(Value::as_str) == Some(want.as_str())
        }
        _ => true,
    }
}

fn is_unique_attr(kind: Kind, path: &Path) -> bool {
    path.filter.is_none()
        && path.sub.is_none()
        && path.attr.eq_ignore_ascii_case(kind.unique_attr())
        && path
            .urn
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(kind.core_urn()))
}

fn string_boolean(attr: &str) -> ScimError {
    ScimError::bad(
        ScimType::InvalidValue,
        format!("'{attr}' must be a JSON boolean, not a string"),
    )
}

fn remove_with_value(attr: &str) -> ScimError {
    ScimError::bad(
        ScimType::InvalidValue,
        format!(
            "remove of '{attr}' takes no value; name the element in the path, e.g. {attr}[value eq \"id\"]"
        ),
    )
}

fn plain_manager() -> ScimError {
    ScimError::bad(
        ScimType::InvalidValue,
        "'manager' must be a complex value {\"value\": id}, not a string",
    )
}

/// Whether `map` (a resource body or a path-less PATCH value) gives the enterprise `manager` as
/// a string: nested under the extension URN, or as a full-URN key `…:User:manager`.
fn has_string_manager(map: &Map<String, Value>) -> bool {
    map.iter().any(|(k, v)| {
        if schema::is_enterprise(k) {
            return v
                .as_object()
                .and_then(|ext| get_ci(ext, "manager"))
                .is_some_and(Value::is_string);
        }
        let qualified = k.rsplit_once(':').is_some_and(|(urn, attr)| {
            schema::is_enterprise(urn) && attr.eq_ignore_ascii_case("manager")
        });
        qualified && v.is_string()
    })
}

/// Entra's group extension URN (`http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`)
/// in `schemas` is refused, as a server that validates `schemas` against the ones it knows does.
fn reject_adscim(map: &Map<String, Value>) -> Result<(), ScimError> {
    let Some(Value::Array(list)) = get_ci(map, "schemas") else {
        return Ok(());
    };
    let adscim = list
        .iter()
        .filter_map(Value::as_str)
        .find(|s| s.to_ascii_lowercase().contains("/adscim/"));
    match adscim {
        Some(urn) => Err(ScimError::bad(
            ScimType::InvalidValue,
            format!("unknown schema '{urn}' in 'schemas'"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for q in Quirk::ALL {
            assert_eq!(q.name().parse::<Quirk>(), Ok(q));
        }
        let e = "no-such".parse::<Quirk>().unwrap_err().to_string();
        assert!(e.contains("unknown quirk 'no-such'"), "{e}");
        for q in Quirk::ALL {
            assert!(e.contains(q.name()), "{e}");
        }
    }
}
