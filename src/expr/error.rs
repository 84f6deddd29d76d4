//! Errors of the expression language: what went wrong (`ErrorKind`) and where (`Span`, byte offsets
//! into the source). `render` draws the offending line with a caret under the column, counting
//! characters rather than bytes so multi-byte input lines up.

/// A byte range `start..end` into the expression source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span covering `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// The source is longer than Entra's limit.
    #[error("expression is {chars} characters long; the limit is {limit}")]
    TooLong {
        /// Characters in the source.
        chars: usize,
        /// The limit (10,000).
        limit: usize,
    },
    /// Calls nested deeper than the parser allows.
    #[error("expression is nested too deeply (the limit is {limit} levels)")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// The source is empty or only whitespace.
    #[error("expression is empty")]
    Empty,
    /// A character that starts no token.
    #[error("unexpected character '{found}'")]
    UnexpectedChar {
        /// The character.
        found: char,
    },
    /// A `"` without its closing `"`.
    #[error("unterminated string: missing closing '\"'")]
    UnterminatedString,
    /// A `[` without its closing `]`, or `[]`.
    #[error("{0}")]
    BadAttribute(String),
    /// A number that does not fit a 64-bit integer, or `&H` without digits.
    #[error("invalid number '{0}'")]
    BadNumber(String),
    /// The parser wanted something else here.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What would have been accepted, e.g. `',' or ')'`.
        expected: String,
        /// What was there.
        found: String,
    },
    /// A function name that is not in the registry.
    #[error("unknown function '{name}'{}", suggestion_text(suggestion.as_deref()))]
    UnknownFunction {
        /// The name as written.
        name: String,
        /// The closest known name, if any is close.
        suggestion: Option<String>,
    },
    /// A bare word that is neither a function call nor a known constant.
    #[error("unknown identifier '{name}'{}", suggestion_text(suggestion.as_deref()))]
    UnknownIdentifier {
        /// The word as written.
        name: String,
        /// The closest known name, if any is close.
        suggestion: Option<String>,
    },
    /// A call with too few or too many arguments.
    #[error("{function} takes {expected} argument(s), got {got}: {signature}")]
    Arity {
        /// The function.
        function: &'static str,
        /// A description such as `2`, `1 to 3`, `at least 2`, `an even number (at least 4)`.
        expected: String,
        /// How many were given.
        got: usize,
        /// The documented signature.
        signature: &'static str,
    },
    /// A call whose arguments are present but do not fit together (e.g. Replace's modes).
    #[error("{function}: {message}")]
    BadCall {
        /// The function.
        function: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A constant regular expression that does not compile.
    #[error("invalid regular expression \"{pattern}\": {message}")]
    BadRegex {
        /// The pattern as the regex engine saw it.
        pattern: String,
        /// The regex engine's complaint.
        message: String,
    },
    /// A value of the wrong shape or format at evaluation time.
    #[error("{function}: {message}")]
    ArgumentType {
        /// The function.
        function: &'static str,
        /// What was expected and what was found.
        message: String,
    },
    /// `Item` with an index outside the attribute's values.
    #[error(
        "Item: index {index} is out of range (the attribute has {count} value(s); indexes start at 1)"
    )]
    IndexOutOfRange {
        /// The requested 1-based index.
        index: i64,
        /// How many values there are.
        count: usize,
    },
    /// Every `SelectUniqueValue` candidate already exists in the target (Entra escrows the object).
    #[error("SelectUniqueValue: every candidate already exists in the target: {}", candidates.join(", "))]
    NoUniqueValue {
        /// The candidates tried, in order.
        candidates: Vec<String>,
    },
}

fn suggestion_text(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!("; did you mean '{s}'?"))
        .unwrap_or_default()
}

/// An error with its location in the expression source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ExprError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Where, as bytes of the source.
    pub span: Span,
}

impl ExprError {
    pub(crate) fn new(kind: ErrorKind, span: Span) -> Self {
        ExprError { kind, span }
    }

    /// 1-based line and column (in characters) of the error's start in `source`.
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        let start = floor_char_boundary(source, self.span.start);
        let before = source.get(..start).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
        (line, column)
    }

    /// The message, the source line and a caret line under the error, e.g.
    ///
    /// ```text
    /// error: expected ',' or ')', found '"b"' at line 1, column 12
    ///   Append([a] "b")
    ///              ^^^
    /// ```
    pub fn render(&self, source: &str) -> String {
        let (line_no, column) = self.line_col(source);
        let line = source.lines().nth(line_no - 1).unwrap_or_default();
        let start = floor_char_boundary(source, self.span.start);
        let end = floor_char_boundary(source, self.span.end.max(self.span.start));
        let width = source
            .get(start..end)
            .map_or(0, |s| s.chars().take_while(|c| *c != '\n').count())
            .max(1);
        // Keep tabs in the padding so the caret lines up under tabbed source.
        let pad: String = line
            .chars()
            .take(column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!(
            "{self} at line {line_no}, column {column}\n  {line}\n  {pad}{}",
            "^".repeat(width)
        )
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
