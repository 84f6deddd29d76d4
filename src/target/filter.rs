//! The SCIM filter and attribute-path grammar (RFC 7644 §3.4.2.2 and the PATCH `path` of §3.5.2),
//! widened by Entra's `emails[type eq "work"].value eq "x"` form (evaluation lives in `eval`).
//! Parsing is strict: anything outside the grammar is an error with a byte offset, which the HTTP
//! layer turns into `invalidFilter` / `invalidPath`.

/// A parse error with the byte offset in the filter or path text where it was noticed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at offset {offset}: {message}")]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// An attribute path: `[urn:]attr[.sub]` or `attr[filter][.sub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The schema URN prefix when the path was written fully qualified.
    pub urn: Option<String>,
    pub attr: String,
    /// The value filter of a value path (`emails[type eq "work"]`).
    pub filter: Option<Box<Filter>>,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison value: a JSON literal as RFC 7644 allows in filters.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr pr`, or a bare value path `emails[type eq "work"]` (some element matches).
    Present(Path),
    Compare(Path, CompareOp, CompValue),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Str(String),
    Word(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        offset,
        message: message.into(),
    })
}

fn lex(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        let single = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            _ => None,
        };
        if let Some(tok) = single {
            chars.next();
            out.push(Token {
                tok,
                start,
                end: start + 1,
            });
        } else if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            // Reuse serde_json for the JSON string escapes RFC 7644 prescribes.
            chars.next();
            let mut escaped = false;
            let mut end = None;
            for (i, ch) in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == '"' {
                    end = Some(i + 1);
                    break;
                }
            }
            let Some(end) = end else {
                return err(start, "unterminated string");
            };
            let raw = text.get(start..end).unwrap_or_default();
            let Ok(s) = serde_json::from_str::<String>(raw) else {
                return err(start, "invalid string escape");
            };
            out.push(Token {
                tok: Tok::Str(s),
                start,
                end,
            });
        } else {
            let mut end = start;
            while let Some(&(i, ch)) = chars.peek() {
                if ch.is_whitespace() || matches!(ch, '(' | ')' | '[' | ']' | '"') {
                    break;
                }
                end = i + ch.len_utf8();
                chars.next();
            }
            let word = text.get(start..end).unwrap_or_default().to_string();
            out.push(Token {
                tok: Tok::Word(word),
                start,
                end,
            });
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    len: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn offset(&self) -> usize {
        self.peek().map_or(self.len, |t| t.start)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    fn or_expr(&mut self, nested: bool) -> Result<Filter, SyntaxError> {
        let mut left = self.and_expr(nested)?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and_expr(nested)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self, nested: bool) -> Result<Filter, SyntaxError> {
        let mut left = self.unary(nested)?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.unary(nested)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, nested: bool) -> Result<Filter, SyntaxError> {
        if self.peek_keyword("not") {
            self.pos += 1;
            let inner = self.paren(nested)?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if matches!(
            self.peek(),
            Some(Token {
                tok: Tok::LParen,
                ..
            })
        ) {
            return self.paren(nested);
        }
        self.attr_expr(nested)
    }

    fn paren(&mut self, nested: bool) -> Result<Filter, SyntaxError> {
        let at = self.offset();
        if !matches!(
            self.next(),
            Some(Token {
                tok: Tok::LParen,
                ..
            })
        ) {
            return err(at, "expected '('");
        }
        let inner = self.or_expr(nested)?;
        let at = self.offset();
        if !matches!(
            self.next(),
            Some(Token {
                tok: Tok::RParen,
                ..
            })
        ) {
            return err(at, "expected ')'");
        }
        Ok(inner)
    }

    fn attr_expr(&mut self, nested: bool) -> Result<Filter, SyntaxError> {
        let path = self.path(nested)?;
        let at = self.offset();
        let Some(Token {
            tok: Tok::Word(op), ..
        }) = self.peek().cloned()
        else {
            if path.filter.is_some() && path.sub.is_none() {
                return Ok(Filter::Present(path));
            }
            return err(at, "expected an operator");
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => {
                self.pos += 1;
                return Ok(Filter::Present(path));
            }
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            "and" | "or" if path.filter.is_some() && path.sub.is_none() => {
                return Ok(Filter::Present(path));
            }
            other => return err(at, format!("unknown operator '{other}'")),
        };
        self.pos += 1;
        let at = self.offset();
        let value = match self.next() {
            Some(Token {
                tok: Tok::Str(s), ..
            }) => CompValue::Str(s),
            Some(Token {
                tok: Tok::Word(w), ..
            }) => match w.as_str() {
                "true" => CompValue::Bool(true),
                "false" => CompValue::Bool(false),
                "null" => CompValue::Null,
                _ => match w.parse::<f64>() {
                    Ok(n) if n.is_finite() => CompValue::Num(n),
                    _ => return err(at, format!("comparison value '{w}' must be quoted")),
                },
            },
            _ => return err(at, "expected a comparison value"),
        };
        let ordering = matches!(
            op,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        );
        let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
        let is_str = matches!(value, CompValue::Str(_));
        if (ordering && matches!(value, CompValue::Bool(_) | CompValue::Null))
            || (substring && !is_str)
        {
            return err(at, "operator not applicable to this value type");
        }
        Ok(Filter::Compare(path, op, value))
    }

    /// A path as it appears in a filter; inside a value filter only plain sub-attribute names.
    fn path(&mut self, nested: bool) -> Result<Path, SyntaxError> {
        let at = self.offset();
        let Some(Token {
            tok: Tok::Word(word),
            end,
            ..
        }) = self.next()
        else {
            return err(at, "expected an attribute path");
        };
        let mut path = split_attr_path(&word, at)?;
        if let Some(Token {
            tok: Tok::LBracket,
            start,
            ..
        }) = self.peek().cloned()
        {
            if nested {
                return err(start, "value filters cannot be nested");
            }
            if start != end || path.sub.is_some() {
                return err(start, "unexpected '['");
            }
            self.pos += 1;
            let inner = self.or_expr(true)?;
            let at = self.offset();
            let Some(Token {
                tok: Tok::RBracket,
                end: close,
                ..
            }) = self.next()
            else {
                return err(at, "expected ']'");
            };
            path.filter = Some(Box::new(inner));
            if let Some(Token {
                tok: Tok::Word(w),
                start,
                ..
            }) = self.peek().cloned()
                && start == close
            {
                let Some(sub) = w.strip_prefix('.') else {
                    return err(start, "expected '.' after ']'");
                };
                check_name(sub, start + 1)?;
                path.sub = Some(sub.to_string());
                self.pos += 1;
            }
        }
        if nested && path.urn.is_some() {
            return err(at, "value filters take sub-attribute names only");
        }
        Ok(path)
    }
}

fn check_name(name: &str, offset: usize) -> Result<(), SyntaxError> {
    let mut chars = name.chars();
    let first_ok = match chars.next() {
        Some('$') => name == "$ref",
        Some(c) => c.is_ascii_alphabetic(),
        None => false,
    };
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '$') {
        Ok(())
    } else {
        err(offset, format!("invalid attribute name '{name}'"))
    }
}

/// Splits `urn:…:attr.sub` / `attr.sub` into a path (without a value filter).
fn split_attr_path(word: &str, offset: usize) -> Result<Path, SyntaxError> {
    let (urn, rest) = if word.len() >= 4
        && word
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        match word.rfind(':') {
            Some(i) => (
                word.get(..i).map(str::to_string),
                word.get(i + 1..).unwrap_or_default(),
            ),
            None => (None, word),
        }
    } else {
        (None, word)
    };
    let rest_offset = offset + (word.len() - rest.len());
    let mut parts = rest.split('.');
    let attr = parts.next().unwrap_or_default();
    check_name(attr, rest_offset)?;
    let sub = parts.next();
    if let Some(sub) = sub {
        check_name(sub, rest_offset + attr.len() + 1)?;
    }
    if parts.next().is_some() {
        return err(offset, format!("too many '.' in '{word}'"));
    }
    Ok(Path {
        urn,
        attr: attr.to_string(),
        filter: None,
        sub: sub.map(str::to_string),
    })
}

/// Parses a `filter` query parameter.
pub fn parse_filter(text: &str) -> Result<Filter, SyntaxError> {
    let toks = lex(text)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        len: text.len(),
    };
    let f = p.or_expr(false)?;
    match p.peek() {
        None => Ok(f),
        Some(t) => err(t.start, "unexpected text after the filter"),
    }
}

/// Parses a PATCH `path` (or an `attributes` entry): an attribute path or a value path.
pub fn parse_path(text: &str) -> Result<Path, SyntaxError> {
    let toks = lex(text)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        len: text.len(),
    };
    let path = p.path(false)?;
    match p.peek() {
        None => Ok(path),
        Some(t) => err(t.start, "unexpected text after the path"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_errors() {
        let cases = [
            ("userName", 8),
            (r#"userName eq"#, 11),
            (r#"userName eq jyoung"#, 12),
            (r#"userName xx "a""#, 9),
            (r#"userName eq "a" and"#, 19),
            (r#"userName eq "a"#, 12),
            (r#"emails[type eq "work""#, 21),
            (r#"emails[x[y eq "1"]]"#, 8),
            (r#"active gt true"#, 10),
            (r#"(userName eq "a""#, 16),
            (r#"userName eq "a" )"#, 16),
            (r#"1abc eq "a""#, 0),
        ];
        for (text, offset) in cases {
            let e = parse_filter(text)
                .err()
                .unwrap_or_else(|| panic!("{text} parsed"));
            assert_eq!(e.offset, offset, "{text}: {e}");
        }
    }

    #[test]
    fn paths() {
        let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attr, "emails");
        assert_eq!(p.sub.as_deref(), Some("value"));
        assert!(p.filter.is_some());
        let p = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager")
            .unwrap();
        assert_eq!(
            p.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(p.attr, "manager");
        let p = parse_path("name.givenName").unwrap();
        assert_eq!(
            (p.attr.as_str(), p.sub.as_deref()),
            ("name", Some("givenName"))
        );
        let p = parse_path(r#"members[value eq "7f4b"]"#).unwrap();
        assert!(p.filter.is_some() && p.sub.is_none());
        for bad in [
            "",
            "name..x",
            "a.b.c",
            "emails[type eq \"w\"] .value",
            "x y",
            "emails[type eq \"w\"]x",
        ] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }
}
