//! FormatDateTime: .NET custom date and time format strings, for exact parsing (`ParseExact`) and for
//! formatting, with the invariant culture (English names, `/` and `:` separators). Supported
//! specifiers: d dd ddd dddd, M MM MMM MMMM, y yy yyy yyyy yyyyy, h hh H HH, m mm, s ss, f…fffffff,
//! F…FFFFFFF, t tt, z zz zzz, K, g, `:` `/`, quoted literals ('…' "…"), `\x` escapes and `%x`.
//! Anything else (including `Z`) is a literal character.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};

use super::dates::utc;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[derive(Debug, Clone, PartialEq)]
enum Spec {
    /// A specifier letter repeated `n` times.
    Field(char, usize),
    Literal(String),
}

fn tokenize(format: &str) -> Result<Vec<Spec>, String> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            'd' | 'M' | 'y' | 'h' | 'H' | 'm' | 's' | 'f' | 'F' | 't' | 'z' | 'K' | 'g' => {
                let n = chars
                    .get(i..)
                    .map_or(0, |r| r.iter().take_while(|&&x| x == c).count());
                if matches!(c, 'f' | 'F') && n > 7 {
                    return Err(format!(
                        "'{}' has more than 7 fraction digits",
                        c.to_string().repeat(n)
                    ));
                }
                out.push(Spec::Field(c, n));
                i += n;
            }
            '\'' | '"' => {
                let mut lit = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(format!(
                                "unterminated quoted literal in format \"{format}\""
                            ));
                        }
                        Some(&q) if q == c => break,
                        Some('\\') => {
                            i += 1;
                            lit.extend(chars.get(i));
                        }
                        Some(&x) => lit.push(x),
                    }
                    i += 1;
                }
                out.push(Spec::Literal(lit));
                i += 1;
            }
            '\\' => {
                let next = chars
                    .get(i + 1)
                    .ok_or_else(|| format!("format \"{format}\" ends with a lone '\\'"))?;
                out.push(Spec::Literal(next.to_string()));
                i += 2;
            }
            '%' => i += 1,
            other => {
                out.push(Spec::Literal(other.to_string()));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// What ParseExact found.
#[derive(Default)]
struct Parts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    hour: u32,
    pm: Option<bool>,
    minute: u32,
    second: u32,
    nanos: u32,
    offset_secs: Option<i64>,
}

struct Input<'a> {
    rest: &'a str,
}

impl Input<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let n = self
            .rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if n < min {
            return None;
        }
        let (d, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        d.parse().ok()
    }

    fn word(&mut self, names: &[&str], abbreviated: bool) -> Option<usize> {
        names.iter().position(|name| {
            let want = if abbreviated {
                name.get(..3).unwrap_or(name)
            } else {
                name
            };
            match self.rest.get(..want.len()) {
                Some(got) if got.eq_ignore_ascii_case(want) => {
                    self.rest = self.rest.get(want.len()..).unwrap_or_default();
                    true
                }
                _ => false,
            }
        })
    }

    fn literal(&mut self, lit: &str) -> Option<()> {
        self.rest = self.rest.strip_prefix(lit)?;
        Some(())
    }
}

fn parse_exact(source: &str, specs: &[Spec]) -> Option<Parts> {
    let mut p = Parts::default();
    let mut input = Input { rest: source };
    for spec in specs {
        match *spec {
            Spec::Literal(ref lit) => input.literal(lit)?,
            Spec::Field('d', n) if n >= 3 => {
                input.word(&DAYS, n == 3)?;
            }
            Spec::Field('d', n) => p.day = Some(input.digits(n, 2)?),
            Spec::Field('M', n) if n >= 3 => {
                p.month = Some(u32::try_from(input.word(&MONTHS, n == 3)?).ok()? + 1)
            }
            Spec::Field('M', n) => p.month = Some(input.digits(n, 2)?),
            Spec::Field('y', n) => {
                let (min, max) = match n {
                    1 | 2 => (n, 2),
                    3 => (3, 4),
                    _ => (n, n),
                };
                let y = input.digits(min, max)?;
                let y = if n <= 2 {
                    if y <= 49 { 2000 + y } else { 1900 + y }
                } else {
                    y
                };
                p.year = Some(i32::try_from(y).ok()?);
            }
            Spec::Field('h' | 'H', n) => p.hour = input.digits(n.min(2), 2)?,
            Spec::Field('m', n) => p.minute = input.digits(n.min(2), 2)?,
            Spec::Field('s', n) => p.second = input.digits(n.min(2), 2)?,
            Spec::Field(c @ ('f' | 'F'), n) => {
                let before = input.rest.len();
                let v = input.digits(if c == 'f' { n } else { 0 }, n).unwrap_or(0);
                let got = before - input.rest.len();
                p.nanos = v * 10u32.pow(u32::try_from(9 - got).ok()?);
            }
            Spec::Field('t', n) => {
                let names: [&str; 2] = if n == 1 { ["A", "P"] } else { ["AM", "PM"] };
                p.pm = Some(input.word(&names, false)? == 1);
            }
            Spec::Field('z' | 'K', _) => {
                if input.literal("Z").is_some() {
                    p.offset_secs = Some(0);
                    continue;
                }
                let sign = match input.rest.chars().next() {
                    Some('+') => 1,
                    Some('-') => -1,
                    _ => continue,
                };
                input.rest = input.rest.get(1..).unwrap_or_default();
                let hours = input.digits(1, 2)?;
                let minutes = if input.literal(":").is_some() {
                    input.digits(2, 2)?
                } else {
                    0
                };
                p.offset_secs = Some(sign * (i64::from(hours) * 3600 + i64::from(minutes) * 60));
            }
            Spec::Field('g', _) => {
                input.literal("A.D.").or_else(|| input.literal("AD"))?;
            }
            Spec::Field(..) => return None,
        }
    }
    input.rest.is_empty().then_some(p)
}

