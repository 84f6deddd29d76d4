//! Escrow (§9): an object-level failure is parked and retried in later cycles. Transient errors
//! (`InternalServerError`, `Timeout`, `WebExceptionProtocolError`, `InternalError`) are retried
//! next cycle ("retried in 40 minutes"), and so is `TooManyRequests` once the 429 policy gives up
//! within the cycle (pitfall 14's "retry next cycle"). Others follow a ladder from the first
//! failure. The ladder is UNCONFIRMED for object escrows, so it is a setting whose default is the
//! quarantine doc's: +6 h, +12 h, +24 h after the first failure, then every 24 h, until 28 days
//! after the first failure, when the entry is dropped ("expired"). A success clears the entry.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::add;
use super::ladder::RetryLadder;

/// What was being done to the object when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EscrowOperation {
    /// A `POST` (or the match before it).
    Create,
    /// A `PATCH` of attributes.
    Update,
    /// The `active=false` PATCH.
    Disable,
    /// A `DELETE`.
    Delete,
    /// A manager or group-member PATCH.
    Reference,
}

/// One escrowed object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EscrowEntry {
    /// The object's key, `user:<objectId>` or `group:<objectId>`.
    pub object: String,
    /// The operation that failed last.
    pub operation: EscrowOperation,
    /// The log error code of the last failure.
    pub error_code: String,
    /// The reason text of the last failure, without the retry suffix.
    pub reason: String,
    /// Failed attempts so far, the first included.
    pub attempts: u32,
    /// When the object first failed (the ladder and the expiry count from here).
    pub first_failure: DateTime<Utc>,
    /// When it failed last.
    pub last_failure: DateTime<Utc>,
    /// Not retried before this instant.
    pub next_retry: DateTime<Utc>,
    /// A reference failure (manager, group member): excluded from two of the quarantine
    /// thresholds (§8).
    pub reference: bool,
}

/// A failure to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscrowFailure {
    /// The object's key, `user:<objectId>` or `group:<objectId>`.
    pub object: String,
    /// The operation that failed.
    pub operation: EscrowOperation,
    /// The log error code.
    pub error_code: String,
    /// The reason text, without the retry suffix.
    pub reason: String,
    /// A reference failure (manager, group member).
    pub reference: bool,
}

/// When escrowed objects are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscrowLadder {
    /// Error codes retried next cycle instead of on the ladder.
    pub transient_codes: Vec<String>,
    /// How long after a transient failure it is retried (default 40 min, the cycle interval, as
    /// the log text "retried in 40 minutes" says; a cycle scheduled from the end of the failing
    /// one always finds it due).
    pub transient_delay: Duration,
    /// The ladder for other errors, measured from the first failure.
    pub ladder: RetryLadder,
    /// How long after the first failure retries stop and the entry is dropped (default 28 days).
    pub max_age: Duration,
}

impl Default for EscrowLadder {
    fn default() -> Self {
        Self {
            transient_codes: [
                "InternalServerError",
                "Timeout",
                "WebExceptionProtocolError",
                "InternalError",
                "TooManyRequests",
            ]
            .map(String::from)
            .to_vec(),
            transient_delay: Duration::minutes(40),
            ladder: RetryLadder::documented(),
            max_age: Duration::days(28),
        }
    }
}

impl EscrowLadder {
    /// True when `error_code` is retried next cycle.
    pub fn is_transient(&self, error_code: &str) -> bool {
        self.transient_codes.iter().any(|c| c == error_code)
    }
}

/// What recording a failure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscrowRecord {
    /// The entry, new or updated, to keep.
    Escrowed(EscrowEntry),
    /// The retry window is over: drop the entry (this is its final state).
    Expired(EscrowEntry),
}

impl EscrowRecord {
    /// The entry either way.
    pub fn entry(&self) -> &EscrowEntry {
        match self {
            Self::Escrowed(e) | Self::Expired(e) => e,
        }
    }
}

/// Records a failure of `failure.object` at `now`; `previous` is its current entry, if any.
pub fn record_failure(
    previous: Option<&EscrowEntry>,
    failure: EscrowFailure,
    ladder: &EscrowLadder,
    now: DateTime<Utc>,
) -> EscrowRecord {
    let (first_failure, attempts) = match previous {
        Some(p) => (p.first_failure, p.attempts.saturating_add(1)),
        None => (now, 1),
    };
    let next_retry = if ladder.is_transient(&failure.error_code) {
        add(now, ladder.transient_delay)
    } else {
        ladder.ladder.next_after(first_failure, now)
    };
    let entry = EscrowEntry {
        object: failure.object,
        operation: failure.operation,
        error_code: failure.error_code,
        reason: failure.reason,
        attempts,
        first_failure,
        last_failure: now,
        next_retry,
        reference: failure.reference,
    };
    if next_retry > add(first_failure, ladder.max_age) {
        EscrowRecord::Expired(entry)
    } else {
        EscrowRecord::Escrowed(entry)
    }
}

