//! Tokens of the expression language with their byte spans. Strings unescape `\"` and `\\`; a
//! backslash before any other character is kept, so regex patterns written with single backslashes
//! still mean what their author intended.

use super::error::{ErrorKind, ExprError, Span};

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Ident(String),
    Attribute(String),
    Str(String),
    Int(i64),
    Hex(i64),
    LParen,
    RParen,
    Comma,
    Cmp(CmpOp),
    Eof,
}

/// A comparison operator, usable in IIF and CBool conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl CmpOp {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Attribute(s) => format!("'[{s}]'"),
            Tok::Str(_) => "a string".to_owned(),
            Tok::Int(_) | Tok::Hex(_) => "a number".to_owned(),
            Tok::LParen => "'('".to_owned(),
            Tok::RParen => "')'".to_owned(),
            Tok::Comma => "','".to_owned(),
            Tok::Cmp(op) => format!("'{}'", op.symbol()),
            Tok::Eof => "the end of the expression".to_owned(),
        }
    }
}

/// Splits `src` into tokens, ending with `Tok::Eof`.
pub(crate) fn lex(src: &str) -> Result<Vec<(Tok, Span)>, ExprError> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        chars.next();
        let single = |tok: Tok| Ok((tok, Span::new(start, start + c.len_utf8())));
        let item: Result<(Tok, Span), ExprError> = match c {
            c if c.is_whitespace() => continue,
            '(' => single(Tok::LParen),
            ')' => single(Tok::RParen),
            ',' => single(Tok::Comma),
            '=' => single(Tok::Cmp(CmpOp::Eq)),
            '<' | '>' => {
                let op = match (c, chars.peek().map(|&(_, n)| n)) {
                    ('<', Some('>')) => Some(CmpOp::Ne),
                    ('<', Some('=')) => Some(CmpOp::Le),
                    ('>', Some('=')) => Some(CmpOp::Ge),
                    _ => None,
                };
                match op {
                    Some(op) => {
                        chars.next();
                        Ok((Tok::Cmp(op), Span::new(start, start + 2)))
                    }
                    None => single(Tok::Cmp(if c == '<' { CmpOp::Lt } else { CmpOp::Gt })),
                }
            }
            '"' => {
                let mut text = String::new();
                let mut end = None;
                while let Some((i, ch)) = chars.next() {
                    match ch {
                        '"' => {
                            end = Some(i + 1);
                            break;
                        }
                        '\\' => match chars.peek() {
                            Some(&(_, next @ ('"' | '\\'))) => {
                                text.push(next);
                                chars.next();
                            }
                            _ => text.push('\\'),
                        },
                        _ => text.push(ch),
                    }
                }
                match end {
                    Some(end) => Ok((Tok::Str(text), Span::new(start, end))),
                    None => Err(ExprError::new(
                        ErrorKind::UnterminatedString,
                        Span::new(start, start + 1),
                    )),
                }
            }
            '[' => {
                let mut end = None;
                for (i, ch) in chars.by_ref() {
                    if ch == ']' {
                        end = Some(i);
                        break;
                    }
                }
                match end {
                    None => Err(ExprError::new(
                        ErrorKind::BadAttribute(
                            "unterminated attribute reference: missing ']'".to_owned(),
                        ),
                        Span::new(start, start + 1),
                    )),
                    Some(end) => {
                        let name = src.get(start + 1..end).unwrap_or_default();
                        let span = Span::new(start, end + 1);
                        if name.trim().is_empty() {
                            Err(ExprError::new(
                                ErrorKind::BadAttribute("empty attribute name '[]'".to_owned()),
                                span,
                            ))
                        } else {
                            Ok((Tok::Attribute(name.to_owned()), span))
                        }
                    }
                }
            }
            '&' if matches!(chars.peek(), Some((_, 'H'))) => {
                chars.next();
                let digits_start = start + 2;
                let end =
                    take_while(&mut chars, |ch| ch.is_ascii_hexdigit()).unwrap_or(digits_start);
                let span = Span::new(start, end);
                let text = src.get(digits_start..end).unwrap_or_default();
                match i64::from_str_radix(text, 16) {
                    Ok(v) if !text.is_empty() => Ok((Tok::Hex(v), span)),
                    _ => Err(bad_number(src, span)),
                }
            }
            '-' | '0'..='9' => {
                let end = take_while(&mut chars, |ch| ch.is_ascii_digit()).unwrap_or(start + 1);
                let span = Span::new(start, end);
                match src.get(start..end).unwrap_or_default().parse::<i64>() {
                    Ok(v) => Ok((Tok::Int(v), span)),
                    Err(_) => Err(bad_number(src, span)),
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let end = take_while(&mut chars, |ch| ch.is_alphanumeric() || ch == '_')
                    .unwrap_or(start + c.len_utf8());
                Ok((
                    Tok::Ident(src.get(start..end).unwrap_or_default().to_owned()),
                    Span::new(start, end),
                ))
            }
            found => Err(ExprError::new(
                ErrorKind::UnexpectedChar { found },
                Span::new(start, start + found.len_utf8()),
            )),
        };
        out.push(item?);
    }
    out.push((Tok::Eof, Span::new(src.len(), src.len())));
    Ok(out)
}

/// Consumes chars while `pred` holds; returns the byte offset after the last one consumed.
fn take_while(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    pred: impl Fn(char) -> bool,
) -> Option<usize> {
    let mut end = None;
    while let Some(&(i, ch)) = chars.peek() {
        if !pred(ch) {
            break;
        }
        end = Some(i + ch.len_utf8());
        chars.next();
    }
    end
}

fn bad_number(src: &str, span: Span) -> ExprError {
    ExprError::new(
        ErrorKind::BadNumber(src.get(span.start..span.end).unwrap_or_default().to_owned()),
        span,
    )
}
