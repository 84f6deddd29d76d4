//! The evaluator core: walks an `Expr` against one object's attributes. Values are lent out of the
//! tree and the attribute map where possible (`Cow`), so a plain `[attr]` or a Switch over constants
//! does not copy strings until the final result. The per-function dispatch is in `calls.rs`;
//! functions whose later arguments may not be needed (IIF, Switch, Coalesce, SelectUniqueValue)
//! evaluate them lazily.

use std::borrow::Cow;

use super::ast::{Call, Expr, ExprKind};
use super::builtins as b;
use super::error::{ErrorKind, ExprError, Span};
use super::functions::Function;
use super::lexer::CmpOp;
use super::unique::UniqueCandidates;
use super::value::Value;
use super::{Attributes, EvalContext, Outcome, lookup};

pub(crate) type R<T> = Result<T, ExprError>;

pub(crate) fn evaluate(
    expr: &Expr,
    attrs: &dyn Attributes,
    ctx: &mut EvalContext<'_>,
) -> R<Outcome> {
    let mut ev = Evaluator {
        attrs,
        ctx,
        redacted: false,
        ignore_flow: false,
        unique: None,
    };
    let value = ev.eval(expr)?.into_owned();
    Ok(Outcome {
        value,
        redacted: ev.redacted,
        ignore_flow: ev.ignore_flow,
        role_function: expr.role_function(),
        unique: ev.unique,
    })
}

pub(crate) struct Evaluator<'s, 'c, 'r> {
    pub(crate) attrs: &'s dyn Attributes,
    pub(crate) ctx: &'c mut EvalContext<'r>,
    pub(crate) redacted: bool,
    pub(crate) ignore_flow: bool,
    /// The candidates of the `SelectUniqueValue` evaluated (the whole expression, if any).
    pub(crate) unique: Option<UniqueCandidates>,
}

/// An argument-shape error at `span`.
pub(crate) fn type_error(function: Function, message: String, span: Span) -> ExprError {
    ExprError::new(
        ErrorKind::ArgumentType {
            function: function.name(),
            message,
        },
        span,
    )
}

/// The single string in `v`; `None` for null; an error for several values or roles.
pub(crate) fn text(function: Function, v: &Value, span: Span) -> R<Option<&str>> {
    match v {
        Value::Null => Ok(None),
        Value::Multi(items) if items.is_empty() => Ok(None),
        Value::Roles(_) => Err(type_error(
            function,
            "expected a string, got app role assignments".to_owned(),
            span,
        )),
        other => other.as_single().map(Some).ok_or_else(|| {
            type_error(
                function,
                "expected a single value, got a multi-valued attribute".to_owned(),
                span,
            )
        }),
    }
}

/// An integer argument (decimal, or `&H` hex as text); `None` for null.
pub(crate) fn int(function: Function, what: &str, v: &Value, span: Span) -> R<Option<i64>> {
    let Some(s) = text(function, v, span)? else {
        return Ok(None);
    };
    b::parse_int(s).map(Some).ok_or_else(|| {
        type_error(
            function,
            format!("{what} must be an integer, got \"{s}\""),
            span,
        )
    })
}

pub(crate) fn owned<'s>(v: Value) -> R<Cow<'s, Value>> {
    Ok(Cow::Owned(v))
}

pub(crate) fn string<'s>(s: String) -> R<Cow<'s, Value>> {
    Ok(Cow::Owned(Value::Str(s)))
}

pub(crate) fn null<'s>() -> R<Cow<'s, Value>> {
    Ok(Cow::Owned(Value::Null))
}

