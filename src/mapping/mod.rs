//! Attribute mappings (§6.1–6.3, §6.6): per object type the target actions, scoping filters and
//! attribute mappings (Direct, Constant, Expression, None) with matching precedence, flow type,
//! default value and caseExact, loaded from a `mappings/*.yaml` file.
//!
//! Expressions are kept as source text with their file location; [`Mapping::check_expressions`]
//! lets the expression parser validate them and reports its errors at that location. A stable
//! [`Mapping::fingerprint`] lets the engine notice a mapping or scoping change, which forces an
//! initial cycle (§1.4).

mod load;

use std::fmt::Write as _;

use crate::scope::ScopingFilter;
use crate::yaml::{Checked, Location, Problem, Problems};

/// A whole mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The file name used in error messages.
    pub file: String,
    /// The Users object mapping (always present, always enabled).
    pub users: ObjectMapping,
    /// The Groups object mapping; `None` when the file has no `groups:` (groups not provisioned).
    pub groups: Option<ObjectMapping>,
}

/// Users or groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectType {
    /// Entra users → SCIM `User`.
    User,
    /// Entra groups → SCIM `Group`.
    Group,
}

/// One object mapping (Graph `objectMapping`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMapping {
    /// Users or groups.
    pub object_type: ObjectType,
    /// Only the Groups mapping may be disabled.
    pub enabled: bool,
    /// Target object actions (`flowTypes`).
    pub actions: TargetActions,
    /// Scoping filters (ORed); empty = everything in scope.
    pub scoping: Vec<ScopingFilter>,
    /// Attribute mappings in file order.
    pub attributes: Vec<AttributeMapping>,
}

/// Which target object actions are enabled (§1.6; default all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetActions {
    /// Create objects that do not match.
    pub create: bool,
    /// Update matched/connected objects (includes disabling via `active`).
    pub update: bool,
    /// DELETE on hard delete.
    pub delete: bool,
}

/// One attribute mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMapping {
    /// The SCIM target path as written, e.g. `emails[type eq "work"].value`.
    pub target: String,
    /// Where the value comes from.
    pub source: MappingSource,
    /// Default value if null; applied at object creation only.
    pub default: Option<String>,
    /// Matching precedence (≥ 1, lowest tried first); `None` = not a matching attribute.
    pub matching: Option<u32>,
    /// Always, or only during object creation.
    pub apply: FlowType,
    /// Case-only differences are changes (default false).
    pub case_exact: bool,
    /// Where the entry starts in the file.
    pub location: Location,
    /// Where the text of its `target` starts.
    pub target_location: Location,
    /// Key path of the entry, e.g. `users.attributes[3]`.
    pub field: String,
}

/// The mapping type (§6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingSource {
    /// A source attribute's value.
    Direct(String),
    /// A literal string.
    Constant(String),
    /// An expression, parsed by the expression module.
    Expression(ExprSource),
    /// Target left alone except to fill it with the default when empty.
    None,
}

/// An expression's text and where its value starts in the mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprSource {
    /// The expression text (a block scalar's trailing newline removed).
    pub text: String,
    /// Line and column of the first character of the text (after an opening quote; the first
    /// content line of a block scalar).
    pub location: Location,
    /// Key path of the field, e.g. `users.attributes[1].expression`.
    pub field: String,
}

/// `apply:` — Graph `flowType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowType {
    /// Every cycle (`Always`).
    Always,
    /// Only when the object is created (`ObjectAddOnly`).
    ObjectAddOnly,
}

impl ObjectType {
    /// Whether `name` is a source attribute of this object type (case-sensitive); the error says
    /// why not, with a likely intended name.
    pub fn check_source_attribute(self, name: &str) -> Result<(), String> {
        load::check_source_attribute(self, name)
    }
}

impl Mapping {
    /// Parses and validates a mapping file, reporting every problem with file:line:column.
    pub fn parse(file: &str, text: &str) -> Result<Mapping, Problems> {
        load::check(file, text).into_result()
    }

    /// Reads a mapping file as far as it goes: every problem, and a mapping of the entries that
    /// could be read (for the checks that need the whole mapping: target paths, expressions).
    pub fn check(file: &str, text: &str) -> Checked<Mapping> {
        load::check(file, text)
    }

