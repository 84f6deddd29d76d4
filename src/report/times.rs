//! Times and durations as the report shows them to people (issue 18, item 16): a time to the
//! second with its zone, `2026-12-06 02:25:22 UTC`, and a duration in words, `40 min`, where the
//! status JSON the page is built from has Graph's `2026-12-06T02:25:22.5829546Z` and `PT40M`.
//! The `conformance --html` page shows its times the same way.

use chrono::{DateTime, Duration, Utc};

/// Graph's `DateTime.MinValue`: a time that never happened.
const NEVER: &str = "0001-01-01T00:00:00Z";
/// Intervals from this many days on are .NET's `TimeSpan.MaxValue`: no cycle is scheduled.
const NEVER_DAYS: i64 = 10_675_199;

/// `2026-12-06 02:25:22 UTC`.
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An RFC 3339 time (Graph's, a log record's) as [`time`] shows it; `NEVER` as "never"; other text
/// as it is.
pub fn time_text(text: &str) -> String {
    if text == NEVER {
        return "never".to_string();
    }
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => time(t.with_timezone(&Utc)),
        Err(_) => text.to_string(),
    }
}

/// `40 min`, `1 h 30 min`, `2 d`, `1 min 5 s`; under a second in milliseconds.
pub fn duration(d: Duration) -> String {
    if d < Duration::seconds(1) {
        return format!("{} ms", d.num_milliseconds().max(0));
    }
    let secs = d.num_seconds();
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3_600, "h"),
        (secs % 3_600 / 60, "min"),
        (secs % 60, "s"),
    ];
    let words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    words.join(" ")
}

/// An ISO-8601 duration as Graph writes a `TimeSpan` (`PT40M`, `P1DT2H`, `PT0.5S`) in words
/// ([`duration`]); `TimeSpan.MaxValue` as "none (not scheduled)"; other text as it is.
pub(super) fn duration_text(text: &str) -> String {
    match parse_iso_duration(text) {
        Some(d) if d.num_days() >= NEVER_DAYS => "none (not scheduled)".to_string(),
        Some(d) => duration(d),
        None => text.to_string(),
    }
}

/// `P[nD][T[nH][nM][n[.f]S]]`, the subset `policy::iso_duration` writes.
fn parse_iso_duration(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut total = Duration::zero();
    if !date.is_empty() {
        let days: i64 = date.strip_suffix('D')?.parse().ok()?;
        total = total.checked_add(&Duration::try_days(days)?)?;
    }
    let mut number = String::new();
    for c in time.chars() {
        let part = match c {
            '0'..='9' | '.' => {
                number.push(c);
                continue;
            }
            'H' => Duration::try_hours(number.parse().ok()?)?,
            'M' => Duration::try_minutes(number.parse().ok()?)?,
            'S' => {
                let seconds: f64 = number.parse().ok()?;
                Duration::try_milliseconds((seconds * 1000.0).round() as i64)?
            }
            _ => return None,
        };
        total = total.checked_add(&part)?;
        number.clear();
    }
    (number.is_empty() && (!date.is_empty() || !time.is_empty())).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_to_the_second_in_utc() {
        assert_eq!(
            time_text("2026-12-06T02:25:22.5829546Z"),
            "2026-12-06 02:25:22 UTC"
        );
        assert_eq!(
            time_text("2026-12-06T03:25:22.999+01:00"),
            "2026-12-06 02:25:22 UTC"
        );
        assert_eq!(time_text(NEVER), "never");
        assert_eq!(time_text("t1"), "t1");
    }

    #[test]
    fn durations_are_shown_in_words() {
        for (iso, shown) in [
            ("PT40M", "40 min"),
            ("PT1H30M", "1 h 30 min"),
            ("P1D", "1 d"),
            ("P2DT3H", "2 d 3 h"),
            ("PT90S", "1 min 30 s"),
            ("PT1M5.25S", "1 min 5 s"),
            ("PT0.5S", "500 ms"),
            ("PT0S", "0 ms"),
            ("P10675199DT2H48M5.4775807S", "none (not scheduled)"),
            ("40m", "40m"),
            ("P", "P"),
            ("PT5", "PT5"),
            ("PT99999999999999999H", "PT99999999999999999H"),
        ] {
            assert_eq!(duration_text(iso), shown, "{iso}");
        }
    }
}
