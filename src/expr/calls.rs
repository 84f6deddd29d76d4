//! Per-function evaluation: the dispatch from a `Call` to its semantics (§7.2). Argument shapes are
//! checked here; the string, date, random and Replace work itself lives in their own files.

use std::borrow::Cow;

use super::ast::Call;
use super::builtins as b;
use super::dates;
use super::error::{ErrorKind, ExprError, Span};
use super::eval::{Evaluator, R, null, owned, string, text, type_error};
use super::functions::Function;
use super::random;
use super::replace;
use super::unique::UniqueCandidates;
use super::value::Value;

impl<'s> Evaluator<'s, '_, '_> {
    pub(crate) fn call(&mut self, call: &'s Call, span: Span) -> R<Cow<'s, Value>> {
        use Function as F;
        let f = call.function;
        match f {
            F::Append | F::Prepend => {
                let (source, other) = if f == F::Append { (0, 1) } else { (1, 0) };
                let Some(s) = self.text_arg(call, source, span)? else {
                    return null();
                };
                let other = self.text_arg(call, other, span)?.unwrap_or_default();
                string(if f == F::Append {
                    s + &other
                } else {
                    other + &s
                })
            }
            F::SingleAppRoleAssignment
            | F::AppRoleAssignmentsComplex
            | F::AssertiveAppRoleAssignmentsComplex => match self.arg(call, 0)?.into_owned() {
                Value::Null => null(),
                Value::Roles(roles) if f == F::SingleAppRoleAssignment => owned(
                    roles
                        .into_iter()
                        .next()
                        .map_or(Value::Null, |r| Value::Roles(vec![r])),
                ),
                Value::Roles(roles) if roles.is_empty() => null(),
                Value::Roles(roles) => owned(Value::Roles(roles)),
                _ => Err(type_error(
                    f,
                    "expects [appRoleAssignments]".to_owned(),
                    Self::arg_span(call, 0, span),
                )),
            },
            F::BitAnd => match (self.int_arg(call, 0, span)?, self.int_arg(call, 1, span)?) {
                (Some(a), Some(c)) => string((a & c).to_string()),
                _ => null(),
            },
            F::CBool => {
                let v = self.arg(call, 0)?;
                let t = text(f, &v, Self::arg_span(call, 0, span))?.unwrap_or_default();
                b::truthy(t)
                    .map(|t| Cow::Owned(Value::from_bool(t)))
                    .ok_or_else(|| {
                        type_error(f, format!("cannot convert \"{t}\" to a boolean"), span)
                    })
            }
            F::CDate => match self.text_arg(call, 0, span)? {
                Some(s) => dates::parse(&s)
                    .map(|d| Cow::Owned(Value::Str(dates::render(d))))
                    .ok_or_else(|| {
                        type_error(
                            f,
                            format!("\"{s}\" is not a date/time"),
                            Self::arg_span(call, 0, span),
                        )
                    }),
                None => null(),
            },
            F::Coalesce => {
                for i in 0..call.args.len() {
                    let v = self.arg(call, i)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                null()
            }
            F::ConvertToBase64 => self.map_text(call, span, b::to_base64_utf16le),
            F::ConvertToUtf8Hex => self.map_text(call, span, b::to_utf8_hex),
            F::Count => string(
                match &*self.arg(call, 0)? {
                    Value::Null => 0,
                    Value::Str(_) => 1,
                    Value::Multi(v) => v.len(),
                    Value::Roles(r) => r.len(),
                }
                .to_string(),
            ),
            F::CStr => self.map_text(call, span, str::to_owned),
            F::DateAdd | F::DateDiff => self.date_arith(call, span),
            F::DateFromNum => match self.int_arg(call, 0, span)? {
                Some(n) => dates::from_filetime(n)
                    .map(|d| Cow::Owned(Value::Str(dates::render(d))))
                    .ok_or_else(|| {
                        type_error(f, format!("{n} is outside the supported date range"), span)
                    }),
                None => null(),
            },
            F::FormatDateTime => {
                let (styles, input, output) = if call.args.len() == 4 {
                    (Some(1), 2, 3)
                } else {
                    (None, 1, 2)
                };
                let Some(source) = self.text_arg(call, 0, span)? else {
                    return null();
                };
                let styles = match styles {
                    Some(i) => self.text_arg(call, i, span)?,
                    None => None,
                };
                let input = self.text_arg(call, input, span)?.unwrap_or_default();
                let output = self.text_arg(call, output, span)?.unwrap_or_default();
                dates::format_date_time(&source, styles.as_deref(), &input, &output)
                    .map(|s| Cow::Owned(Value::Str(s)))
                    .map_err(|m| type_error(f, m, span))
            }
            F::Guid => string(random::guid(self.ctx.rng)),
            F::IgnoreFlowIfNullOrEmpty => {
                let v = self.arg(call, 0)?;
                if v.is_null_or_empty() {
                    self.ignore_flow = true;
                    return null();
                }
                Ok(v)
            }
            F::Iif => self.iif(call),
            F::InStr => self.instr(call, span),
            F::IsNull | F::IsNothing => owned(Value::from_bool(self.arg(call, 0)?.is_null())),
            F::IsNullOrEmpty => owned(Value::from_bool(self.arg(call, 0)?.is_null_or_empty())),
            F::IsPresent => owned(Value::from_bool(!self.arg(call, 0)?.is_null_or_empty())),
            F::IsString => owned(Value::from_bool(self.arg(call, 0)?.as_single().is_some())),
            F::Item => {
                let v = self.arg(call, 0)?;
                let index = self.required_int(call, 1, span)?;
                let values = v.to_strings();
                if v.is_null() {
                    return null();
                }
                let picked = usize::try_from(index)
                    .ok()
                    .and_then(|i| i.checked_sub(1))
                    .and_then(|i| values.get(i));
                match picked {
                    Some(s) => string(s.clone()),
                    None => Err(ExprError::new(
                        ErrorKind::IndexOutOfRange {
                            index,
                            count: values.len(),
                        },
                        span,
                    )),
                }
            }
            F::Join => {
                let sep = self.text_arg(call, 0, span)?.unwrap_or_default();
                let mut parts: Vec<String> = Vec::new();
                for i in 1..call.args.len() {
                    let v = self.arg(call, i)?;
                    match &*v {
                        Value::Null => {}
                        Value::Str(s) => parts.push(s.clone()),
                        Value::Multi(items) => parts.extend(items.iter().cloned()),
                        Value::Roles(_) => {
                            return Err(type_error(
                                f,
                                "cannot join app role assignments".to_owned(),
                                span,
                            ));
                        }
                    }
                }
                parts.retain(|p| !p.is_empty());
                if parts.is_empty() {
                    null()
                } else {
                    string(parts.join(&sep))
                }
            }
            F::Left => {
                let s = self.text_arg(call, 0, span)?;
                let n = self.required_int(call, 1, span)?;
                string(b::left(s.as_deref().unwrap_or_default(), n))
            }
            F::Mid => {
                let s = self.text_arg(call, 0, span)?;
                let start = self.required_int(call, 1, span)?;
                let len = self.required_int(call, 2, span)?;
                match s {
                    Some(s) => b::mid(&s, start, len)
                        .map(|s| Cow::Owned(Value::Str(s)))
                        .map_err(|m| type_error(f, m, span)),
                    None => null(),
                }
            }
            F::NormalizeDiacritics => {
                self.map_text(call, span, super::diacritics::normalize_diacritics)
            }
            F::Not => {
                let v = self.arg(call, 0)?;
                let t = text(f, &v, span)?.unwrap_or_default();
                owned(Value::from_bool(!t.eq_ignore_ascii_case("true")))
            }
            F::Now => string(dates::render(self.ctx.now)),
            F::NumFromDate => match self.text_arg(call, 0, span)? {
                Some(s) => dates::parse(&s)
                    .map(|d| Cow::Owned(Value::Str(dates::to_filetime(d).to_string())))
                    .ok_or_else(|| {
                        type_error(
                            f,
                            format!("\"{s}\" is not a date/time"),
                            Self::arg_span(call, 0, span),
                        )
                    }),
                None => null(),
            },
            F::PCase => {
                let separators = self.text_arg(call, 1, span)?;
                self.map_text(call, span, |s| b::pcase(s, separators.as_deref()))
            }
            F::RandomString => {
                let mut n = [0i64; 5];
                for (i, slot) in n.iter_mut().enumerate() {
                    *slot = self.required_int(call, i, span)?;
                }
                let avoid = self.text_arg(call, 5, span)?.unwrap_or_default();
                random::random_string(self.ctx.rng, n, &avoid)
                    .map(|s| Cow::Owned(Value::Str(s)))
                    .map_err(|m| type_error(f, m, span))
            }
            F::Redact => {
                self.redacted = true;
                self.arg(call, 0)
            }
            F::RemoveDuplicates => match self.arg(call, 0)?.into_owned() {
                Value::Multi(items) => owned(Value::Multi(b::dedupe(items))),
                Value::Roles(roles) => owned(Value::Roles(b::dedupe(roles))),
                other => owned(other),
            },
            F::Replace => replace::evaluate(self, call, span),
            F::SelectUniqueValue => self.select_unique_value(call, span),
            F::Split => {
                let delimiter = self.text_arg(call, 1, span)?.unwrap_or_default();
                match self.text_arg(call, 0, span)? {
                    Some(s) => owned(Value::Multi(b::split(&s, &delimiter))),
                    None => null(),
                }
            }
            F::StripSpaces => self.map_text(call, span, |s| s.replace(' ', "")),
            F::Switch => {
                let source_value = self.arg(call, 0)?;
                let source =
                    text(f, &source_value, Self::arg_span(call, 0, span))?.unwrap_or_default();
                for key_index in (2..call.args.len()).step_by(2) {
                    let key = self.arg(call, key_index)?;
                    if text(f, &key, Self::arg_span(call, key_index, span))?.unwrap_or_default()
                        == source
                    {
                        return self.arg(call, key_index + 1);
                    }
                }
                self.arg(call, 1)
            }
            F::ToLower | F::ToUpper => {
                let culture = self.text_arg(call, 1, span)?;
                self.map_text(call, span, |s| {
                    b::change_case(s, f == F::ToUpper, culture.as_deref())
                })
            }
            F::Word => {
                let s = self.text_arg(call, 0, span)?;
                let n = self.required_int(call, 1, span)?;
                let delimiters = self.text_arg(call, 2, span)?.unwrap_or_default();
                string(b::word(s.as_deref().unwrap_or_default(), n, &delimiters))
            }
        }
    }

    fn instr(&mut self, call: &'s Call, span: Span) -> R<Cow<'s, Value>> {
        let haystack = self.text_arg(call, 0, span)?;
        let needle = self.text_arg(call, 1, span)?;
        let start = self.int_arg(call, 2, span)?.unwrap_or(1);
        let compare = self.text_arg(call, 3, span)?;
        let ignore_case = match compare.as_deref() {
            None | Some("vbBinaryCompare" | "0") => false,
            Some("vbTextCompare" | "1") => true,
            Some(other) => {
                let message = format!(
                    "compareType must be vbBinaryCompare or vbTextCompare, got \"{other}\""
                );
                return Err(type_error(
                    Function::InStr,
                    message,
                    Self::arg_span(call, 3, span),
                ));
            }
        };
        match (haystack, needle) {
            (Some(h), Some(n)) => b::instr(&h, &n, start, ignore_case)
                .map(|p| Cow::Owned(Value::Str(p.to_string())))
                .map_err(|m| type_error(Function::InStr, m, Self::arg_span(call, 2, span))),
            _ => null(),
        }
    }

    fn date_arith(&mut self, call: &'s Call, span: Span) -> R<Cow<'s, Value>> {
        let f = call.function;
        let interval = self.text_arg(call, 0, span)?.unwrap_or_default();
        let date_at = |this: &mut Self, i: usize| -> R<Option<chrono::DateTime<chrono::Utc>>> {
            match this.text_arg(call, i, span)? {
                Some(s) => dates::parse(&s).map(Some).ok_or_else(|| {
                    type_error(
                        f,
                        format!("\"{s}\" is not a date/time"),
                        Self::arg_span(call, i, span),
                    )
                }),
                None => Ok(None),
            }
        };
        let result = if f == Function::DateAdd {
            let n = self.required_int(call, 1, span)?;
            match date_at(self, 2)? {
                Some(d) => dates::add(&interval, n, d).map(|d| Some(dates::render(d))),
                None => Ok(None),
            }
        } else {
            match (date_at(self, 1)?, date_at(self, 2)?) {
                (Some(d1), Some(d2)) => dates::diff(&interval, d1, d2).map(|n| Some(n.to_string())),
                _ => Ok(None),
            }
        };
        match result {
            Ok(Some(s)) => string(s),
            Ok(None) => null(),
            Err(m) => Err(type_error(f, m, Self::arg_span(call, 0, span))),
        }
    }

    /// Evaluates every candidate (the planner asks the target about them, see `UniqueCandidates`)
    /// and returns the first: the choice when the target holds none.
    fn select_unique_value(&mut self, call: &'s Call, span: Span) -> R<Cow<'s, Value>> {
        let mut candidates = Vec::new();
        for i in 0..call.args.len() {
            match self.text_arg(call, i, span) {
                Ok(Some(candidate)) if !candidate.is_empty() => candidates.push(Ok(candidate)),
                Ok(_) => {}
                Err(e) => candidates.push(Err(e)),
            }
        }
        let unique = UniqueCandidates::new(candidates, span);
        let first = unique.candidate(0)?.to_owned();
        self.unique = Some(unique);
        string(first)
    }
}
