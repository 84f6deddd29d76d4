//! Recursive-descent parser: tokens → `Expr`. Checks everything that can be checked before
//! evaluation: function names (with a suggestion), argument counts, SelectUniqueValue placement,
//! Replace's argument combination, and constant regexes (compiled here, once).
//!
//! Grammar:
//! ```text
//! expression := operand (cmp-op operand)?
//! operand    := call | '[' name ']' | string | integer | '&H' hex | 'vbTextCompare' | 'vbBinaryCompare'
//! call       := Name '(' (arg (',' arg)*)? ')'      arg := expression | (nothing)
//! ```

use std::sync::Arc;

use super::ast::{Call, CompareType, Compiled, Expr, ExprKind, ReplaceMode};
use super::error::{ErrorKind, ExprError, Span};
use super::functions::{FUNCTIONS, Function, suggest};
use super::lexer::{Tok, lex};
use super::value::Value;

/// Entra's limit on mapping expression length, in characters.
pub const MAX_LENGTH: usize = 10_000;
/// How deeply calls and comparisons may nest; keeps recursion far from the stack's end.
pub const MAX_DEPTH: usize = 100;

/// Parses an expression.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let chars = src.chars().count();
    if chars > MAX_LENGTH {
        let start = src.char_indices().nth(MAX_LENGTH).map_or(0, |(i, _)| i);
        return Err(ExprError::new(
            ErrorKind::TooLong {
                chars,
                limit: MAX_LENGTH,
            },
            Span::new(start, src.len()),
        ));
    }
    let tokens = lex(src)?;
    let mut parser = Parser { tokens, pos: 0 };
    if parser.peek() == &Tok::Eof {
        return Err(ExprError::new(ErrorKind::Empty, Span::new(0, src.len())));
    }
    let expr = parser.expression(0)?;
    match parser.peek() {
        Tok::Eof => {}
        other => {
            let found = other.describe();
            return Err(ExprError::new(
                ErrorKind::Expected {
                    expected: "the end of the expression".to_owned(),
                    found,
                },
                parser.span(),
            ));
        }
    }
    check_select_unique_value_is_top_level(&expr)?;
    Ok(expr)
}

struct Parser {
    tokens: Vec<(Tok, Span)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.tokens.get(self.pos).map_or(&Tok::Eof, |(t, _)| t)
    }

    fn span(&self) -> Span {
        self.tokens
            .get(self.pos)
            .or(self.tokens.last())
            .map_or(Span::default(), |(_, s)| *s)
    }

    fn bump(&mut self) -> (Tok, Span) {
        let item = self
            .tokens
            .get(self.pos)
            .cloned()
            .unwrap_or((Tok::Eof, self.span()));
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        item
    }

    fn expected(&self, expected: &str) -> ExprError {
        ExprError::new(
            ErrorKind::Expected {
                expected: expected.to_owned(),
                found: self.peek().describe(),
            },
            self.span(),
        )
    }

    fn expression(&mut self, depth: usize) -> Result<Expr, ExprError> {
        if depth >= MAX_DEPTH {
            return Err(ExprError::new(
                ErrorKind::TooDeep { limit: MAX_DEPTH },
                self.span(),
            ));
        }
        let lhs = self.operand(depth)?;
        let Tok::Cmp(op) = *self.peek() else {
            return Ok(lhs);
        };
        self.bump();
        let rhs = self.operand(depth)?;
        let span = Span::new(lhs.span.start, rhs.span.end);
        Ok(Expr {
            kind: ExprKind::Comparison {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        })
    }

    fn operand(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let (tok, span) = match self.peek() {
            Tok::Ident(_) | Tok::Attribute(_) | Tok::Str(_) | Tok::Int(_) | Tok::Hex(_) => {
                self.bump()
            }
            _ => return Err(self.expected("a function call, [attribute], \"string\" or number")),
        };
        let kind = match tok {
            Tok::Attribute(name) => ExprKind::Attribute(name),
            Tok::Str(s) => ExprKind::Str(Value::Str(s)),
            Tok::Int(value) => ExprKind::Int {
                value,
                hex: false,
                text: Value::Str(value.to_string()),
            },
            Tok::Hex(value) => ExprKind::Int {
                value,
                hex: true,
                text: Value::Str(value.to_string()),
            },
            Tok::Ident(name) => return self.identifier(name, span, depth),
            _ => return Err(self.expected("an operand")),
        };
        Ok(Expr { kind, span })
    }

    /// A name: a call when `(` follows, else one of the compare-type constants.
    fn identifier(&mut self, name: String, span: Span, depth: usize) -> Result<Expr, ExprError> {
        if self.peek() != &Tok::LParen {
            return self.bare_word(name, span);
        }
        let Some(function) = Function::from_name(&name) else {
            let suggestion = suggest(&name, FUNCTIONS.iter().map(|s| s.name)).map(str::to_owned);
            return Err(ExprError::new(
                ErrorKind::UnknownFunction { name, suggestion },
                span,
            ));
        };
        self.bump();
        let args = self.arguments(depth)?;
        let end = self
            .tokens
            .get(self.pos.saturating_sub(1))
            .map_or(span.end, |(_, s)| s.end);
        let full = Span::new(span.start, end);
        call(function, args, span, full)
    }

    /// A name not followed by `(`: `vbTextCompare`, `vbBinaryCompare`, or an error (a function
    /// missing its parenthesis, or an unknown word with a suggestion).
    fn bare_word(&self, name: String, span: Span) -> Result<Expr, ExprError> {
        let kind = match name.as_str() {
            "vbTextCompare" => ExprKind::CompareType(CompareType::Text),
            "vbBinaryCompare" => ExprKind::CompareType(CompareType::Binary),
            _ if Function::from_name(&name).is_some() => {
                return Err(self.expected("'(' after the function name"));
            }
            _ => {
                let words = ["vbTextCompare", "vbBinaryCompare"]
                    .into_iter()
                    .chain(FUNCTIONS.iter().map(|s| s.name));
                let suggestion = suggest(&name, words).map(str::to_owned);
                return Err(ExprError::new(
                    ErrorKind::UnknownIdentifier { name, suggestion },
                    span,
                ));
            }
        };
        Ok(Expr { kind, span })
    }

    /// A call's arguments after its `(`, through the closing `)`; an empty argument (`f(a,,b)`)
    /// is `None`.
    fn arguments(&mut self, depth: usize) -> Result<Vec<Option<Expr>>, ExprError> {
        let mut args = Vec::new();
        if self.peek() == &Tok::RParen {
            self.bump();
            return Ok(args);
        }
        loop {
            let arg = match self.peek() {
                Tok::Comma | Tok::RParen => None,
                _ => Some(self.expression(depth + 1)?),
            };
            args.push(arg);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {
                    self.bump();
                    return Ok(args);
                }
                _ => return Err(self.expected("',' or ')'")),
            }
        }
    }
}

