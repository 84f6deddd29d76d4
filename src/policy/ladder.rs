//! A retry ladder: fixed points measured from an anchor (the first failure, or the start of a
//! quarantine series), then a steady period. The quarantine doc's schedule (§8) is the default:
//! +6 h, +12 h, +24 h after the anchor, then every 24 h.

use chrono::{DateTime, Duration, Utc};

use super::add;

/// Points in time, relative to an anchor, at which something is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryLadder {
    /// Offsets from the anchor, ascending.
    pub steps: Vec<Duration>,
    /// After the last step, another point every this long (at least one second is used).
    pub then_every: Duration,
}

impl Default for RetryLadder {
    fn default() -> Self {
        Self::documented()
    }
}

impl RetryLadder {
    /// The quarantine doc's schedule (§8): +6 h, +12 h, +24 h after the anchor, then every 24 h.
    pub fn documented() -> Self {
        Self {
            steps: vec![Duration::hours(6), Duration::hours(12), Duration::hours(24)],
            then_every: Duration::hours(24),
        }
    }

    /// Gaps that double from `first` until they reach `cap`, then every `cap`. From 40 min with a
    /// 24 h cap the gaps are 40m, 80m, 160m, 320m, 640m, 1280m, then 24 h.
    pub fn doubling(first: Duration, cap: Duration) -> Self {
        let mut steps = Vec::new();
        let mut offset = Duration::zero();
        let mut gap = first;
        while gap > Duration::zero() && gap < cap {
            offset += gap;
            steps.push(offset);
            gap = gap * 2;
        }
        Self {
            steps,
            then_every: cap,
        }
    }

    /// The first point of the ladder anchored at `anchor` that lies strictly after `now`. Points
    /// already passed (a retry that ran late, a scheduler that was down) are skipped, not
    /// caught up on.
    pub fn next_after(&self, anchor: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut last = anchor;
        for step in &self.steps {
            let at = add(anchor, *step);
            if at > now {
                return at;
            }
            last = at;
        }
        let every = self.then_every.max(Duration::seconds(1));
        let elapsed = (now - last).num_milliseconds().max(0);
        let periods = elapsed / every.num_milliseconds() + 1;
        let offset = every
            .num_milliseconds()
            .checked_mul(periods)
            .and_then(Duration::try_milliseconds)
            .unwrap_or(Duration::MAX);
        add(last, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn documented_ladder_points() {
        let ladder = RetryLadder::documented();
        let a = t("2026-01-01T00:00:00Z");
        assert_eq!(ladder.next_after(a, a), a + Duration::hours(6));
        assert_eq!(
            ladder.next_after(a, a + Duration::hours(6)),
            a + Duration::hours(12)
        );
        assert_eq!(
            ladder.next_after(a, a + Duration::hours(12)),
            a + Duration::hours(24)
        );
        assert_eq!(
            ladder.next_after(a, a + Duration::hours(24)),
            a + Duration::hours(48)
        );
        assert_eq!(
            ladder.next_after(a, a + Duration::hours(50)),
            a + Duration::hours(72)
        );
    }

    #[test]
    fn late_retries_skip_passed_points() {
        let ladder = RetryLadder::documented();
        let a = t("2026-01-01T00:00:00Z");
        assert_eq!(
            ladder.next_after(a, a + Duration::hours(13)),
            a + Duration::hours(24)
        );
        assert_eq!(
            ladder.next_after(a, a + Duration::days(10) + Duration::minutes(1)),
            a + Duration::days(11)
        );
    }

    #[test]
    fn doubling_from_forty_minutes_reaches_daily() {
        let ladder = RetryLadder::doubling(Duration::minutes(40), Duration::hours(24));
        let gaps: Vec<i64> = std::iter::once(Duration::zero())
            .chain(ladder.steps.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| (w[1] - w[0]).num_minutes())
            .collect();
        assert_eq!(gaps, [40, 80, 160, 320, 640, 1280]);
        assert_eq!(ladder.then_every, Duration::hours(24));
    }

    #[test]
    fn degenerate_settings_do_not_loop_or_overflow() {
        let a = t("2026-01-01T00:00:00Z");
        let zero = RetryLadder {
            steps: vec![],
            then_every: Duration::zero(),
        };
        assert_eq!(zero.next_after(a, a), a + Duration::seconds(1));
        let empty = RetryLadder::doubling(Duration::zero(), Duration::hours(1));
        assert!(empty.steps.is_empty());
        let huge = RetryLadder {
            steps: vec![],
            then_every: Duration::MAX,
        };
        assert_eq!(huge.next_after(a, a), DateTime::<Utc>::MAX_UTC);
    }
}
