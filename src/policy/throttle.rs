//! What a `429 Too Many Requests` does (§3, pitfall 14). Entra logs `TooManyRequests` and says it is
//! "automatically retried"; whether it honours `Retry-After` is UNCONFIRMED, so both documented
//! behaviours are offered: pause for `Retry-After` and retry within the cycle (a Q&A answer), or
//! escrow the object for the next cycle (older UserVoice).

use chrono::{DateTime, Duration, Utc};

use crate::scim::RetryAfter;

/// The 429 setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfterPolicy {
    /// Wait for `Retry-After` and retry within the cycle (default true); false escrows at once.
    pub honour_within_cycle: bool,
    /// A longer `Retry-After` is not waited for: the object is escrowed (default 120 s).
    pub max_wait_secs: u64,
    /// In-cycle retries of one request before it is escrowed (default 3), so a server that
    /// always answers 429 cannot hold a cycle forever.
    pub max_retries: u32,
}

impl Default for RetryAfterPolicy {
    fn default() -> Self {
        Self {
            honour_within_cycle: true,
            max_wait_secs: 120,
            max_retries: 3,
        }
    }
}

/// What to do with a request that got a 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    /// Wait this long (zero for a date already passed), then send the same request again.
    WaitThenRetry(Duration),
    /// Give up for this cycle: the entry fails with `TooManyRequests` and is escrowed.
    Escrow,
}

/// Decides what a 429 does. `retry_after` is the parsed header (`None` when absent or
/// unreadable: nothing says how long to wait, so the object is escrowed); `retries_so_far` counts
/// the in-cycle retries of this request already made.
pub fn on_too_many_requests(
    policy: &RetryAfterPolicy,
    retry_after: Option<&RetryAfter>,
    retries_so_far: u32,
    now: DateTime<Utc>,
) -> ThrottleDecision {
    if !policy.honour_within_cycle || retries_so_far >= policy.max_retries {
        return ThrottleDecision::Escrow;
    }
    let wait = match retry_after {
        None => return ThrottleDecision::Escrow,
        Some(RetryAfter::Seconds(s)) => {
            if *s > policy.max_wait_secs {
                return ThrottleDecision::Escrow;
            }
            secs(*s)
        }
        Some(RetryAfter::At(at)) => (*at - now).max(Duration::zero()),
    };
    let max = secs(policy.max_wait_secs);
    if wait > max {
        ThrottleDecision::Escrow
    } else {
        ThrottleDecision::WaitThenRetry(wait)
    }
}

/// `s` seconds, saturating at the longest representable duration.
fn secs(s: u64) -> Duration {
    i64::try_from(s)
        .ok()
        .and_then(Duration::try_seconds)
        .unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn honours_retry_after_within_limits() {
        let p = RetryAfterPolicy::default();
        let now = t("2026-01-01T00:00:00Z");
        assert_eq!(
            on_too_many_requests(&p, Some(&RetryAfter::Seconds(7)), 0, now),
            ThrottleDecision::WaitThenRetry(Duration::seconds(7))
        );
        assert_eq!(
            on_too_many_requests(&p, Some(&RetryAfter::Seconds(120)), 0, now),
            ThrottleDecision::WaitThenRetry(Duration::seconds(120))
        );
        assert_eq!(
            on_too_many_requests(&p, Some(&RetryAfter::Seconds(121)), 0, now),
            ThrottleDecision::Escrow
        );
        assert_eq!(
            on_too_many_requests(&p, Some(&RetryAfter::Seconds(u64::MAX)), 0, now),
            ThrottleDecision::Escrow
        );
    }

    #[test]
    fn dates_are_measured_from_now() {
        let p = RetryAfterPolicy::default();
        let now = t("2026-01-01T00:00:00Z");
        let at = RetryAfter::At(now + Duration::seconds(30));
        assert_eq!(
            on_too_many_requests(&p, Some(&at), 0, now),
            ThrottleDecision::WaitThenRetry(Duration::seconds(30))
        );
        let past = RetryAfter::At(now - Duration::seconds(30));
        assert_eq!(
            on_too_many_requests(&p, Some(&past), 0, now),
            ThrottleDecision::WaitThenRetry(Duration::zero())
        );
        let far = RetryAfter::At(now + Duration::hours(1));
        assert_eq!(
            on_too_many_requests(&p, Some(&far), 0, now),
            ThrottleDecision::Escrow
        );
    }

    #[test]
    fn escrows_when_not_honouring_without_header_or_after_max_retries() {
        let now = t("2026-01-01T00:00:00Z");
        let off = RetryAfterPolicy {
            honour_within_cycle: false,
            ..RetryAfterPolicy::default()
        };
        let five = RetryAfter::Seconds(5);
        assert_eq!(
            on_too_many_requests(&off, Some(&five), 0, now),
            ThrottleDecision::Escrow
        );
        let p = RetryAfterPolicy::default();
        assert_eq!(
            on_too_many_requests(&p, None, 0, now),
            ThrottleDecision::Escrow
        );
        assert_eq!(
            on_too_many_requests(&p, Some(&five), 2, now),
            ThrottleDecision::WaitThenRetry(Duration::seconds(5))
        );
        assert_eq!(
            on_too_many_requests(&p, Some(&five), 3, now),
            ThrottleDecision::Escrow
        );
    }
}
