//! Replace's five behaviours (§7.2/§7.3). The mode is fixed at parse time by which arguments are
//! present; a constant regexPattern was compiled then too, and only a pattern computed from
//! attributes is compiled here.

use std::borrow::Cow;
use std::sync::Arc;

use super::ast::{Call, Compiled, ReplaceMode};
use super::error::{ErrorKind, ExprError, Span};
use super::eval::{Evaluator, text};
use super::functions::Function;
use super::parser::compile_regex;
use super::value::Value;

const SOURCE: usize = 0;
const OLD_VALUE: usize = 1;
const PATTERN: usize = 2;
const GROUP: usize = 3;
const REPLACEMENT: usize = 4;
const REPLACEMENT_ATTRIBUTE: usize = 5;
const TEMPLATE: usize = 6;

pub(crate) fn evaluate<'s>(
    ev: &mut Evaluator<'s, '_, '_>,
    call: &'s Call,
    span: Span,
) -> Result<Cow<'s, Value>, ExprError> {
    let Compiled::Replace { mode, regex } = &call.compiled else {
        return Err(bad(
            "Replace was not prepared by the parser".to_owned(),
            span,
        ));
    };
    let text_of = |ev: &mut Evaluator<'s, '_, '_>, i: usize| -> Result<Option<String>, ExprError> {
        let v = ev.arg(call, i)?;
        Ok(text(Function::Replace, &v, Evaluator::arg_span(call, i, span))?.map(str::to_owned))
    };
    let source = text_of(ev, SOURCE)?;
    let result = match mode {
        ReplaceMode::Literal => {
            let old = text_of(ev, OLD_VALUE)?.unwrap_or_default();
            let replacement = text_of(ev, REPLACEMENT)?.unwrap_or_default();
            source.map(|s| {
                if old.is_empty() {
                    s
                } else {
                    s.replace(&old, &replacement)
                }
            })
        }
        ReplaceMode::Template => {
            let old = text_of(ev, OLD_VALUE)?.unwrap_or_default();
            let template = text_of(ev, TEMPLATE)?.unwrap_or_default();
            source.map(|s| {
                if old.is_empty() {
                    template.clone()
                } else {
                    template.replace(&old, &s)
                }
            })
        }
        ReplaceMode::Regex | ReplaceMode::RegexGroup | ReplaceMode::RegexFallback => {
            let regex = match regex {
                Some(r) => Arc::clone(r),
                None => {
                    let pattern = text_of(ev, PATTERN)?.unwrap_or_default();
                    Arc::new(compile_regex(
                        &pattern,
                        Evaluator::arg_span(call, PATTERN, span),
                    )?)
                }
            };
            let group = text_of(ev, GROUP)?.unwrap_or_default();
            match mode {
                ReplaceMode::Regex => {
                    let replacement = text_of(ev, REPLACEMENT)?.unwrap_or_default();
                    source
                        .map(|s| replace_all(&regex, &s, &replacement, span))
                        .transpose()?
                }
                ReplaceMode::RegexGroup => {
                    let replacement = text_of(ev, REPLACEMENT)?.unwrap_or_default();
                    source
                        .map(|s| replace_group(&regex, &s, &group, &replacement, span))
                        .transpose()?
                }
                _ => match source.filter(|s| !s.is_empty()) {
                    Some(s) => Some(s),
                    None => {
                        let fallback = text_of(ev, REPLACEMENT_ATTRIBUTE)?;
                        match fallback {
                            Some(f) => extract_group(&regex, &f, &group, span)?,
                            None => None,
                        }
                    }
                },
            }
        }
    };
    Ok(Cow::Owned(result.map_or(Value::Null, Value::Str)))
}

fn bad(message: String, span: Span) -> ExprError {
    ExprError::new(
        ErrorKind::ArgumentType {
            function: "Replace",
            message,
        },
        span,
    )
}

fn regex_failure(e: fancy_regex::Error, span: Span) -> ExprError {
    bad(
        format!("regular expression failed on this input: {e}"),
        span,
    )
}

/// Replaces every match; `${name}` / `$1` in the replacement refer to groups.
fn replace_all(
    regex: &fancy_regex::Regex,
    s: &str,
    replacement: &str,
    span: Span,
) -> Result<String, ExprError> {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in regex.captures_iter(s) {
        let caps = caps.map_err(|e| regex_failure(e, span))?;
        let Some(m) = caps.get(0) else { continue };
        out.push_str(s.get(last..m.start()).unwrap_or_default());
        caps.expand(replacement, &mut out);
        last = m.end();
    }
    out.push_str(s.get(last..).unwrap_or_default());
    Ok(out)
}

/// Replaces only the text of the named group in each match.
fn replace_group(
    regex: &fancy_regex::Regex,
    s: &str,
    group: &str,
    replacement: &str,
    span: Span,
) -> Result<String, ExprError> {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in regex.captures_iter(s) {
        let caps = caps.map_err(|e| regex_failure(e, span))?;
        let Some(m) = caps.name(group) else { continue };
        if m.start() < last {
            continue;
        }
        out.push_str(s.get(last..m.start()).unwrap_or_default());
        caps.expand(replacement, &mut out);
        last = m.end();
    }
    out.push_str(s.get(last..).unwrap_or_default());
    Ok(out)
}

/// The named group's text in the first match, if any.
fn extract_group(
    regex: &fancy_regex::Regex,
    s: &str,
    group: &str,
    span: Span,
) -> Result<Option<String>, ExprError> {
    let caps = regex.captures(s).map_err(|e| regex_failure(e, span))?;
    Ok(caps.and_then(|c| c.name(group).map(|m| m.as_str().to_owned())))
}
