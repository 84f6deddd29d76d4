//! Dates: reading the date strings Entra's functions accept, the `M/d/yyyy h:mm:ss tt` rendering,
//! DateAdd/DateDiff with VB `DateAndTime` semantics, AD FILETIME numbers, and FormatDateTime's .NET
//! custom format strings (in `dotnet_format`). Everything is UTC: Entra's servers run in UTC, so
//! .NET's "local time" is UTC too.

use chrono::{
    DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc,
};

pub(crate) use super::dotnet_format::format_date_time;

/// Seconds from 1601-01-01 (FILETIME epoch) to 1970-01-01.
const FILETIME_EPOCH_OFFSET: i64 = 11_644_473_600;

/// `M/d/yyyy h:mm:ss tt`, e.g. `3/16/2020 7:00:00 AM`.
pub(crate) fn render(d: DateTime<Utc>) -> String {
    let (pm, hour12) = d.hour12();
    format!(
        "{}/{}/{} {}:{:02}:{:02} {}",
        d.month(),
        d.day(),
        d.year(),
        hour12,
        d.minute(),
        d.second(),
        if pm { "PM" } else { "AM" }
    )
}

/// Reads a date/time string: ISO 8601 (`2009-06-15T01:45:30-07:00`, `2020-03-16-07:00`,
/// `2021-08-24`, `2020-12-31 23:59:59-08:00`) or US (`8/25/2021 5:41:18 PM`). No offset means UTC.
pub(crate) fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let mut c = Cursor { s, pos: 0 };
    let date = if s.chars().find(|ch| !ch.is_ascii_digit()) == Some('/') {
        let month = c.number(1, 2)?;
        c.require('/')?;
        let day = c.number(1, 2)?;
        c.require('/')?;
        let year = c.number(4, 4)?;
        NaiveDate::from_ymd_opt(
            i32::try_from(year).ok()?,
            u32::try_from(month).ok()?,
            u32::try_from(day).ok()?,
        )?
    } else {
        let year = c.number(4, 4)?;
        c.require('-')?;
        let month = c.number(1, 2)?;
        c.require('-')?;
        let day = c.number(1, 2)?;
        NaiveDate::from_ymd_opt(
            i32::try_from(year).ok()?,
            u32::try_from(month).ok()?,
            u32::try_from(day).ok()?,
        )?
    };
    let mut offset_secs = c.offset();
    let mut time = (0, 0, 0, 0);
    if offset_secs.is_none() && (c.eat('T') || c.eat(' ')) {
        c.skip_spaces();
        let hour = c.number(1, 2)?;
        c.require(':')?;
        let minute = c.number(2, 2)?;
        let second = if c.eat(':') { c.number(2, 2)? } else { 0 };
        let nanos = if c.eat('.') { c.fraction()? } else { 0 };
        c.skip_spaces();
        let hour = match c.am_pm() {
            Some(pm) if (1..=12).contains(&hour) => hour % 12 + if pm { 12 } else { 0 },
            Some(_) => return None,
            None => hour,
        };
        time = (hour, minute, second, nanos);
        c.skip_spaces();
        offset_secs = c.offset();
    }
    if !c.rest().is_empty() {
        return None;
    }
    let (h, mi, sec, nanos) = time;
    let naive = date.and_hms_nano_opt(
        u32::try_from(h).ok()?,
        u32::try_from(mi).ok()?,
        u32::try_from(sec).ok()?,
        nanos,
    )?;
    let utc = naive.checked_sub_signed(Duration::seconds(offset_secs.unwrap_or(0)))?;
    Some(Utc.from_utc_datetime(&utc))
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        self.s.get(self.pos..).unwrap_or_default()
    }

    fn eat(&mut self, ch: char) -> bool {
        if self.rest().starts_with(ch) {
            self.pos += ch.len_utf8();
            true
        } else {
            false
        }
    }

    fn require(&mut self, ch: char) -> Option<()> {
        self.eat(ch).then_some(())
    }

    fn skip_spaces(&mut self) {
        while self.eat(' ') {}
    }

    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        let digits = self
            .rest()
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if digits < min {
            return None;
        }
        let n = self.rest().get(..digits)?.parse().ok()?;
        self.pos += digits;
        Some(n)
    }

    fn fraction(&mut self) -> Option<u32> {
        let digits: String = self
            .rest()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if digits.is_empty() {
            return None;
        }
        self.pos += digits.len();
        let padded: String = digits
            .chars()
            .chain(std::iter::repeat('0'))
            .take(9)
            .collect();
        padded.parse().ok()
    }

    fn am_pm(&mut self) -> Option<bool> {
        let r = self.rest();
        let pm = match r.get(..2) {
            Some(t) if t.eq_ignore_ascii_case("AM") => false,
            Some(t) if t.eq_ignore_ascii_case("PM") => true,
            _ => return None,
        };
        self.pos += 2;
        Some(pm)
    }

    /// `Z`, `±hh:mm`, `±hhmm` or `±hh`, in seconds east of UTC.
    fn offset(&mut self) -> Option<i64> {
        if self.eat('Z') || self.eat('z') {
            return Some(0);
        }
        let sign = match self.rest().chars().next() {
            Some('+') => 1,
            Some('-') => -1,
            _ => return None,
        };
        let save = self.pos;
        self.pos += 1;
        let parsed = (|| {
            let hours = self.number(2, 2)?;
            let minutes = if self.eat(':') {
                self.number(2, 2)?
            } else {
                self.number(2, 2).unwrap_or(0)
            };
            (hours <= 14 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
        })();
        if parsed.is_none() {
            self.pos = save;
        }
        parsed
    }
}