/// A parsed call spanning `full` (its name at `name_span`), its argument count checked and its
/// constant parts compiled.
fn call(
    function: Function,
    args: Vec<Option<Expr>>,
    name_span: Span,
    full: Span,
) -> Result<Expr, ExprError> {
    let spec = function.spec();
    if !spec.arity.accepts(args.len()) {
        return Err(ExprError::new(
            ErrorKind::Arity {
                function: spec.name,
                expected: spec.arity.describe(),
                got: args.len(),
                signature: spec.signature,
            },
            full,
        ));
    }
    let compiled = match function {
        Function::Replace => compile_replace(&args, full)?,
        _ => Compiled::Nothing,
    };
    Ok(Expr {
        kind: ExprKind::Call(Call {
            function,
            args,
            name_span,
            compiled,
        }),
        span: full,
    })
}

fn compile_replace(args: &[Option<Expr>], span: Span) -> Result<Compiled, ExprError> {
    let has = |i: usize| matches!(args.get(i), Some(Some(_)));
    let bad = |message: &str| {
        ExprError::new(
            ErrorKind::BadCall {
                function: "Replace",
                message: message.to_owned(),
            },
            span,
        )
    };
    if !has(0) {
        return Err(bad("the source argument is required"));
    }
    let (old_value, pattern, group, replacement, replacement_attr, template) =
        (has(1), has(2), has(3), has(4), has(5), has(6));
    let mode = match (old_value, pattern) {
        (true, true) => return Err(bad("give either oldValue or regexPattern, not both")),
        (false, true) if group && replacement_attr => ReplaceMode::RegexFallback,
        (false, true) if group && replacement => ReplaceMode::RegexGroup,
        (false, true) if replacement && !group => ReplaceMode::Regex,
        (false, true) => {
            return Err(bad(
                "with regexPattern give replacementValue, regexGroupName + replacementValue, or regexGroupName + replacementAttributeName",
            ));
        }
        (true, false) if template => ReplaceMode::Template,
        (true, false) if replacement => ReplaceMode::Literal,
        (true, false) => return Err(bad("with oldValue give replacementValue or template")),
        (false, false) => return Err(bad("give oldValue or regexPattern")),
    };
    let regex = match args.get(2) {
        Some(Some(Expr {
            kind: ExprKind::Str(Value::Str(pattern)),
            span,
        })) => {
            let regex = compile_regex(pattern, *span)?;
            if let Some(Some(Expr {
                kind: ExprKind::Str(Value::Str(group)),
                span,
            })) = args.get(3)
                && !regex.capture_names().flatten().any(|n| n == group)
            {
                return Err(ExprError::new(
                    ErrorKind::BadCall {
                        function: "Replace",
                        message: format!(
                            "regexGroupName \"{group}\" is not a named group of the pattern \"{pattern}\""
                        ),
                    },
                    *span,
                ));
            }
            Some(Arc::new(regex))
        }
        _ => None,
    };
    Ok(Compiled::Replace { mode, regex })
}

/// Compiles a .NET-style pattern with fancy-regex (named groups, lookaround, backreferences).
pub(crate) fn compile_regex(pattern: &str, span: Span) -> Result<fancy_regex::Regex, ExprError> {
    fancy_regex::Regex::new(pattern).map_err(|e| {
        ExprError::new(
            ErrorKind::BadRegex {
                pattern: pattern.to_owned(),
                message: e.to_string(),
            },
            span,
        )
    })
}

/// SelectUniqueValue checks the target for each candidate, so Entra allows it only as the whole expression.
fn check_select_unique_value_is_top_level(root: &Expr) -> Result<(), ExprError> {
    let mut nested = None;
    root.visit(&mut |e| {
        if let ExprKind::Call(c) = &e.kind
            && c.function == Function::SelectUniqueValue
            && !std::ptr::eq(e, root)
            && nested.is_none()
        {
            nested = Some(c.name_span);
        }
    });
    match nested {
        Some(span) => Err(ExprError::new(
            ErrorKind::BadCall {
                function: "SelectUniqueValue",
                message:
                    "must be the whole expression; it cannot be nested inside another function"
                        .to_owned(),
            },
            span,
        )),
        None => Ok(()),
    }
}

impl std::str::FromStr for Expr {
    type Err = ExprError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}
