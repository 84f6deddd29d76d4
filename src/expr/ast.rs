//! The parsed expression tree (`Expr`). `Display` prints canonical source that parses back to an
//! equal tree (spans and compiled regexes are ignored by `==`); `tree()` draws the structure for
//! `entra-sim expr --tree`.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use super::error::Span;
use super::functions::Function;
use super::lexer::CmpOp;
use super::value::Value;

/// `InStr`'s comparison mode, written as the bare words `vbBinaryCompare` / `vbTextCompare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareType {
    /// `vbBinaryCompare`: ordinal, case-sensitive.
    Binary,
    /// `vbTextCompare`: case-insensitive.
    Text,
}

impl CompareType {
    /// The bare word as written in source.
    pub fn name(self) -> &'static str {
        match self {
            CompareType::Binary => "vbBinaryCompare",
            CompareType::Text => "vbTextCompare",
        }
    }
}

/// A node with its source span.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it came from (bytes of the source).
    pub span: Span,
}

/// The node types.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `[name]`: a source attribute.
    Attribute(String),
    /// `"text"`: a string constant. Held as a `Value` so evaluation can lend it out without copying.
    Str(Value),
    /// A bare integer (`7`, `-10`) or hex literal (`&HF7`); `text` is its decimal string value.
    Int {
        /// The number.
        value: i64,
        /// Written as `&H…`.
        hex: bool,
        /// `Value::Str` of the decimal rendering, lent out by evaluation.
        text: Value,
    },
    /// `vbTextCompare` / `vbBinaryCompare`.
    CompareType(CompareType),
    /// `Name(arg, , arg)`: a function call; `None` is an omitted argument.
    Call(Call),
    /// `lhs op rhs`, e.g. the condition of `IIF([country]="USA", …)`.
    Comparison {
        /// The operator.
        op: CmpOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
}

/// A function call.
#[derive(Debug, Clone)]
pub struct Call {
    /// Which function.
    pub function: Function,
    /// Arguments by position; `None` where the argument was omitted (`Replace([a], "x", , , "", , )`).
    pub args: Vec<Option<Expr>>,
    /// Span of the function name.
    pub name_span: Span,
    pub(crate) compiled: Compiled,
}

/// What the parser prepared once so evaluation does not repeat it.
#[derive(Debug, Clone, Default)]
pub(crate) enum Compiled {
    #[default]
    Nothing,
    Replace {
        mode: ReplaceMode,
        /// The regexPattern argument, compiled when it is a string constant.
        regex: Option<Arc<fancy_regex::Regex>>,
    },
}

/// Which of Replace's documented behaviours a call uses, fixed by which arguments are present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplaceMode {
    /// oldValue + replacementValue: replace every occurrence in source.
    Literal,
    /// oldValue + template: put source into the template in place of oldValue.
    Template,
    /// regexPattern + replacementValue (`${group}` allowed).
    Regex,
    /// regexPattern + regexGroupName + replacementValue: replace only the group's text.
    RegexGroup,
    /// regexPattern + regexGroupName + replacementAttributeName: fallback extraction.
    RegexFallback,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl PartialEq for Call {
    fn eq(&self, other: &Self) -> bool {
        self.function == other.function && self.args == other.args
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Attribute(name) => write!(f, "[{name}]"),
            ExprKind::Str(value) => write_string(f, value_text(value)),
            ExprKind::Int {
                value, hex: true, ..
            } => write!(f, "&H{value:X}"),
            ExprKind::Int { value, .. } => write!(f, "{value}"),
            ExprKind::CompareType(c) => f.write_str(c.name()),
            ExprKind::Comparison { op, lhs, rhs } => write!(f, "{lhs} {} {rhs}", op.symbol()),
            ExprKind::Call(call) => {
                write!(f, "{}(", call.function.name())?;
                for (i, arg) in call.args.iter().enumerate() {
                    match (i, arg) {
                        (0, Some(a)) => write!(f, "{a}")?,
                        (0, None) => {}
                        (_, Some(a)) => write!(f, ", {a}")?,
                        (_, None) => f.write_str(", ")?,
                    }
                }
                f.write_str(")")
            }
        }
    }
}

fn value_text(value: &Value) -> &str {
    match value {
        Value::Str(s) => s,
        _ => "",
    }
}

fn write_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

impl Expr {
    /// An indented drawing of the tree, one node per line, with Graph parameter names, e.g.
    ///
    /// ```text
    /// Join
    /// ├─ separator: " "
    /// ├─ source: [givenName]
    /// └─ source: [surname]
    /// ```
    pub fn tree(&self) -> String {
        let mut out = String::new();
        self.tree_into(&mut out, "", "");
        out
    }

    fn tree_into(&self, out: &mut String, label: &str, prefix: &str) {
        let head = match &self.kind {
            ExprKind::Call(call) => call.function.name().to_owned(),
            ExprKind::Comparison { op, .. } => format!("{} (comparison)", op.symbol()),
            _ => self.to_string(),
        };
        out.push_str(label);
        out.push_str(&head);
        out.push('\n');
        let children: Vec<(String, Option<&Expr>)> = match &self.kind {
            ExprKind::Call(call) => call
                .args
                .iter()
                .enumerate()
                .map(|(i, a)| (call.function.param_key(i).to_owned(), a.as_ref()))
                .collect(),
            ExprKind::Comparison { lhs, rhs, .. } => {
                vec![
                    ("left".to_owned(), Some(lhs.as_ref())),
                    ("right".to_owned(), Some(rhs.as_ref())),
                ]
            }
            _ => Vec::new(),
        };
        let count = children.len();
        for (i, (key, child)) in children.into_iter().enumerate() {
            let last = i + 1 == count;
            let branch = if last { "└─ " } else { "├─ " };
            let label = format!("{prefix}{branch}{key}: ");
            let next_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
            match child {
                Some(child) => child.tree_into(out, &label, &next_prefix),
                None => {
                    out.push_str(&label);
                    out.push_str("(omitted)\n");
                }
            }
        }
    }

    /// The names of every source attribute the expression reads, in order of appearance.
    pub fn attribute_names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        self.visit(&mut |e| {
            if let ExprKind::Attribute(name) = &e.kind {
                names.push(name.as_str());
            }
        });
        names
    }

    /// Calls `f` on this node and every node below it, parents first.
    pub(crate) fn visit<'e>(&'e self, f: &mut dyn FnMut(&'e Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Call(call) => call.args.iter().flatten().for_each(|a| a.visit(f)),
            ExprKind::Comparison { lhs, rhs, .. } => {
                lhs.visit(f);
                rhs.visit(f);
            }
            _ => {}
        }
    }
}
