//! The only module that reads the wall clock or sleeps. Everything else takes time as an argument
//! or asks a [`Clock`], so tests and the virtual-time scheduler (`run --virtual-time`) can replace
//! it with [`FakeClock`], where waiting a day takes no time at all.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Blocks the calling thread briefly (a bounded retry on a local resource, such as a state
/// directory another process is releasing). Not for schedules: those use [`Clock::sleep_until`].
#[allow(clippy::disallowed_methods)] // the sanctioned blocking pause
pub fn pause(duration: std::time::Duration) {
    std::thread::sleep(duration);
}

/// The monotonic clock, for deadlines that run in real time whatever the job's clock is (an
/// OAuth access token expires by the token endpoint's clock, also in `run --virtual-time`).
#[allow(clippy::disallowed_methods)] // the sanctioned read of the monotonic clock
pub fn monotonic() -> std::time::Instant {
    std::time::Instant::now()
}

/// A future returned by [`Clock::sleep_until`].
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A source of "now" that can also wait.
pub trait Clock: Send + Sync {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;

    /// Waits until `deadline` (returns at once if it has passed).
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // this is the one sanctioned read of the wall clock
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    #[allow(clippy::disallowed_methods)] // this is the one sanctioned sleep
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_> {
        let wait = (deadline - self.now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<DateTime<Utc>>,
}

impl FakeClock {
    /// A fake clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Jumps to `deadline` at once: simulated time.
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_> {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if deadline > *now {
            *now = deadline;
        }
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_when_advanced() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = FakeClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::days(28));
        assert_eq!(clock.now(), start + Duration::days(28));
    }

    #[tokio::test]
    async fn sleeping_on_a_fake_clock_takes_no_time() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = FakeClock::new(start);
        clock.sleep_until(start + Duration::days(30)).await;
        assert_eq!(clock.now(), start + Duration::days(30));
        clock.sleep_until(start).await;
        assert_eq!(clock.now(), start + Duration::days(30), "never goes back");
    }
}
