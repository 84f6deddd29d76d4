//! Fault injection: rules that make the target answer like a failing server (a status with
//! `Retry-After`, a dropped connection, a rejected token, added latency) for chosen routes, for
//! the first N matching requests or a seeded fraction of them. Rules come from a compact spec
//! string at start or as JSON through `/_admin/faults`.
//!
//! Spec grammar (rules separated by `;` or newlines, whitespace around tokens ignored):
//! ```text
//! rule    = method SP pattern "=" action *(":" option)
//! method  = "GET" / "POST" / "PUT" / "PATCH" / "DELETE" / "*"        ; case-insensitive
//! pattern = "*" / 1*("/" segment)    ; relative to /scim/v2; segment "*" matches any one segment
//! action  = 3DIGIT                   ; answer this status (100-599) with a SCIM error body
//!         / "drop"                   ; close the connection without an answer
//!         / "unauthorized"           ; answer 401 as if the bearer token were wrong
//!         / "pass"                   ; answer normally (use with latency)
//! option  = "times=" N               ; only the first N matching requests
//!         / "rate=" F                ; each matching request with probability F (0..=1), seeded
//!         / "seed=" N                ; seed for rate (default 0)
//!         / "retry-after=" N         ; add a Retry-After header (seconds)
//!         / "latency=" N             ; wait N milliseconds before acting
//! ```
//! Example: `POST /Users=500:times=1; PATCH /Groups/*=429:retry-after=5:rate=0.5:seed=7`.
//! The first rule that matches and fires decides; a rule that matches but does not fire (its
//! `times` used up, or the draw missed) lets the next rule try.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a firing rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultAction {
    Status(u16),
    Drop,
    Unauthorized,
    Pass,
}

/// One fault rule, as in the spec grammar or the `/_admin/faults` JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// `GET`, `POST`, … or `*`.
    pub method: String,
    /// Path pattern relative to `/scim/v2`, e.g. `/Users/*`, or `*` for any.
    pub path: String,
    pub action: FaultAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default)]
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub latency_ms: u64,
    /// Response body for `Status` (JSON only); a SCIM error when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// A spec-string error: which rule (1-based) and what was wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("fault rule {rule} ('{text}'): {message}")]
pub struct FaultSpecError {
    pub rule: usize,
    pub text: String,
    pub message: String,
}

impl fmt::Display for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}=", self.method, self.path)?;
        match self.action {
            FaultAction::Status(s) => write!(f, "{s}")?,
            FaultAction::Drop => f.write_str("drop")?,
            FaultAction::Unauthorized => f.write_str("unauthorized")?,
            FaultAction::Pass => f.write_str("pass")?,
        }
        if let Some(t) = self.times {
            write!(f, ":times={t}")?;
        }
        if let Some(r) = self.rate {
            write!(f, ":rate={r}")?;
        }
        if self.seed != 0 {
            write!(f, ":seed={}", self.seed)?;
        }
        if let Some(r) = self.retry_after {
            write!(f, ":retry-after={r}")?;
        }
        if self.latency_ms != 0 {
            write!(f, ":latency={}", self.latency_ms)?;
        }
        Ok(())
    }
}

/// Parses a fault spec string (grammar in the target module doc).
pub fn parse_spec(spec: &str) -> Result<Vec<FaultRule>, FaultSpecError> {
    spec.split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, text)| {
            parse_rule(text).map_err(|message| FaultSpecError {
                rule: i + 1,
                text: text.to_string(),
                message,
            })
        })
        .collect()
}

fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("'{name}' needs a number, got '{v}'"))
}

fn parse_rule(text: &str) -> Result<FaultRule, String> {
    let (head, tail) = text
        .split_once('=')
        .ok_or_else(|| "expected 'METHOD /path=action'".to_string())?;
    let (method, path) = head
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(|| "expected a method and a path before '='".to_string())?;
    let method = method.to_ascii_uppercase();
    if !matches!(
        method.as_str(),
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "*"
    ) {
        return Err(format!("unknown method '{method}'"));
    }
    let path = path.trim().to_string();
    if path != "*" && !path.starts_with('/') {
        return Err(format!("path '{path}' must be '*' or start with '/'"));
    }
    let mut parts = tail.split(':');
    let action = match parts.next().map(str::trim).unwrap_or_default() {
        "drop" => FaultAction::Drop,
        "unauthorized" => FaultAction::Unauthorized,
        "pass" => FaultAction::Pass,
        other => match other.parse::<u16>() {
            Ok(s) if (100..=599).contains(&s) => FaultAction::Status(s),
            _ => return Err(format!("unknown action '{other}'")),
        },
    };
    let mut rule = FaultRule {
        method,
        path,
        action,
        times: None,
        rate: None,
        seed: 0,
        retry_after: None,
        latency_ms: 0,
        body: None,
    };
    for opt in parts {
        let (name, v) = opt
            .split_once('=')
            .ok_or_else(|| format!("option '{opt}' needs '=value'"))?;
        match name.trim() {
            "times" => rule.times = Some(number(name, v)?),
            "rate" => {
                let r: f64 = number(name, v)?;
                if !(0.0..=1.0).contains(&r) {
                    return Err(format!("rate {r} is not within 0..=1"));
                }
                rule.rate = Some(r);
            }
            "seed" => rule.seed = number(name, v)?,
            "retry-after" => rule.retry_after = Some(number(name, v)?),
            "latency" => rule.latency_ms = number(name, v)?,
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    Ok(rule)
}

fn path_matches(pattern: &str, path: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let pat: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let got: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    pat.len() == got.len()
        && pat
            .iter()
            .zip(&got)
            .all(|(p, g)| *p == "*" || p.eq_ignore_ascii_case(g))
}

/// SplitMix64: a tiny seeded generator, so a `rate` rule fails the same requests every run.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A rule plus its counters, as `GET /_admin/faults` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FaultState {
    pub rule: FaultRule,
    /// Requests that matched method and path.
    pub matched: u64,
    /// Requests the rule acted on.
    pub fired: u64,
    #[serde(skip)]
    rng: u64,
}

/// The fault that applies to one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub rule: usize,
    pub action: FaultAction,
    pub latency_ms: u64,
    pub retry_after: Option<u64>,
    pub body: Option<Value>,
}