fn build(p: &Parts) -> Option<(DateTime<Utc>, bool)> {
    let hour = match p.pm {
        Some(pm) if (1..=12).contains(&p.hour) => p.hour % 12 + if pm { 12 } else { 0 },
        Some(_) => return None,
        None => p.hour,
    };
    let date = NaiveDate::from_ymd_opt(
        p.year.unwrap_or(1),
        p.month.unwrap_or(1),
        p.day.unwrap_or(1),
    )?;
    let naive = date.and_hms_nano_opt(hour, p.minute, p.second, p.nanos)?;
    let naive = naive.checked_sub_signed(Duration::seconds(p.offset_secs.unwrap_or(0)))?;
    Some((utc(naive), p.offset_secs.is_some()))
}

fn render(d: DateTime<Utc>, has_zone: bool, specs: &[Spec]) -> String {
    let mut out = String::new();
    for spec in specs {
        match *spec {
            Spec::Literal(ref lit) => out.push_str(lit),
            Spec::Field('d', 1) => out.push_str(&d.day().to_string()),
            Spec::Field('d', 2) => out.push_str(&format!("{:02}", d.day())),
            Spec::Field('d', n) => {
                let name = DAYS
                    .get(d.weekday().num_days_from_sunday() as usize)
                    .copied()
                    .unwrap_or_default();
                out.push_str(if n == 3 {
                    name.get(..3).unwrap_or(name)
                } else {
                    name
                });
            }
            Spec::Field('M', 1) => out.push_str(&d.month().to_string()),
            Spec::Field('M', 2) => out.push_str(&format!("{:02}", d.month())),
            Spec::Field('M', n) => {
                let name = MONTHS.get(d.month0() as usize).copied().unwrap_or_default();
                out.push_str(if n == 3 {
                    name.get(..3).unwrap_or(name)
                } else {
                    name
                });
            }
            Spec::Field('y', 1) => out.push_str(&(d.year() % 100).to_string()),
            Spec::Field('y', 2) => out.push_str(&format!("{:02}", d.year() % 100)),
            Spec::Field('y', n) => out.push_str(&format!("{:0n$}", d.year())),
            Spec::Field('h', n) => out.push_str(&format!("{:0w$}", d.hour12().1, w = n.min(2))),
            Spec::Field('H', n) => out.push_str(&format!("{:0w$}", d.hour(), w = n.min(2))),
            Spec::Field('m', n) => out.push_str(&format!("{:0w$}", d.minute(), w = n.min(2))),
            Spec::Field('s', n) => out.push_str(&format!("{:0w$}", d.second(), w = n.min(2))),
            Spec::Field(c @ ('f' | 'F'), n) => {
                let digits = format!("{:09}", d.nanosecond() % 1_000_000_000);
                let digits = digits.get(..n).unwrap_or_default();
                if c == 'f' {
                    out.push_str(digits);
                } else {
                    out.push_str(digits.trim_end_matches('0'));
                }
            }
            Spec::Field('t', n) => {
                let ampm = if d.hour12().0 { "PM" } else { "AM" };
                out.push_str(if n == 1 {
                    ampm.get(..1).unwrap_or(ampm)
                } else {
                    ampm
                });
            }
            Spec::Field('z', 1) => out.push_str("+0"),
            Spec::Field('z', 2) => out.push_str("+00"),
            Spec::Field('z', _) => out.push_str("+00:00"),
            Spec::Field('K', _) if has_zone => out.push('Z'),
            Spec::Field('K', _) => {}
            Spec::Field('g', _) => out.push_str("A.D."),
            Spec::Field(c, n) => out.push_str(&c.to_string().repeat(n)),
        }
    }
    out
}

