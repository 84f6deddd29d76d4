//! Scoping filters (§5): clauses ANDed within a filter, filters ORed, evaluated on the source
//! attribute values before mapping, case-sensitively, with Entra's null rule — every clause except
//! `IS NULL` is false on a missing or empty attribute.
//!
//! Clauses are checked and their regexes compiled when built, so evaluation cannot fail.

use std::collections::BTreeMap;
use std::fmt;

use crate::expr::Value;

/// The documented scoping operators, spelt as in the Entra portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ScopingOperator {
    /// `&`: the attribute value is contained in the clause value (UNCONFIRMED reading of the doc).
    Contains,
    /// `!&`: negation of `&`.
    NotContains,
    /// `ENDS_WITH`.
    EndsWith,
    /// `EQUALS`, case-sensitive.
    Equals,
    /// `NOT EQUALS`, case-sensitive.
    NotEquals,
    /// `Greater_Than`, integer comparison.
    GreaterThan,
    /// `Greater_Than_OR_EQUALS`, integer comparison.
    GreaterThanOrEquals,
    /// `Includes`: the attribute contains the value, case-sensitive.
    Includes,
    /// `IS TRUE`.
    IsTrue,
    /// `IS FALSE`.
    IsFalse,
    /// `IS NULL`: missing or empty.
    IsNull,
    /// `IS NOT NULL`.
    IsNotNull,
    /// `REGEX MATCH`, .NET-style regex, case-sensitive, unanchored.
    RegexMatch,
    /// `NOT REGEX MATCH`; false on a missing or empty attribute.
    NotRegexMatch,
}

use ScopingOperator as Op;

impl ScopingOperator {
    /// Every supported operator.
    pub const ALL: [ScopingOperator; 14] = [
        Op::Contains,
        Op::NotContains,
        Op::EndsWith,
        Op::Equals,
        Op::NotEquals,
        Op::GreaterThan,
        Op::GreaterThanOrEquals,
        Op::Includes,
        Op::IsTrue,
        Op::IsFalse,
        Op::IsNull,
        Op::IsNotNull,
        Op::RegexMatch,
        Op::NotRegexMatch,
    ];

    /// Operators some tools offer that Entra scoping filters do not support.
    pub const UNSUPPORTED: [&'static str; 4] = [
        "Less_Than",
        "Less_Than_OR_EQUALS",
        "STARTS_WITH",
        "Not_Includes",
    ];

    /// The portal spelling.
    pub fn name(self) -> &'static str {
        match self {
            Op::Contains => "&",
            Op::NotContains => "!&",
            Op::EndsWith => "ENDS_WITH",
            Op::Equals => "EQUALS",
            Op::NotEquals => "NOT EQUALS",
            Op::GreaterThan => "Greater_Than",
            Op::GreaterThanOrEquals => "Greater_Than_OR_EQUALS",
            Op::Includes => "Includes",
            Op::IsTrue => "IS TRUE",
            Op::IsFalse => "IS FALSE",
            Op::IsNull => "IS NULL",
            Op::IsNotNull => "IS NOT NULL",
            Op::RegexMatch => "REGEX MATCH",
            Op::NotRegexMatch => "NOT REGEX MATCH",
        }
    }

    /// Parses the exact portal spelling (operators are case-sensitive names).
    pub fn parse(name: &str) -> Option<ScopingOperator> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Whether the clause needs a value (binary) or must have none (unary).
    pub fn takes_value(self) -> bool {
        !matches!(self, Op::IsTrue | Op::IsFalse | Op::IsNull | Op::IsNotNull)
    }
}

impl fmt::Display for ScopingOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a clause cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClauseError {
    /// A binary operator without a value.
    #[error("operator {0} needs a value")]
    MissingValue(ScopingOperator),
    /// A unary operator with a value.
    #[error("operator {0} takes no value")]
    UnexpectedValue(ScopingOperator),
    /// An integer comparison against a non-integer.
    #[error("operator {0} compares integers; \"{1}\" is not an integer")]
    NotAnInteger(ScopingOperator, String),
    /// The regex does not compile.
    #[error("invalid regular expression: {0}")]
    BadRegex(String),
}

/// One clause: `{attribute} {operator} {value}`.
#[derive(Debug, Clone)]
pub struct ScopingClause {
    /// The source attribute tested.
    pub attribute: String,
    /// The operator.
    pub operator: ScopingOperator,
    /// The value, for binary operators.
    pub value: Option<String>,
    regex: Option<fancy_regex::Regex>,
    integer: Option<i64>,
}

impl PartialEq for ScopingClause {
    fn eq(&self, other: &Self) -> bool {
        self.attribute == other.attribute
            && self.operator == other.operator
            && self.value == other.value
    }
}

impl Eq for ScopingClause {}