/// The active rules.
#[derive(Debug, Default)]
pub struct FaultSet {
    rules: Vec<FaultState>,
}

impl FaultSet {
    pub fn new(rules: Vec<FaultRule>) -> Self {
        FaultSet {
            rules: rules
                .into_iter()
                .map(|rule| FaultState {
                    rng: rule.seed,
                    rule,
                    matched: 0,
                    fired: 0,
                })
                .collect(),
        }
    }

    pub fn states(&self) -> Vec<FaultState> {
        self.rules.clone()
    }

    /// Decides whether a request (`path` relative to `/scim/v2`) gets a fault, counting it.
    pub fn decide(&mut self, method: &str, path: &str) -> Option<Fired> {
        for (i, st) in self.rules.iter_mut().enumerate() {
            let method_ok = st.rule.method == "*" || st.rule.method.eq_ignore_ascii_case(method);
            if !method_ok || !path_matches(&st.rule.path, path) {
                continue;
            }
            st.matched += 1;
            if st.rule.times.is_some_and(|t| st.fired >= t) {
                continue;
            }
            if let Some(rate) = st.rule.rate {
                // 53 random bits → a uniform draw in [0, 1).
                let draw = (splitmix64(&mut st.rng) >> 11) as f64 / (1u64 << 53) as f64;
                if draw >= rate {
                    continue;
                }
            }
            st.fired += 1;
            return Some(Fired {
                rule: i,
                action: st.rule.action,
                latency_ms: st.rule.latency_ms,
                retry_after: st.rule.retry_after,
                body: st.rule.body.clone(),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_round_trips() {
        let specs = [
            "POST /Users=500:times=1",
            "PATCH /Groups/*=429:rate=0.5:seed=7:retry-after=5",
            "GET *=pass:latency=20",
            "DELETE /Users/*=drop:times=2",
            "* *=unauthorized",
        ];
        for s in specs {
            let rules = parse_spec(s).unwrap();
            assert_eq!(rules.len(), 1);
            assert_eq!(rules[0].to_string(), s);
        }
        assert_eq!(
            parse_spec("post /Users=503; get /Users = 500 \n")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn spec_errors() {
        let cases = [
            ("POST /Users", 1, "expected"),
            ("GET /Users=200; FETCH /Users=500", 2, "unknown method"),
            ("GET Users=500", 1, "must be"),
            ("GET /Users=999", 1, "unknown action"),
            ("GET /Users=500:times=x", 1, "needs a number"),
            ("GET /Users=500:rate=2", 1, "not within"),
            ("GET /Users=500:color=red", 1, "unknown option"),
        ];
        for (spec, rule, msg) in cases {
            let e = parse_spec(spec).unwrap_err();
            assert_eq!(e.rule, rule, "{spec}");
            assert!(e.message.contains(msg), "{spec}: {e}");
        }
    }

    #[test]
    fn times_and_rate() {
        let mut set = FaultSet::new(
            parse_spec("POST /Users=500:times=2; * /Users/*=503:rate=0.5:seed=3").unwrap(),
        );
        let fired: Vec<bool> = (0..4)
            .map(|_| set.decide("POST", "/Users").is_some())
            .collect();
        assert_eq!(fired, [true, true, false, false]);
        assert!(set.decide("GET", "/Users").is_none());
        let draws: Vec<bool> = (0..200)
            .map(|_| set.decide("PATCH", "/users/abc").is_some())
            .collect();
        let hits = draws.iter().filter(|b| **b).count();
        assert!((60..140).contains(&hits), "{hits}");
        let mut again = FaultSet::new(parse_spec("* /Users/*=503:rate=0.5:seed=3").unwrap());
        let replay: Vec<bool> = (0..200)
            .map(|_| again.decide("PATCH", "/users/abc").is_some())
            .collect();
        assert_eq!(draws, replay);
        assert_eq!(set.states()[0].matched, 4);
    }
}