const INTERVALS: &str = "yyyy (year), q (quarter), m (month), y or d (day), w or ww (week), h (hour), n (minute), s (second)";

/// `DateAdd`: months and years clamp the day to the target month's length, like .NET `AddMonths`.
pub(crate) fn add(interval: &str, n: i64, d: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let months = |m: i64| -> Option<DateTime<Utc>> {
        let abs = Months::new(u32::try_from(m.unsigned_abs()).ok()?);
        if m >= 0 {
            d.checked_add_months(abs)
        } else {
            d.checked_sub_months(abs)
        }
    };
    let span = |secs_per_unit: i64| {
        n.checked_mul(secs_per_unit)
            .and_then(Duration::try_seconds)
            .and_then(|x| d.checked_add_signed(x))
    };
    let result = match interval {
        "yyyy" => n.checked_mul(12).and_then(months),
        "q" => n.checked_mul(3).and_then(months),
        "m" => months(n),
        "d" | "y" => span(86_400),
        "ww" | "w" => span(7 * 86_400),
        "h" => span(3_600),
        "n" => span(60),
        "s" => span(1),
        other => return Err(format!("unknown interval \"{other}\"; use {INTERVALS}")),
    };
    result.ok_or_else(|| format!("adding {n} \"{interval}\" leaves the supported date range"))
}

/// `DateDiff`: date2 − date1 with VB `DateAndTime.DateDiff` semantics — elapsed units truncated
/// toward zero for d/h/n/s/w, Sunday-start week boundaries for ww, calendar-number differences for
/// m/q/yyyy.
pub(crate) fn diff(interval: &str, d1: DateTime<Utc>, d2: DateTime<Utc>) -> Result<i64, String> {
    let elapsed = d2.signed_duration_since(d1);
    let quarter = |d: DateTime<Utc>| i64::from(d.year()) * 4 + i64::from(d.month0() / 3);
    Ok(match interval {
        "d" | "y" => elapsed.num_days(),
        "w" => elapsed.num_days() / 7,
        "ww" => {
            let to_sunday = |d: DateTime<Utc>| {
                d - Duration::days(i64::from(d.weekday().num_days_from_sunday()))
            };
            to_sunday(d2)
                .signed_duration_since(to_sunday(d1))
                .num_days()
                / 7
        }
        "h" => elapsed.num_hours(),
        "n" => elapsed.num_minutes(),
        "s" => elapsed.num_seconds(),
        "m" => {
            (i64::from(d2.year()) - i64::from(d1.year())) * 12 + i64::from(d2.month())
                - i64::from(d1.month())
        }
        "q" => quarter(d2) - quarter(d1),
        "yyyy" => i64::from(d2.year()) - i64::from(d1.year()),
        other => return Err(format!("unknown interval \"{other}\"; use {INTERVALS}")),
    })
}

/// AD FILETIME (100-ns ticks since 1601-01-01 UTC) → date.
pub(crate) fn from_filetime(ticks: i64) -> Option<DateTime<Utc>> {
    let secs = ticks.div_euclid(10_000_000) - FILETIME_EPOCH_OFFSET;
    let nanos = u32::try_from(ticks.rem_euclid(10_000_000) * 100).ok()?;
    DateTime::from_timestamp(secs, nanos)
}

/// Date → AD FILETIME ticks.
pub(crate) fn to_filetime(d: DateTime<Utc>) -> i64 {
    let ticks = (i128::from(d.timestamp()) + i128::from(FILETIME_EPOCH_OFFSET)) * 10_000_000
        + i128::from(d.timestamp_subsec_nanos() / 100);
    i64::try_from(ticks).unwrap_or(if ticks < 0 { i64::MIN } else { i64::MAX })
}

/// A naive wall-clock value as UTC.
pub(crate) fn utc(naive: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&naive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_accepted_shapes() {
        for (input, expected) in [
            ("2021-08-24T10:00Z", "8/24/2021 10:00:00 AM"),
            ("2021-08-24T10:00:00.5+02:00", "8/24/2021 8:00:00 AM"),
            ("8/25/2021 5:41:18 PM", "8/25/2021 5:41:18 PM"),
            ("12/1/2021 12:00:00 AM", "12/1/2021 12:00:00 AM"),
            ("2020-12-31 23:59:59 -08:00", "1/1/2021 7:59:59 AM"),
            ("2020-03-16-0700", "3/16/2020 7:00:00 AM"),
            (" 2021-08-24 ", "8/24/2021 12:00:00 AM"),
        ] {
            assert_eq!(
                parse(input).map(render).as_deref(),
                Some(expected),
                "{input}"
            );
        }
        for bad in [
            "",
            "2021-13-01",
            "8/25/21",
            "2021-08-24T25:00",
            "13:00 PM",
            "2021-08-24 1:00 XM",
            "2021-08-24+99:00",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn filetime_round_trips() {
        let d = from_filetime(129_699_324_000_000_000);
        assert_eq!(d.map(render).as_deref(), Some("1/1/2012 11:00:00 PM"));
        assert_eq!(d.map(to_filetime), Some(129_699_324_000_000_000));
    }
}