impl ScopingClause {
    /// Checks the operator's arity, parses integers and compiles regexes once.
    pub fn new(
        attribute: impl Into<String>,
        operator: ScopingOperator,
        value: Option<String>,
    ) -> Result<ScopingClause, ClauseError> {
        let (regex, integer) = match (&value, operator.takes_value()) {
            (None, true) => return Err(ClauseError::MissingValue(operator)),
            (Some(_), false) => return Err(ClauseError::UnexpectedValue(operator)),
            (None, false) => (None, None),
            (Some(v), true) => match operator {
                Op::RegexMatch | Op::NotRegexMatch => {
                    let regex = fancy_regex::Regex::new(v)
                        .map_err(|e| ClauseError::BadRegex(e.to_string()))?;
                    (Some(regex), None)
                }
                Op::GreaterThan | Op::GreaterThanOrEquals => match v.trim().parse::<i64>() {
                    Ok(n) => (None, Some(n)),
                    Err(_) => return Err(ClauseError::NotAnInteger(operator, v.clone())),
                },
                _ => (None, None),
            },
        };
        Ok(ScopingClause {
            attribute: attribute.into(),
            operator,
            value,
            regex,
            integer,
        })
    }

    /// The clause's verdict on an object's source attributes.
    pub fn evaluate(&self, attrs: &BTreeMap<String, Value>) -> bool {
        // Multi-valued and role values are rejected at load; should one appear anyway it cannot
        // satisfy a clause, like a null.
        let actual = match attrs.get(&self.attribute) {
            Some(Value::Str(s)) if !s.is_empty() => s.as_str(),
            _ => return self.operator == Op::IsNull,
        };
        let value = self.value.as_deref().unwrap_or_default();
        match self.operator {
            Op::IsNull => false,
            Op::IsNotNull => true,
            Op::Contains => value.contains(actual),
            Op::NotContains => !value.contains(actual),
            Op::EndsWith => actual.ends_with(value),
            Op::Equals => actual == value,
            Op::NotEquals => actual != value,
            Op::Includes => actual.contains(value),
            Op::IsTrue => actual.eq_ignore_ascii_case("true"),
            Op::IsFalse => actual.eq_ignore_ascii_case("false"),
            Op::GreaterThan => self.compare(actual).is_some_and(|(a, v)| a > v),
            Op::GreaterThanOrEquals => self.compare(actual).is_some_and(|(a, v)| a >= v),
            // A regex that exceeds fancy-regex's backtrack limit does not match.
            Op::RegexMatch => self
                .regex
                .as_ref()
                .is_some_and(|r| r.is_match(actual).unwrap_or(false)),
            Op::NotRegexMatch => self
                .regex
                .as_ref()
                .is_some_and(|r| r.is_match(actual).is_ok_and(|m| !m)),
        }
    }

    fn compare(&self, actual: &str) -> Option<(i64, i64)> {
        Some((actual.trim().parse::<i64>().ok()?, self.integer?))
    }
}

impl fmt::Display for ScopingClause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.attribute, self.operator)?;
        if let Some(v) = &self.value {
            write!(f, " {v}")?;
        }
        Ok(())
    }
}

/// One scoping filter: its clauses are ANDed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopingFilter {
    /// The filter's title, if given.
    pub name: Option<String>,
    /// The clauses (at least one).
    pub clauses: Vec<ScopingClause>,
}

impl ScopingFilter {
    /// True when every clause holds.
    pub fn matches(&self, attrs: &BTreeMap<String, Value>) -> bool {
        self.clauses.iter().all(|c| c.evaluate(attrs))
    }
}

/// Whether an object passes its object mapping's filters: no filters means everything is in
/// scope; otherwise at least one filter must match.
pub fn in_scope(filters: &[ScopingFilter], attrs: &BTreeMap<String, Value>) -> bool {
    filters.is_empty() || filters.iter().any(|f| f.matches(attrs))
}

/// One clause's verdict, printed as `{attribute} {operator} {value} → true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseVerdict {
    /// The attribute tested.
    pub attribute: String,
    /// The operator.
    pub operator: ScopingOperator,
    /// The clause value, if any.
    pub value: Option<String>,
    /// The verdict.
    pub result: bool,
}

impl fmt::Display for ClauseVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.attribute, self.operator)?;
        if let Some(v) = &self.value {
            write!(f, " {v}")?;
        }
        write!(f, " → {}", self.result)
    }
}

/// One filter's verdict with each clause's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterVerdict {
    /// The filter's title, if given.
    pub name: Option<String>,
    /// All clauses held.
    pub passed: bool,
    /// Every clause, evaluated even after one failed, so the explanation is complete.
    pub clauses: Vec<ClauseVerdict>,
}

/// The full explanation of a scoping decision (for provision-on-demand and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeEvaluation {
    /// The decision; equal to [`in_scope`].
    pub in_scope: bool,
    /// One verdict per filter, in mapping order.
    pub filters: Vec<FilterVerdict>,
}

/// Evaluates every clause of every filter and explains the decision.
pub fn evaluate(filters: &[ScopingFilter], attrs: &BTreeMap<String, Value>) -> ScopeEvaluation {
    let filters: Vec<FilterVerdict> = filters
        .iter()
        .map(|filter| {
            let clauses: Vec<ClauseVerdict> = filter
                .clauses
                .iter()
                .map(|c| ClauseVerdict {
                    attribute: c.attribute.clone(),
                    operator: c.operator,
                    value: c.value.clone(),
                    result: c.evaluate(attrs),
                })
                .collect();
            FilterVerdict {
                name: filter.name.clone(),
                passed: clauses.iter().all(|c| c.result),
                clauses,
            }
        })
        .collect();
    ScopeEvaluation {
        in_scope: filters.is_empty() || filters.iter().any(|f| f.passed),
        filters,
    }
}