impl EscrowEntry {
    /// True when the object should be tried again in a cycle running at `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        now >= self.next_retry
    }

    /// True when the retry window has closed without the object being retried.
    pub fn is_expired(&self, ladder: &EscrowLadder, now: DateTime<Utc>) -> bool {
        now > add(self.first_failure, ladder.max_age)
    }

    /// How many times the operation was retried (attempts after the first).
    pub fn retried(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }

    /// Entra's log suffix: `This operation was retried N times. It will be retried again after
    /// this date: 2023-03-02T07:43:56.6507375Z UTC`.
    pub fn reason_suffix(&self) -> String {
        format!(
            "This operation was retried {} times. It will be retried again after this date: {} UTC",
            self.retried(),
            entra_retry_timestamp(self.next_retry)
        )
    }

    /// The reason text followed by the retry suffix, as a failure's log entry shows it.
    pub fn reason_with_suffix(&self) -> String {
        let reason = self.reason.trim_end();
        if reason.is_empty() {
            self.reason_suffix()
        } else if reason.ends_with('.') {
            format!("{reason} {}", self.reason_suffix())
        } else {
            format!("{reason}. {}", self.reason_suffix())
        }
    }
}

/// A timestamp as .NET's round-trip format prints it: seven fractional digits and `Z`
/// (`2023-03-02T07:43:56.6507375Z`).
pub fn entra_retry_timestamp(t: DateTime<Utc>) -> String {
    let ticks = (t.timestamp_subsec_nanos() / 100).min(9_999_999);
    format!("{}.{ticks:07}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// The job's escrow book: one entry per object, keyed by object key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Escrows(BTreeMap<String, EscrowEntry>);

impl FromIterator<EscrowEntry> for Escrows {
    fn from_iter<I: IntoIterator<Item = EscrowEntry>>(entries: I) -> Self {
        Self(entries.into_iter().map(|e| (e.object.clone(), e)).collect())
    }
}

impl Escrows {
    /// No escrows.
    pub fn new() -> Self {
        Self::default()
    }

    /// The object's entry, if escrowed.
    pub fn get(&self, object: &str) -> Option<&EscrowEntry> {
        self.0.get(object)
    }

    /// Records a failure; an expired entry is removed. Returns what happened.
    pub fn record_failure(
        &mut self,
        failure: EscrowFailure,
        ladder: &EscrowLadder,
        now: DateTime<Utc>,
    ) -> EscrowRecord {
        let record = record_failure(self.0.get(&failure.object), failure, ladder, now);
        match &record {
            EscrowRecord::Escrowed(e) => {
                self.0.insert(e.object.clone(), e.clone());
            }
            EscrowRecord::Expired(e) => {
                self.0.remove(&e.object);
            }
        }
        record
    }

    /// A success clears the object's entry; returns it if there was one.
    pub fn record_success(&mut self, object: &str) -> Option<EscrowEntry> {
        self.0.remove(object)
    }

    /// True when `object` has no entry or its entry is due at `now`.
    pub fn may_process(&self, object: &str, now: DateTime<Utc>) -> bool {
        self.0.get(object).is_none_or(|e| e.is_due(now))
    }

    /// Entries due at `now`.
    pub fn due(&self, now: DateTime<Utc>) -> impl Iterator<Item = &EscrowEntry> {
        self.0.values().filter(move |e| e.is_due(now))
    }

    /// Drops entries whose retry window closed before `now`; returns them.
    pub fn prune_expired(&mut self, ladder: &EscrowLadder, now: DateTime<Utc>) -> Vec<EscrowEntry> {
        let expired: Vec<String> = self
            .0
            .values()
            .filter(|e| e.is_expired(ladder, now))
            .map(|e| e.object.clone())
            .collect();
        expired
            .iter()
            .filter_map(|object| self.0.remove(object))
            .collect()
    }

    /// `(non-reference, reference)` entry counts, as the quarantine thresholds read them.
    pub fn threshold_counts(&self) -> (u64, u64) {
        let reference = self.0.values().filter(|e| e.reference).count() as u64;
        (self.0.len() as u64 - reference, reference)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when nothing is escrowed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All entries, by object key.
    pub fn iter(&self) -> impl Iterator<Item = &EscrowEntry> {
        self.0.values()
    }

    /// Forgets every entry (restart with `Escrows`, or pruning at the end of an initial cycle).
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn failure(code: &str) -> EscrowFailure {
        EscrowFailure {
            object: "user:u1".into(),
            operation: EscrowOperation::Create,
            error_code: code.into(),
            reason: "StatusCode: Conflict Message: x Web Response: {}".into(),
            reference: false,
        }
    }

    #[test]
    fn non_transient_failures_follow_the_ladder_then_expire_at_28_days() {
        let ladder = EscrowLadder::default();
        let start = t("2026-03-01T10:00:00Z");
        let mut book = Escrows::new();
        let mut now = start;
        let mut retry_times = Vec::new();
        loop {
            match book.record_failure(
                failure("SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"),
                &ladder,
                now,
            ) {
                EscrowRecord::Escrowed(e) => {
                    assert!(!e.is_due(now));
                    assert!(!book.may_process("user:u1", now));
                    retry_times.push(e.next_retry - start);
                    now = e.next_retry;
                    assert!(book.may_process("user:u1", now));
                }
                EscrowRecord::Expired(e) => {
                    assert_eq!(now - start, Duration::days(28));
                    assert_eq!(e.attempts, 31);
                    break;
                }
            }
        }
        assert!(book.is_empty());
        let hours: Vec<i64> = retry_times.iter().map(|d| d.num_hours()).collect();
        assert_eq!(&hours[..5], &[6, 12, 24, 48, 72]);
        assert_eq!(hours.last(), Some(&(28 * 24)));
        assert_eq!(hours.len(), 30);
    }

    #[test]
    fn transient_failures_are_retried_next_cycle() {
        let ladder = EscrowLadder::default();
        let now = t("2026-03-01T10:00:00Z");
        for code in [
            "InternalServerError",
            "Timeout",
            "WebExceptionProtocolError",
            "InternalError",
            "TooManyRequests",
        ] {
            let e = record_failure(None, failure(code), &ladder, now);
            assert_eq!(e.entry().next_retry, now + Duration::minutes(40), "{code}");
        }
        let first = record_failure(None, failure("Timeout"), &ladder, now);
        let later = now + Duration::days(3);
        let second = record_failure(
            Some(first.entry()),
            failure("SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"),
            &ladder,
            later,
        );
        assert_eq!(second.entry().attempts, 2);
        assert_eq!(second.entry().first_failure, now);
        assert_eq!(second.entry().next_retry, now + Duration::days(4));
        assert_eq!(
            second.entry().error_code,
            "SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"
        );
    }

    #[test]
    fn reason_suffix_in_entras_format() {
        let ladder = EscrowLadder::default();
        let now = t("2023-03-02T01:43:56.6507375Z");
        let e = record_failure(
            None,
            failure("SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"),
            &ladder,
            now,
        );
        assert_eq!(
            e.entry().reason_suffix(),
            "This operation was retried 0 times. It will be retried again after this date: 2023-03-02T07:43:56.6507375Z UTC"
        );
        assert_eq!(
            e.entry().reason_with_suffix(),
            "StatusCode: Conflict Message: x Web Response: {}. This operation was retried 0 times. It will be retried again after this date: 2023-03-02T07:43:56.6507375Z UTC"
        );
        let again = record_failure(
            Some(e.entry()),
            failure("SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"),
            &ladder,
            e.entry().next_retry,
        );
        assert!(again.entry().reason_suffix().starts_with(
            "This operation was retried 1 times. It will be retried again after this date: 2023-03-02T13:43:56.6507375Z"
        ));
        assert_eq!(
            entra_retry_timestamp(t("2026-01-01T00:00:00Z")),
            "2026-01-01T00:00:00.0000000Z"
        );
    }

    #[test]
    fn success_clears_and_counts_split_references() {
        let ladder = EscrowLadder::default();
        let now = t("2026-03-01T10:00:00Z");
        let mut book = Escrows::new();
        book.record_failure(
            failure("SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"),
            &ladder,
            now,
        );
        let mut r = failure("SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering");
        r.object = "group:g1".into();
        r.operation = EscrowOperation::Reference;
        r.reference = true;
        book.record_failure(r, &ladder, now);
        assert_eq!(book.threshold_counts(), (1, 1));
        assert!(book.record_success("user:u1").is_some());
        assert!(book.record_success("user:u1").is_none());
        assert_eq!(book.threshold_counts(), (0, 1));
        assert!(book.may_process("user:u1", now));
    }

    #[test]
    fn entries_not_retried_expire_by_pruning() {
        let ladder = EscrowLadder::default();
        let now = t("2026-03-01T10:00:00Z");
        let mut book = Escrows::new();
        book.record_failure(
            failure("SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering"),
            &ladder,
            now,
        );
        assert!(
            book.prune_expired(&ladder, now + Duration::days(28))
                .is_empty()
        );
        let pruned = book.prune_expired(&ladder, now + Duration::days(28) + Duration::seconds(1));
        assert_eq!(pruned.len(), 1);
        assert!(book.is_empty());
    }

    #[test]
    fn round_trips_as_json() {
        let ladder = EscrowLadder::default();
        let mut book = Escrows::new();
        book.record_failure(failure("Timeout"), &ladder, t("2026-03-01T10:00:00Z"));
        let json = serde_json::to_string(&book).unwrap();
        assert!(json.contains("\"operation\":\"create\""), "{json}");
        let back: Escrows = serde_json::from_str(&json).unwrap();
        assert_eq!(back, book);
    }
}