const STYLES: [&str; 10] = [
    "None",
    "AllowLeadingWhite",
    "AllowTrailingWhite",
    "AllowInnerWhite",
    "AllowWhiteSpaces",
    "NoCurrentDateDefault",
    "AdjustToUniversal",
    "AssumeLocal",
    "AssumeUniversal",
    "RoundtripKind",
];

/// `FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat)`. Empty/omitted styles mean
/// RoundtripKind + AllowLeadingWhite + AllowTrailingWhite. Time-zone styles change nothing here
/// because local time is UTC; the white-space styles decide what surrounding blanks are allowed.
pub(crate) fn format_date_time(
    source: &str,
    styles: Option<&str>,
    input: &str,
    output: &str,
) -> Result<String, String> {
    let (lead, trail, inner) = match styles.map(str::trim).filter(|s| !s.is_empty()) {
        None => (true, true, false),
        Some(list) => {
            let mut flags = (false, false, false);
            for name in list
                .split([',', '|', ' '])
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                let name = name.strip_prefix("DateTimeStyles.").unwrap_or(name);
                match STYLES.iter().find(|s| s.eq_ignore_ascii_case(name)) {
                    Some(&"AllowLeadingWhite") => flags.0 = true,
                    Some(&"AllowTrailingWhite") => flags.1 = true,
                    Some(&"AllowInnerWhite") => flags.2 = true,
                    Some(&"AllowWhiteSpaces") => flags = (true, true, true),
                    Some(_) => {}
                    None => {
                        return Err(format!(
                            "unknown dateTimeStyles value \"{name}\"; use {}",
                            STYLES.join(", ")
                        ));
                    }
                }
            }
            flags
        }
    };
    let mut source = source;
    if lead {
        source = source.trim_start();
    }
    if trail {
        source = source.trim_end();
    }
    let squeezed;
    if inner {
        squeezed = source.split_whitespace().collect::<Vec<_>>().join(" ");
        source = &squeezed;
    }
    if input.is_empty() || output.is_empty() {
        return Err("inputFormat and outputFormat are required".to_owned());
    }
    let in_specs = tokenize(input)?;
    let out_specs = tokenize(output)?;
    let parts = parse_exact(source, &in_specs)
        .ok_or_else(|| format!("\"{source}\" does not match the input format \"{input}\""))?;
    let (date, has_zone) =
        build(&parts).ok_or_else(|| format!("\"{source}\" is not a valid date"))?;
    Ok(render(date, has_zone, &out_specs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        for (source, styles, input, output, expected) in [
            (
                "20150123105347.1Z",
                None,
                "yyyyMMddHHmmss.fZ",
                "yyyy-MM-dd",
                "2015-01-23",
            ),
            (
                "2020-12-31-08:00",
                None,
                "yyyy-MM-ddzzz",
                "yyyy-MM-dd",
                "2020-12-31",
            ),
            (
                "2020-12-31-08:00",
                None,
                "yyyy-MM-ddzzz",
                "yyyy-MM-ddTHH:mm:ssK",
                "2020-12-31T08:00:00Z",
            ),
            (
                "12/5/2021 01:02:03 PM",
                None,
                "M/d/yyyy hh:mm:ss tt",
                "yyyy-MM-dd HH:mm",
                "2021-12-05 13:02",
            ),
            (
                "  2021-01-02  ",
                None,
                "yyyy-MM-dd",
                "dd MMM yyyy",
                "02 Jan 2021",
            ),
            (
                "2021-01-02",
                Some("None"),
                "yyyy-MM-dd",
                "dddd, MMMM d",
                "Saturday, January 2",
            ),
            (
                "15 March 99",
                None,
                "d MMMM yy",
                "'year' yyyy \\a\\t HH\"h\"",
                "year 1999 at 00h",
            ),
            (
                "2021-01-02T03:04:05.1230000",
                None,
                "yyyy-MM-ddTHH:mm:ss.fffffff",
                "ss.FFFFFFF|fff",
                "05.123|123",
            ),
        ] {
            assert_eq!(
                format_date_time(source, styles, input, output).as_deref(),
                Ok(expected),
                "{source} {input}"
            );
        }
    }

    #[test]
    fn rejects() {
        assert!(format_date_time(" 2021-01-02", Some("None"), "yyyy-MM-dd", "yyyy").is_err());
        assert!(format_date_time("2021-13-02", None, "yyyy-MM-dd", "yyyy").is_err());
        assert!(format_date_time("2021-01-02", Some("Bogus"), "yyyy-MM-dd", "yyyy").is_err());
        assert!(format_date_time("2021-01-02", None, "yyyy-MM-dd'", "yyyy").is_err());
    }
}
