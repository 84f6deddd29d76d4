//! Reads a mapping file: serde checks its shape (unknown fields, wrong types), then every
//! semantic rule is checked and all violations are reported, located with the YAML locator.

use std::collections::{HashMap, HashSet};

use super::{
    AttributeMapping, ExprSource, FlowType, Mapping, MappingSource, ObjectMapping, ObjectType,
    TargetActions,
};
use crate::directory::attributes::{
    self, GROUP_SOURCE_ATTRIBUTES, SourceAttribute, USER_SOURCE_ATTRIBUTES,
};
use crate::scope::{ClauseError, ScopingClause, ScopingFilter, ScopingOperator};
use crate::yaml::{self, Checked, Locator, Pending, RawValue};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    users: RawObjectMapping,
    #[serde(default)]
    groups: Option<RawObjectMapping>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObjectMapping {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    actions: Option<Vec<Action>>,
    #[serde(default)]
    scoping: Vec<RawFilter>,
    attributes: Vec<RawAttribute>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Create,
    Update,
    Delete,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    #[serde(default)]
    name: Option<String>,
    clauses: Vec<RawClause>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClause {
    attribute: String,
    operator: String,
    #[serde(default)]
    value: Option<RawValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Apply {
    Always,
    OnCreate,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttribute {
    target: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    constant: Option<RawValue>,
    #[serde(default)]
    expression: Option<String>,
    #[serde(default)]
    none: Option<bool>,
    #[serde(default)]
    default: Option<RawValue>,
    #[serde(default)]
    matching: Option<i64>,
    #[serde(default)]
    apply: Option<Apply>,
    #[serde(default)]
    case_exact: Option<bool>,
}

/// Reads a mapping file; the mapping holds every entry that could be read.
pub(super) fn check(file: &str, text: &str) -> Checked<Mapping> {
    let raw: MappingFile = match yaml::parse(file, text) {
        Ok(raw) => raw,
        Err(problem) => return Checked::unusable(problem),
    };
    let locator = Locator::new(text);
    let mut pending = Vec::new();
    let users = object_mapping(ObjectType::User, "users", raw.users, &locator, &mut pending);
    let groups = raw
        .groups
        .map(|g| object_mapping(ObjectType::Group, "groups", g, &locator, &mut pending));
    Checked {
        value: Some(Mapping {
            file: file.to_owned(),
            users,
            groups,
        }),
        problems: yaml::place_with(file, &locator, pending),
    }
}

fn object_mapping(
    object_type: ObjectType,
    base: &str,
    raw: RawObjectMapping,
    locator: &Locator,
    pending: &mut Vec<Pending>,
) -> ObjectMapping {
    let enabled = raw.enabled.unwrap_or(true);
    if !enabled && object_type == ObjectType::User {
        pending.push(Pending::value(
            format!("{base}.enabled"),
            "the Users mapping cannot be disabled",
        ));
    }
    let actions = match raw.actions {
        None => TargetActions {
            create: true,
            update: true,
            delete: true,
        },
        Some(list) => TargetActions {
            create: list.contains(&Action::Create),
            update: list.contains(&Action::Update),
            delete: list.contains(&Action::Delete),
        },
    };
    let scoping = raw
        .scoping
        .into_iter()
        .enumerate()
        .map(|(i, f)| scoping_filter(&format!("{base}.scoping[{i}]"), f, object_type, pending))
        .collect();

    let mut attributes = Vec::with_capacity(raw.attributes.len());
    let mut precedences: HashMap<u32, usize> = HashMap::new();
    for (i, a) in raw.attributes.into_iter().enumerate() {
        let path = format!("{base}.attributes[{i}]");
        if let Some(m) = attribute(&path, a, object_type, locator, pending) {
            if let Some(p) = m.matching
                && let Some(first) = precedences.insert(p, i)
            {
                pending.push(Pending::value(
                    format!("{path}.matching"),
                    format!(
                        "matching precedence {p} is already used by {base}.attributes[{first}]"
                    ),
                ));
            }
            attributes.push(m);
        }
    }
    if precedences.is_empty() {
        pending.push(Pending::value(
            format!("{base}.attributes"),
            "no attribute has `matching`; at least one matching attribute is required",
        ));
    }
    ObjectMapping {
        object_type,
        enabled,
        actions,
        scoping,
        attributes,
    }
}

/// Where an attribute's value comes from, as written: exactly one of these should be given.
struct RawSource {
    source: Option<String>,
    constant: Option<RawValue>,
    expression: Option<String>,
    none: Option<bool>,
}

/// Reads one attribute mapping; `None` when its target is empty. The other fields are checked
/// either way.
fn attribute(
    path: &str,
    a: RawAttribute,
    object_type: ObjectType,
    locator: &Locator,
    pending: &mut Vec<Pending>,
) -> Option<AttributeMapping> {
    let RawAttribute {
        target,
        source,
        constant,
        expression,
        none,
        default,
        matching,
        apply,
        case_exact,
    } = a;
    let target_empty = check_target(path, &target, pending);
    let raw_source = RawSource {
        source,
        constant,
        expression,
        none,
    };
    raw_source.check_exactly_one(path, pending);
    let default = default.and_then(|v| scalar_text(&format!("{path}.default"), v, pending));
    let source = raw_source.read(path, default.is_some(), object_type, locator, pending);
    let matching = matching_precedence(path, matching, pending);
    if target_empty {
        return None;
    }
    // Kept even when other fields have problems, so the target path, the expression and the
    // matching precedence are still checked and no spurious "no matching attribute" follows.
    Some(AttributeMapping {
        target,
        source,
        default,
        matching,
        apply: match apply {
            Some(Apply::OnCreate) => FlowType::ObjectAddOnly,
            Some(Apply::Always) | None => FlowType::Always,
        },
        case_exact: case_exact.unwrap_or(false),
        location: locator.value(path),
        target_location: locator.text(&format!("{path}.target")),
        field: path.to_owned(),
    })
}

/// Records what is wrong with an attribute's `target`; true when it is empty.
fn check_target(path: &str, target: &str, pending: &mut Vec<Pending>) -> bool {
    let empty = target.trim().is_empty();
    if empty {
        pending.push(Pending::value(
            format!("{path}.target"),
            "target must not be empty",
        ));
    } else if target.eq_ignore_ascii_case("id") {
        pending.push(Pending::value(
            format!("{path}.target"),
            "the SCIM `id` is assigned by the target and cannot be mapped",
        ));
    }
    empty
}

impl RawSource {
    fn check_exactly_one(&self, path: &str, pending: &mut Vec<Pending>) {
        let given: Vec<&str> = [
            self.source.as_ref().map(|_| "source"),
            self.constant.as_ref().map(|_| "constant"),
            self.expression.as_ref().map(|_| "expression"),
            self.none.map(|_| "none"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if given.len() != 1 {
            let found = if given.is_empty() {
                "none of them".to_owned()
            } else {
                given.join(" and ")
            };
            pending.push(Pending::value(
                path,
                format!("exactly one of `source`, `constant`, `expression` or `none: true` is required (found {found})"),
            ));
        }
    }

    /// The source, taking the first given in the order `source`, `constant`, `expression`,
    /// `none`; a `none` mapping needs a default (`has_default`).
    fn read(
        self,
        path: &str,
        has_default: bool,
        object_type: ObjectType,
        locator: &Locator,
        pending: &mut Vec<Pending>,
    ) -> MappingSource {
        if let Some(name) = self.source {
            direct_source(&format!("{path}.source"), &name, object_type, pending);
            MappingSource::Direct(name)
        } else if let Some(value) = self.constant {
            MappingSource::Constant(
                scalar_text(&format!("{path}.constant"), value, pending).unwrap_or_default(),
            )
        } else if let Some(text) = self.expression {
            // An empty expression is the expression parser's to report, with the other parse
            // errors.
            let field = format!("{path}.expression");
            let location = locator.text(&field);
            MappingSource::Expression(ExprSource {
                text: text.trim_end_matches(['\n', '\r']).to_owned(),
                location,
                field,
            })
        } else {
            if self.none == Some(false) {
                pending.push(Pending::value(
                    format!("{path}.none"),
                    "`none` can only be true; remove it instead",
                ));
            } else if !has_default {
                pending.push(Pending::value(path, "a `none: true` mapping needs a `default` (the value used when the target is empty)"));
            }
            MappingSource::None
        }
    }
}

/// A `matching` precedence, which must be a positive integer.
fn matching_precedence(
    path: &str,
    matching: Option<i64>,
    pending: &mut Vec<Pending>,
) -> Option<u32> {
    let p = matching?;
    match u32::try_from(p) {
        Ok(p) if p >= 1 => Some(p),
        _ => {
            pending.push(Pending::value(
                format!("{path}.matching"),
                format!("matching precedence must be an integer ≥ 1, found {p}"),
            ));
            None
        }
    }
}

fn source_table(object_type: ObjectType) -> &'static [SourceAttribute] {
    match object_type {
        ObjectType::User => USER_SOURCE_ATTRIBUTES,
        ObjectType::Group => GROUP_SOURCE_ATTRIBUTES,
    }
}

fn direct_source(field: &str, name: &str, object_type: ObjectType, pending: &mut Vec<Pending>) {
    if let Err(message) = check_source_attribute(object_type, name) {
        pending.push(Pending::value(field, message));
    }
}

/// Whether `name` is a source attribute of `object_type` (names are case-sensitive); the error
/// says why not, with a likely intended name.
pub(super) fn check_source_attribute(object_type: ObjectType, name: &str) -> Result<(), String> {
    let (this, other, other_table) = match object_type {
        ObjectType::User => ("users", "groups", GROUP_SOURCE_ATTRIBUTES),
        ObjectType::Group => ("groups", "users", USER_SOURCE_ATTRIBUTES),
    };
    let table = source_table(object_type);
    if attributes::find(table, name).is_some() {
        Ok(())
    } else if attributes::find(other_table, name).is_some() {
        Err(format!(
            "source attribute \"{name}\" exists on {other}, not on {this}"
        ))
    } else {
        let hint = yaml::did_you_mean(name, table.iter().map(|a| a.name))
            .map(|c| format!(" (did you mean \"{c}\"?)"))
            .unwrap_or_default();
        Err(format!("unknown source attribute \"{name}\"{hint}"))
    }
}

/// A constant, default or clause value: strings and numbers as written, booleans as Entra's
/// "True"/"False".
fn scalar_text(field: &str, value: RawValue, pending: &mut Vec<Pending>) -> Option<String> {
    match value {
        RawValue::Text(s) => Some(s),
        RawValue::Bool(b) => Some(if b { "True" } else { "False" }.to_owned()),
        RawValue::Null => None,
        other => {
            pending.push(Pending::value(
                field,
                format!("expected a string, found {}", other.kind()),
            ));
            None
        }
    }
}

fn scoping_filter(
    path: &str,
    raw: RawFilter,
    object_type: ObjectType,
    pending: &mut Vec<Pending>,
) -> ScopingFilter {
    if raw.clauses.is_empty() {
        pending.push(Pending::value(
            format!("{path}.clauses"),
            "a scoping filter needs at least one clause",
        ));
    }
    let mut seen = HashSet::new();
    let clauses = raw
        .clauses
        .into_iter()
        .enumerate()
        .filter_map(|(j, c)| {
            let clause_path = format!("{path}.clauses[{j}]");
            let clause = scoping_clause(&clause_path, c, object_type, pending)?;
            if !seen.insert(clause.to_string()) {
                pending.push(Pending::value(
                    clause_path,
                    format!("clause \"{clause}\" is repeated"),
                ));
            }
            Some(clause)
        })
        .collect();
    ScopingFilter {
        name: raw.name,
        clauses,
    }
}

fn scoping_clause(
    path: &str,
    c: RawClause,
    object_type: ObjectType,
    pending: &mut Vec<Pending>,
) -> Option<ScopingClause> {
    let attribute_field = format!("{path}.attribute");
    match attributes::find(source_table(object_type), &c.attribute) {
        None => direct_source(&attribute_field, &c.attribute, object_type, pending),
        Some(a) if !a.scopable => pending.push(Pending::value(
            attribute_field,
            format!("\"{}\" cannot be used in a scoping filter (multi-valued, reference or computed attribute)", c.attribute),
        )),
        Some(_) => {}
    }
    let operator_field = format!("{path}.operator");
    let operator = match ScopingOperator::parse(&c.operator) {
        Some(op) => Some(op),
        None if ScopingOperator::UNSUPPORTED.contains(&c.operator.as_str()) => {
            pending.push(Pending::value(
                operator_field,
                format!(
                    "operator \"{}\" is not supported by Entra scoping filters",
                    c.operator
                ),
            ));
            None
        }
        None => {
            let hint =
                yaml::did_you_mean(&c.operator, ScopingOperator::ALL.iter().map(|o| o.name()))
                    .map(|s| format!(" (did you mean \"{s}\"?)"))
                    .unwrap_or_default();
            pending.push(Pending::value(
                operator_field,
                format!("unknown operator \"{}\"{hint}", c.operator),
            ));
            None
        }
    }?;
    let value = c
        .value
        .and_then(|v| scalar_text(&format!("{path}.value"), v, pending));
    match ScopingClause::new(c.attribute, operator, value) {
        Ok(clause) => Some(clause),
        Err(err) => {
            let field = match err {
                ClauseError::MissingValue(_) => path.to_owned(),
                _ => format!("{path}.value"),
            };
            pending.push(Pending::value(field, err.to_string()));
            None
        }
    }
}
