//! The Graph `parseExpression`-shaped report (`entra-sim expr`) and the Graph
//! `attributeMappingSource` rendering of a parsed expression.

use serde_json::{Value as Json, json};

use super::ast::{Expr, ExprKind};
use super::value::Value;
use super::{Attributes, EvalContext, parse};

/// Parses and evaluates `src` and reports it the way Graph's `parseExpression` does:
/// `{parsingSucceeded, evaluationSucceeded, evaluationResult: [strings], parsedExpression, error}`.
/// `error` is `null` or `{code, message}` with the rendered error (source line and caret).
pub fn parse_expression_report(
    src: &str,
    attrs: &dyn Attributes,
    ctx: &mut EvalContext<'_>,
) -> Json {
    let expr = match parse(src) {
        Ok(e) => e,
        Err(e) => {
            return json!({
                "parsingSucceeded": false,
                "evaluationSucceeded": false,
                "evaluationResult": null,
                "parsedExpression": null,
                "error": {"code": "ExpressionParsingFailed", "message": e.render(src)},
            });
        }
    };
    let parsed = attribute_mapping_source(&expr);
    match expr.evaluate(attrs, ctx) {
        Ok(outcome) => json!({
            "parsingSucceeded": true,
            "evaluationSucceeded": true,
            "evaluationResult": outcome.value.to_strings(),
            "parsedExpression": parsed,
            "error": null,
        }),
        Err(e) => json!({
            "parsingSucceeded": true,
            "evaluationSucceeded": false,
            "evaluationResult": null,
            "parsedExpression": parsed,
            "error": {"code": "ExpressionEvaluationFailed", "message": e.render(src)},
        }),
    }
}

/// Graph `attributeMappingSource`: `{expression, name, type: Function|Attribute|Constant,
/// parameters: [{key, value: attributeMappingSource}]}`. Omitted arguments are left out; a
/// comparison (which Graph has no shape for) is a Function named by its operator with keys
/// `left`/`right`; `vbTextCompare` and numbers are Constants.
pub fn attribute_mapping_source(expr: &Expr) -> Json {
    let (name, kind, parameters): (String, &str, Vec<Json>) = match &expr.kind {
        ExprKind::Attribute(name) => (name.clone(), "Attribute", Vec::new()),
        ExprKind::Str(Value::Str(s)) => (s.clone(), "Constant", Vec::new()),
        ExprKind::Str(_) => (String::new(), "Constant", Vec::new()),
        ExprKind::Int { value, .. } => (value.to_string(), "Constant", Vec::new()),
        ExprKind::CompareType(c) => (c.name().to_owned(), "Constant", Vec::new()),
        ExprKind::Comparison { op, lhs, rhs } => (
            op.symbol().to_owned(),
            "Function",
            vec![
                json!({"key": "left", "value": attribute_mapping_source(lhs)}),
                json!({"key": "right", "value": attribute_mapping_source(rhs)}),
            ],
        ),
        ExprKind::Call(call) => (
            call.function.name().to_owned(),
            "Function",
            call.args
                .iter()
                .enumerate()
                .filter_map(|(i, a)| {
                    a.as_ref().map(|a| json!({"key": call.function.param_key(i), "value": attribute_mapping_source(a)}))
                })
                .collect(),
        ),
    };
    json!({"expression": expr.to_string(), "name": name, "type": kind, "parameters": parameters})
}
