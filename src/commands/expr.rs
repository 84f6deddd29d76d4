//! `entra-sim expr`: evaluates one mapping expression against attributes given on the command line
//! or a user of a directory file — the offline twin of Graph's `parseExpression`.

use std::collections::BTreeMap;

use rand::SeedableRng;

use crate::cli::ExprArgs;
use crate::clock::{Clock, SystemClock};
use crate::directory::Directory;
use crate::error::{AppError, argument};
use crate::expr::{self, EvalContext, Value};
use crate::output::outln;
use crate::scope;

fn attributes(args: &ExprArgs) -> Result<BTreeMap<String, Value>, AppError> {
    let mut attrs: BTreeMap<String, Value> = BTreeMap::new();
    if let (Some(who), Some(path)) = (&args.user, &args.directory) {
        let text = std::fs::read_to_string(path).map_err(|source| AppError::ReadInput {
            path: path.clone(),
            source,
        })?;
        let directory = Directory::parse(&path.display().to_string(), &text)
            .map_err(crate::config::ConfigError::Invalid)?;
        let user = directory
            .user(who)
            .or_else(|| directory.user_by_upn(who))
            .ok_or_else(|| {
                let directory = path.clone();
                let who = who.clone();
                argument("--user")(Box::new(AppError::NoSuchUser { who, directory }))
            })?;
        attrs = scope::user_source_attributes(user, &[], scope::is_soft_deleted(user, true));
    }
    let mut given: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in &args.attrs {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| AppError::AttrNotNameValue(pair.clone()))?;
        given
            .entry(name.to_string())
            .or_default()
            .push(value.to_string());
    }
    for (name, mut values) in given {
        let value = match values.len() {
            1 => Value::Str(values.remove(0)),
            _ => Value::Multi(values),
        };
        attrs.insert(name, value);
    }
    Ok(attrs)
}

/// `error` drawn under the expression `text`.
fn expression(error: expr::ExprError, text: &str) -> AppError {
    AppError::Expression {
        drawn: error.render(text),
        source: error,
    }
}

pub fn run(args: ExprArgs) -> Result<i32, AppError> {
    let attrs = attributes(&args)?;
    let clock = SystemClock;
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut ctx = EvalContext {
        now: clock.now(),
        rng: &mut rng,
    };
    if args.json {
        let report = expr::parse_expression_report(&args.expression, &attrs, &mut ctx);
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
        let ok = report
            .get("evaluationSucceeded")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        return if ok {
            Ok(0)
        } else {
            Err(AppError::ExpressionReported)
        };
    }
    let parsed = expr::parse(&args.expression).map_err(|e| expression(e, &args.expression))?;
    if args.tree {
        outln!("{}", parsed.tree())?;
    }
    let outcome = parsed
        .evaluate(&attrs, &mut ctx)
        .map_err(|e| expression(e, &args.expression))?;
    if outcome.ignore_flow {
        eprintln!("(IgnoreFlowIfNullOrEmpty: the attribute would not flow)");
    }
    if outcome.redacted {
        eprintln!("(Redact: provisioning logs would show [Redact])");
    }
    match outcome.value {
        Value::Null => eprintln!("(null: the attribute would not be sent)"),
        Value::Str(s) => outln!("{s}")?,
        Value::Multi(items) => items.iter().try_for_each(|i| outln!("{i}"))?,
        Value::Roles(roles) => roles
            .iter()
            .try_for_each(|r| outln!("{} ({}, {})", r.value, r.display_name, r.id))?,
    }
    Ok(0)
}
