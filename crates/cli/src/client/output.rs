//! Human output: aligned tables, relative times, colour on a terminal only
//! (never when `NO_COLOR` is set or stdout is piped); and `--json`.

use serde_json::Value;
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Prints JSON for scripts: pretty, one document.
pub fn print_json(v: &Value) {
    outln!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

/// Whether stdout gets colour.
pub fn colour() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map_or(true, |t| t != "dumb")
    })
}

/// A colour for a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    Plain,
    Red,
    Green,
    Yellow,
    Dim,
    Bold,
}

/// Wraps `s` in the colour's escape codes when stdout is a terminal.
pub fn paint(s: &str, c: Colour) -> String {
    let code = match c {
        Colour::Plain => return s.to_string(),
        Colour::Red => "31",
        Colour::Green => "32",
        Colour::Yellow => "33",
        Colour::Dim => "2",
        Colour::Bold => "1",
    };
    if colour() {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// A colour by meaning for states and priorities.
pub fn state_colour(state: &str) -> Colour {
    match state {
        "open" | "flash" | "urgent" | "cancelled" | "suspended" | "silent" | "node_unreachable" => {
            Colour::Red
        }
        "coordinated" | "active" | "notified" | "acknowledged" | "in_operation" => Colour::Green,
        "amended" | "late" | "request" | "degraded" => Colour::Yellow,
        _ => Colour::Plain,
    }
}

/// An aligned table: a header row, then rows; the last column is not padded.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<(String, Colour)>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Table {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<(String, Colour)>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, with a newline after each row.
    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, (c, _)) in r.iter().enumerate().take(n) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: Vec<(String, Colour)>, out: &mut String| {
            let mut s = String::new();
            for (i, (c, col)) in cells.into_iter().enumerate() {
                let last = i + 1 == n;
                let pad = if last {
                    0
                } else {
                    widths[i].saturating_sub(c.chars().count()) + 2
                };
                s.push_str(&paint(&c, col));
                s.push_str(&" ".repeat(pad));
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(
            self.header
                .iter()
                .map(|h| (h.to_uppercase(), Colour::Bold))
                .collect(),
            &mut out,
        );
        for r in &self.rows {
            line(r.clone(), &mut out);
        }
        out
    }

    pub fn print(&self) {
        out!("{}", self.render());
    }
}

/// A plain cell.
pub fn cell(s: impl Into<String>) -> (String, Colour) {
    (s.into(), Colour::Plain)
}

/// A cell coloured by its state.
pub fn state_cell(s: &str) -> (String, Colour) {
    (s.to_string(), state_colour(s))
}

/// Microseconds since the Unix epoch, now.
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// An RFC 3339 time as "in 2 h", "5 min ago", "now"; the text itself if it does not parse.
pub fn relative(rfc3339: &str) -> String {
    match parley_wire::parse_timestamp(rfc3339) {
        Ok(t) => relative_us(t.0, now_us()),
        Err(_) => rfc3339.to_string(),
    }
}

/// `at` relative to `now`, both µs since the Unix epoch.
pub fn relative_us(at: i64, now: i64) -> String {
    let d = (at - now) / 1_000_000;
    let a = d.unsigned_abs();
    let amount = if a < 45 {
        return "now".to_string();
    } else if a < 90 * 60 {
        format!("{} min", a.div_ceil(60).max(1))
    } else if a < 36 * 3600 {
        format!("{} h", (a + 1800) / 3600)
    } else {
        format!("{} d", (a + 43_200) / 86_400)
    };
    if d > 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A UTC time as an officer types it, in RFC 3339, or None: a date-time group
/// `011330ZDEC26` (also `011330Z DEC 2026`, any case) or `2026-12-01 13:30`.
pub fn typed_utc(s: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let t: String = s.trim().to_ascii_uppercase();
    let num = |x: &str| -> Option<i64> {
        (!x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
            .then(|| x.parse().ok())
            .flatten()
    };
    let (y, mo, d, hh, mm) =
        if let Some((date, time)) = t.split_once(' ').filter(|(d, _)| d.len() == 10) {
            let (y, rest) = date.split_once('-')?;
            let (mo, d) = rest.split_once('-')?;
            let (hh, mm) = time.split_once(':')?;
            (num(y)?, num(mo)?, num(d)?, num(hh)?, num(mm)?)
        } else {
            let compact: String = t.chars().filter(|c| *c != ' ').collect();
            let (dhm, rest) = compact.split_once('Z')?;
            if dhm.len() != 6 || rest.len() < 5 {
                return None;
            }
            let mo = MONTHS.iter().position(|m| rest.starts_with(m))? as i64 + 1;
            let y = num(&rest[3..])?;
            let y = match rest.len() - 3 {
                2 => 2000 + y,
                4 => y,
                _ => return None,
            };
            (y, mo, num(&dhm[0..2])?, num(&dhm[2..4])?, num(&dhm[4..6])?)
        };
    let days_in_month =
        days_from_civil(y + (mo == 12) as i64, mo % 12 + 1, 1) - days_from_civil(y, mo, 1);
    if !(1..=12).contains(&mo) || !(1..=days_in_month).contains(&d) || hh > 23 || mm > 59 {
        return None;
    }
    let us = (days_from_civil(y, mo, d) * 86_400 + hh * 3600 + mm * 60) * 1_000_000;
    Some(parley_wire::format_timestamp(parley_engine::Timestamp(us)))
}

/// A time given on the command line: RFC 3339, 24-hour UTC (`2026-12-01
/// 13:30`), a date-time group (`011330ZDEC26`), or from now: `90s`, `30m`,
/// `2h`, `7d`.
pub fn when(s: &str) -> Result<String, String> {
    if parley_wire::parse_timestamp(s).is_ok() {
        return Ok(s.to_string());
    }
    if let Some(t) = typed_utc(s) {
        return Ok(t);
    }
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => 0,
    };
    match n.parse::<i64>() {
        Ok(n) if seconds > 0 && n >= 0 => Ok(parley_wire::format_timestamp(
            parley_engine::Timestamp(now_us() + n * seconds * 1_000_000),
        )),
        _ => Err(format!(
            "{s:?} is not a time; give RFC 3339 (2030-01-01T12:00:00Z), 24-hour UTC (\"2030-01-01 12:00\"), a DTG (011200ZJAN30) or a delay from now (30m, 2h, 7d)"
        )),
    }
}

/// Whether times are shown as date-time groups (`--dtg`, or `PARLEY_DTG=1`).
static DTG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Shows every later time as a date-time group (`021330ZDEC26`) when `on`.
pub fn show_dtg(on: bool) {
    DTG.store(on, std::sync::atomic::Ordering::Relaxed);
}

fn dtg_wanted() -> bool {
    static FROM_ENV: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    DTG.load(std::sync::atomic::Ordering::Relaxed)
        || *FROM_ENV.get_or_init(|| {
            std::env::var("PARLEY_DTG").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
        })
}

/// µs since the Unix epoch as a date-time group, day hour minute Z month year:
/// "021330ZDEC26" (seconds dropped, as a DTG has none).
pub fn dtg_us(us: i64) -> String {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let text = parley_wire::format_timestamp(parley_engine::Timestamp(us));
    let (Some(year), Some(month), Some(day), Some(h), Some(m)) = (
        text.get(2..4),
        text.get(5..7).and_then(|m| m.parse::<usize>().ok()),
        text.get(8..10),
        text.get(11..13),
        text.get(14..16),
    ) else {
        return text;
    };
    let month = MONTHS.get(month.wrapping_sub(1)).copied().unwrap_or("?");
    format!("{day}{h}{m}Z{month}{year}")
}

/// µs since the Unix epoch as 24-hour UTC: "02 Dec 2026 13:30:15Z" (seconds
/// only when they are not zero); as a date-time group when asked (`--dtg`).
pub fn utc_us(us: i64) -> String {
    if dtg_wanted() {
        return dtg_us(us);
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let text = parley_wire::format_timestamp(parley_engine::Timestamp(us));
    // RFC 3339: 2026-12-02T13:30:15[.ffffff]Z
    let (Some(year), Some(month), Some(day), Some(hm), Some(sec)) = (
        text.get(0..4),
        text.get(5..7).and_then(|m| m.parse::<usize>().ok()),
        text.get(8..10),
        text.get(11..16),
        text.get(17..19),
    ) else {
        return text;
    };
    let month = MONTHS.get(month.wrapping_sub(1)).copied().unwrap_or("?");
    let sec = if sec == "00" {
        String::new()
    } else {
        format!(":{sec}")
    };
    format!("{day} {month} {year} {hm}{sec}Z")
}

/// An RFC 3339 time as 24-hour UTC ("02 Dec 2026 13:30Z"); the text itself if it does not parse.
pub fn utc(rfc3339: &str) -> String {
    match parley_wire::parse_timestamp(rfc3339) {
        Ok(t) => utc_us(t.0),
        Err(_) => rfc3339.to_string(),
    }
}

/// A length of time in seconds for a person: "45 s", "5 min", "1 h 30 min", "2 d".
pub fn duration_s(s: i64) -> String {
    let a = s.unsigned_abs();
    let text = if a < 60 {
        format!("{a} s")
    } else if a < 3600 {
        let (m, s) = (a / 60, a % 60);
        if s == 0 {
            format!("{m} min")
        } else {
            format!("{m} min {s} s")
        }
    } else if a < 86_400 || !a.is_multiple_of(86_400) {
        let (h, m) = (a / 3600, (a % 3600) / 60);
        if m == 0 {
            format!("{h} h")
        } else {
            format!("{h} h {m} min")
        }
    } else {
        format!("{} d", a / 86_400)
    };
    if s < 0 {
        format!("-{text}")
    } else {
        text
    }
}

/// A string field, or "-".
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("-")
}

/// A field as text: strings bare, numbers and others as JSON, null as "-".
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times() {
        let h = 3_600_000_000;
        assert_eq!(relative_us(2 * h, 0), "in 2 h");
        assert_eq!(relative_us(0, 5 * 60_000_000), "5 min ago");
        assert_eq!(relative_us(10_000_000, 0), "now");
        assert_eq!(relative_us(0, 3 * 24 * h), "3 d ago");
    }

    #[test]
    fn times_typed_as_an_officer_types_them() {
        assert_eq!(typed_utc("011330ZDEC26").unwrap(), "2026-12-01T13:30:00Z");
        assert_eq!(
            typed_utc("011330Z dec 2026").unwrap(),
            "2026-12-01T13:30:00Z"
        );
        assert_eq!(typed_utc("290000ZFEB28").unwrap(), "2028-02-29T00:00:00Z");
        assert_eq!(
            typed_utc("2026-12-01 13:30").unwrap(),
            "2026-12-01T13:30:00Z"
        );
        for bad in [
            "290000ZFEB27",
            "312400ZJAN26",
            "011360ZDEC26",
            "011330ZXYZ26",
            "011330DEC26",
            "2026-13-01 10:00",
            "1330",
        ] {
            assert_eq!(typed_utc(bad), None, "{bad}");
        }
        assert_eq!(when("011330ZDEC26").unwrap(), "2026-12-01T13:30:00Z");
        assert!(when("tomorrow")
            .unwrap_err()
            .contains("a DTG (011200ZJAN30)"));
    }

    #[test]
    fn times_and_durations_for_a_person() {
        assert_eq!(utc("2026-12-02T13:30:00Z"), "02 Dec 2026 13:30Z");
        assert_eq!(utc("2026-01-09T07:05:09.250Z"), "09 Jan 2026 07:05:09Z");
        assert_eq!(utc("yesterday"), "yesterday");
        // A DTG on request, read back as the same minute.
        let t = parley_wire::parse_timestamp("2026-12-02T13:30:15Z")
            .unwrap()
            .0;
        assert_eq!(dtg_us(t), "021330ZDEC26");
        assert_eq!(
            typed_utc(&dtg_us(t)).unwrap(),
            "2026-12-02T13:30:00Z",
            "a DTG the CLI writes is one it reads"
        );
        assert_eq!(duration_s(300), "5 min");
        assert_eq!(duration_s(90), "1 min 30 s");
        assert_eq!(duration_s(5400), "1 h 30 min");
        assert_eq!(duration_s(172_800), "2 d");
        assert_eq!(duration_s(20), "20 s");
    }

    #[test]
    fn tables_align() {
        let mut t = Table::new(&["id", "state", "note"]);
        t.row(vec![cell("c-1"), cell("open"), cell("x")]);
        t.row(vec![cell("c-1234"), cell("coordinated"), cell("y")]);
        assert_eq!(
            t.render(),
            "ID      STATE        NOTE\nc-1     open         x\nc-1234  coordinated  y\n"
        );
    }
}