    /// The enabled object mappings.
    pub fn object_mappings(&self) -> impl Iterator<Item = &ObjectMapping> {
        std::iter::once(&self.users).chain(self.groups.iter().filter(|g| g.enabled))
    }

    /// Runs `check` (the expression parser) on every expression and returns its errors located
    /// at the expression's value in the mapping file.
    pub fn check_expressions(
        &self,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<(), Problems> {
        let problems: Vec<Problem> = std::iter::once(&self.users)
            .chain(self.groups.iter())
            .flat_map(|m| m.attributes.iter())
            .filter_map(|a| match &a.source {
                MappingSource::Expression(expr) => check(&expr.text).err().map(|message| Problem {
                    file: self.file.clone(),
                    location: expr.location,
                    field: expr.field.clone(),
                    message,
                }),
                _ => None,
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Problems(problems))
        }
    }

    /// Things that are valid but probably not meant: a `members` mapping in a disabled groups
    /// mapping provisions no membership. (Entra accepts it, and disabling the groups mapping is how
    /// group provisioning is switched off, so it is not an error.)
    pub fn warnings(&self) -> Vec<Problem> {
        let Some(groups) = self.groups.as_ref().filter(|g| !g.enabled) else {
            return Vec::new();
        };
        groups
            .attributes
            .iter()
            .filter(|a| matches!(&a.source, MappingSource::Direct(name) if name == "members"))
            .map(|a| Problem {
                file: self.file.clone(),
                location: a.location,
                field: a.field.clone(),
                message: "`members` is mapped but groups are disabled (`enabled: false`), so no \
                          membership is provisioned"
                    .to_owned(),
            })
            .collect()
    }

    /// A stable hash (16 hex digits) of the normalised mapping: comments, layout, key order and
    /// spelt-out defaults do not change it; any change to a mapping or scoping filter does.
    pub fn fingerprint(&self) -> String {
        let mut canonical = String::new();
        for mapping in std::iter::once(&self.users).chain(self.groups.iter()) {
            mapping.write_canonical(&mut canonical);
        }
        format!("{:016x}", fnv1a64(canonical.as_bytes()))
    }
}

impl ObjectMapping {
    /// The matching attributes, lowest precedence number first.
    pub fn matching_attributes(&self) -> Vec<&AttributeMapping> {
        let mut matching: Vec<&AttributeMapping> = self
            .attributes
            .iter()
            .filter(|a| a.matching.is_some())
            .collect();
        matching.sort_by_key(|a| a.matching);
        matching
    }

    /// One line per setting, with every field length-prefixed so no two mappings print alike.
    fn write_canonical(&self, out: &mut String) {
        let field = |out: &mut String, s: &str| {
            let _ = write!(out, "{}:{s};", s.len());
        };
        let _ = writeln!(
            out,
            "object {:?} enabled {} actions {} {} {}",
            self.object_type,
            self.enabled,
            self.actions.create,
            self.actions.update,
            self.actions.delete
        );
        for filter in &self.scoping {
            out.push_str("filter ");
            field(out, filter.name.as_deref().unwrap_or_default());
            for clause in &filter.clauses {
                out.push_str(" clause ");
                field(out, &clause.attribute);
                field(out, clause.operator.name());
                field(out, clause.value.as_deref().unwrap_or("\u{0}"));
            }
            out.push('\n');
        }
        for a in &self.attributes {
            out.push_str("attribute ");
            field(out, &a.target);
            match &a.source {
                MappingSource::Direct(s) => field(out, &format!("direct {s}")),
                MappingSource::Constant(s) => field(out, &format!("constant {s}")),
                MappingSource::Expression(e) => {
                    field(out, &format!("expression {}", e.text.trim()))
                }
                MappingSource::None => field(out, "none"),
            }
            field(out, a.default.as_deref().unwrap_or("\u{0}"));
            let _ = writeln!(out, "{:?} {:?} {}", a.matching, a.apply, a.case_exact);
        }
    }
}

/// FNV-1a, 64-bit: tiny, and unlike std's hasher guaranteed stable across Rust releases, which a
/// fingerprint persisted between runs needs.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