impl<'s> Evaluator<'s, '_, '_> {
    pub(crate) fn eval(&mut self, e: &'s Expr) -> R<Cow<'s, Value>> {
        match &e.kind {
            ExprKind::Attribute(name) => {
                Ok(lookup(self.attrs, name).map_or(Cow::Owned(Value::Null), Cow::Borrowed))
            }
            ExprKind::Str(v) | ExprKind::Int { text: v, .. } => Ok(Cow::Borrowed(v)),
            ExprKind::CompareType(c) => string(c.name().to_owned()),
            ExprKind::Comparison { op, lhs, rhs } => {
                let l = self.eval(lhs)?;
                let r = self.eval(rhs)?;
                let l = text(Function::Iif, &l, lhs.span)?;
                let r = text(Function::Iif, &r, rhs.span)?;
                owned(Value::from_bool(match (l, r) {
                    (Some(l), Some(r)) => compare(*op, l, r),
                    _ => false,
                }))
            }
            ExprKind::Call(call) => self.call(call, e.span),
        }
    }

    /// Argument `i`, `Null` when omitted or absent.
    pub(crate) fn arg(&mut self, call: &'s Call, i: usize) -> R<Cow<'s, Value>> {
        match call.args.get(i) {
            Some(Some(e)) => self.eval(e),
            _ => null(),
        }
    }

    /// The span of argument `i`, or of the call when it was omitted.
    pub(crate) fn arg_span(call: &Call, i: usize, call_span: Span) -> Span {
        match call.args.get(i) {
            Some(Some(e)) => e.span,
            _ => call_span,
        }
    }

    pub(crate) fn text_arg(&mut self, call: &'s Call, i: usize, span: Span) -> R<Option<String>> {
        let v = self.arg(call, i)?;
        Ok(text(call.function, &v, Self::arg_span(call, i, span))?.map(str::to_owned))
    }

    pub(crate) fn int_arg(&mut self, call: &'s Call, i: usize, span: Span) -> R<Option<i64>> {
        let v = self.arg(call, i)?;
        int(
            call.function,
            call.function.param_key(i),
            &v,
            Self::arg_span(call, i, span),
        )
    }

    pub(crate) fn required_int(&mut self, call: &'s Call, i: usize, span: Span) -> R<i64> {
        self.int_arg(call, i, span)?.ok_or_else(|| {
            type_error(
                call.function,
                format!("{} is required", call.function.param_key(i)),
                Self::arg_span(call, i, span),
            )
        })
    }

    /// Applies `f` to the first argument's text; null in → null out.
    pub(crate) fn map_text(
        &mut self,
        call: &'s Call,
        span: Span,
        f: impl FnOnce(&str) -> String,
    ) -> R<Cow<'s, Value>> {
        match self.text_arg(call, 0, span)? {
            Some(s) => string(f(&s)),
            None => null(),
        }
    }

    /// IIF: a null or empty attribute anywhere in the condition makes the condition fail (DOC).
    pub(crate) fn iif(&mut self, call: &'s Call) -> R<Cow<'s, Value>> {
        let condition_holds = match call.args.first() {
            Some(Some(condition)) => {
                let mut missing = false;
                condition.visit(&mut |e| {
                    if let ExprKind::Attribute(name) = &e.kind {
                        missing |= lookup(self.attrs, name).is_none_or(Value::is_null_or_empty);
                    }
                });
                if missing {
                    false
                } else {
                    let v = self.eval(condition)?;
                    text(Function::Iif, &v, condition.span)?
                        .and_then(b::truthy)
                        .unwrap_or(false)
                }
            }
            _ => false,
        };
        self.arg(call, if condition_holds { 1 } else { 2 })
    }
}

/// `=`/`<>` compare text exactly; ordering compares numerically when both sides are numbers.
fn compare(op: CmpOp, l: &str, r: &str) -> bool {
    let ordering = match (l.trim().parse::<f64>(), r.trim().parse::<f64>()) {
        (Ok(a), Ok(c)) if !matches!(op, CmpOp::Eq | CmpOp::Ne) => a.partial_cmp(&c),
        _ => Some(l.cmp(r)),
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CmpOp::Eq => l == r,
        CmpOp::Ne => l != r,
        CmpOp::Gt => ordering.is_gt(),
        CmpOp::Ge => ordering.is_ge(),
        CmpOp::Lt => ordering.is_lt(),
        CmpOp::Le => ordering.is_le(),
    }
}
