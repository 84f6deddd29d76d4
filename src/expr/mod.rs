//! Entra's attribute-mapping expression language (spec §7): parse once into an `Expr`, evaluate many
//! times against a user's source attributes. Pure: the clock and randomness come in through
//! `EvalContext`; the "does this value exist in the target?" question of `SelectUniqueValue` is
//! left to the planner (`UniqueCandidates`).
//!
//! Attribute names: an exact match is tried first; if that finds nothing and the name is not a
//! directory extension (`extension_<appId>_<name>`, case-sensitive in Entra), a case-insensitive
//! match is tried, because Entra's built-in attribute names are not case-sensitive in mappings
//! (`[UserPrincipalName]` and `[userPrincipalName]` both work).

mod ast;
mod builtins;
mod calls;
mod dates;
mod diacritics;
mod dotnet_format;
mod error;
mod eval;
mod functions;
mod lexer;
mod parser;
mod random;
mod replace;
mod report;
#[cfg(test)]
mod tests;
mod unique;
mod value;

use std::collections::{BTreeMap, HashMap};

pub use ast::{Call, CompareType, Expr, ExprKind};
pub use error::{ErrorKind, ExprError, Span};
pub use functions::{Arity, FUNCTIONS, Function, FunctionSpec};
pub use lexer::CmpOp;
pub use parser::{MAX_DEPTH, MAX_LENGTH, parse};
pub use random::{guid, guid_text};
pub use report::{attribute_mapping_source, parse_expression_report};
pub use unique::UniqueCandidates;
pub use value::{AppRole, Value};

/// The result of evaluating an expression for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The value to flow (`Null` = nothing to send).
    pub value: Value,
    /// A `Redact(...)` was evaluated: logs show `[Redact]` instead of the value; the value still flows.
    pub redacted: bool,
    /// `IgnoreFlowIfNullOrEmpty(...)` saw null or empty: drop the attribute from the flow.
    pub ignore_flow: bool,
    /// The expression is a role function, so the value is `Value::Roles` to be rendered per §6.6.
    pub role_function: Option<RoleFunction>,
    /// The expression is a `SelectUniqueValue`: its candidates, for the planner to check in the
    /// target. `value` is the first candidate, the one chosen when the target holds none of them.
    pub unique: Option<UniqueCandidates>,
}

/// How the engine renders roles (§6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleFunction {
    /// `SingleAppRoleAssignment`: one role, `primary: true`.
    Single,
    /// `AppRoleAssignmentsComplex`: all roles, PATCH `Add` only.
    Complex,
    /// `AssertiveAppRoleAssignmentsComplex`: all roles, PATCH `replace` of the whole list.
    Assertive,
}

/// The source object's attributes, looked up by exact name.
pub trait Attributes {
    /// The value of the attribute called exactly `name`, if present.
    fn attribute(&self, name: &str) -> Option<&Value>;

    /// The value of an attribute whose name equals `name` ignoring ASCII case; used only after an
    /// exact lookup failed. The default finds nothing (exact names only).
    fn attribute_ignore_case(&self, name: &str) -> Option<&Value> {
        let _ = name;
        None
    }
}

impl Attributes for BTreeMap<String, Value> {
    fn attribute(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }

    fn attribute_ignore_case(&self, name: &str) -> Option<&Value> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

impl Attributes for HashMap<String, Value> {
    fn attribute(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }

    fn attribute_ignore_case(&self, name: &str) -> Option<&Value> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// Looks `name` up with the module's matching rule (exact, then case-insensitive except for
/// directory extensions).
pub fn lookup<'a>(attrs: &'a dyn Attributes, name: &str) -> Option<&'a Value> {
    attrs.attribute(name).or_else(|| {
        if name.starts_with("extension_") {
            None
        } else {
            attrs.attribute_ignore_case(name)
        }
    })
}

/// Everything evaluation needs besides the attributes.
pub struct EvalContext<'a> {
    /// The current time, for `Now()`.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Randomness for `Guid()` and `RandomString`.
    pub rng: &'a mut dyn rand::RngCore,
}

impl Expr {
    /// Evaluates the expression against `attrs`.
    pub fn evaluate(
        &self,
        attrs: &dyn Attributes,
        ctx: &mut EvalContext<'_>,
    ) -> Result<Outcome, ExprError> {
        eval::evaluate(self, attrs, ctx)
    }

    /// The role function this expression is, looking through `IgnoreFlowIfNullOrEmpty` and `Redact`.
    pub fn role_function(&self) -> Option<RoleFunction> {
        let ExprKind::Call(call) = &self.kind else {
            return None;
        };
        match call.function {
            Function::SingleAppRoleAssignment => Some(RoleFunction::Single),
            Function::AppRoleAssignmentsComplex => Some(RoleFunction::Complex),
            Function::AssertiveAppRoleAssignmentsComplex => Some(RoleFunction::Assertive),
            Function::IgnoreFlowIfNullOrEmpty | Function::Redact => call
                .args
                .first()
                .and_then(Option::as_ref)
                .and_then(Expr::role_function),
            _ => None,
        }
    }
}
