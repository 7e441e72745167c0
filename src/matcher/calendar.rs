//! `match-calendar`: weekday + time-of-day windows in local wall-clock time, with the
//! grammar of matching.md §4 (upstream's syntax plus pvenotify's dash weekday ranges,
//! overnight windows and `24:00` as end of day).

use std::fmt;

use chrono::{DateTime, Datelike, TimeZone, Timelike, Weekday};

const MINUTES_PER_DAY: u16 = 24 * 60;

/// Weekday names as accepted (after lower-casing); the first is also the canonical form.
const DAY_NAMES: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "mon", "monday"),
    (Weekday::Tue, "tue", "tuesday"),
    (Weekday::Wed, "wed", "wednesday"),
    (Weekday::Thu, "thu", "thursday"),
    (Weekday::Fri, "fri", "friday"),
    (Weekday::Sat, "sat", "saturday"),
    (Weekday::Sun, "sun", "sunday"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarRule {
    /// The day list as written (empty: no list), kept so that `Display` and
    /// `extensions` can still tell `mon-fri` from `mon..fri`.
    days: Vec<DaySpec>,
    /// Bit `n` = weekday `n` days after Monday; derived from `days` (all bits when empty).
    day_mask: u8,
    /// Minutes since midnight; `end` may be 1440 (`24:00`).
    start: u16,
    end: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DaySpec {
    Single(Weekday),
    Range {
        first: Weekday,
        last: Weekday,
        /// Written `first-last` (pvenotify only) rather than `first..last`.
        dash: bool,
    },
}

/// Syntax that pvenotify accepts but Proxmox VE rejects (validate warns about it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// `mon-fri` instead of `mon..fri`.
    DashWeekdayRange,
    /// start > end, e.g. `22:00-06:00`.
    OvernightWindow,
    /// `24` / `24:00` as end time.
    EndOfDay,
}

impl CalendarRule {
    /// Parses the property value; the error is the reason only, e.g.
    /// `unable to parse 'mon-fry 9-17': unknown weekday 'fry'` (the caller adds
    /// `property 'match-calendar': `).
    pub fn parse(value: &str) -> Result<Self, String> {
        parse_window(value).map_err(|reason| format!("unable to parse '{value}': {reason}"))
    }

    /// The minutes of the day at which the window opens and closes (0..=1440): between
    /// them, and within one day, `contains` does not change.
    pub fn edges(&self) -> [u16; 2] {
        [self.start, self.end]
    }

    /// Whether the window holds the local wall-clock moment `weekday`, `minute_of_day`
    /// (0..1440, seconds already dropped).
    pub fn contains(&self, weekday: Weekday, minute_of_day: u32) -> bool {
        let Ok(minute) = u16::try_from(minute_of_day) else {
            return false;
        };
        if minute >= MINUTES_PER_DAY {
            return false;
        }
        let (start, end) = (self.start, self.end);
        if start < end {
            self.has_day(weekday) && (start..end).contains(&minute)
        } else if start > end {
            // The weekday filter applies to the day on which the night starts.
            (self.has_day(weekday) && minute >= start)
                || (self.has_day(weekday.pred()) && minute < end)
        } else {
            false
        }
    }

    /// Converts `timestamp` (epoch seconds) to local time in `tz` and tests it.
    /// `None` when the local time cannot be computed (timestamp out of chrono's range).
    pub fn matches_timestamp<Tz: TimeZone>(
        &self,
        timestamp: i64,
        tz: &Tz,
    ) -> Option<(bool, DateTime<Tz>)> {
        let local = tz.timestamp_opt(timestamp, 0).single()?;
        let minute_of_day = local.hour() * 60 + local.minute();
        Some((self.contains(local.weekday(), minute_of_day), local))
    }

    /// start == end: the window never contains anything.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// pvenotify-only syntax this rule uses, in a fixed order, without duplicates.
    pub fn extensions(&self) -> Vec<Extension> {
        let dash = self
            .days
            .iter()
            .any(|spec| matches!(spec, DaySpec::Range { dash: true, .. }));
        [
            (dash, Extension::DashWeekdayRange),
            (self.start > self.end, Extension::OvernightWindow),
            (self.end == MINUTES_PER_DAY, Extension::EndOfDay),
        ]
        .into_iter()
        .filter_map(|(used, ext)| used.then_some(ext))
        .collect()
    }

    fn has_day(&self, weekday: Weekday) -> bool {
        self.day_mask & day_bit(weekday) != 0
    }
}

/// Canonical text that parses back to an equal rule.
impl fmt::Display for CalendarRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, spec) in self.days.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match *spec {
                DaySpec::Single(day) => f.write_str(short_name(day))?,
                DaySpec::Range { first, last, dash } => {
                    let sep = if dash { "-" } else { ".." };
                    write!(f, "{}{sep}{}", short_name(first), short_name(last))?;
                }
            }
        }
        if !self.days.is_empty() {
            f.write_str(" ")?;
        }
        write!(f, "{}-{}", HhMm(self.start), HhMm(self.end))
    }
}

struct HhMm(u16);

impl fmt::Display for HhMm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

fn day_bit(weekday: Weekday) -> u8 {
    1 << weekday.num_days_from_monday()
}

fn short_name(weekday: Weekday) -> &'static str {
    DAY_NAMES
        .iter()
        .find(|(day, _, _)| *day == weekday)
        .map_or("?", |(_, short, _)| short)
}

fn day_mask(days: &[DaySpec]) -> u8 {
    if days.is_empty() {
        return 0x7f;
    }
    let mut mask = 0;
    for spec in days {
        match *spec {
            DaySpec::Single(day) => mask |= day_bit(day),
            DaySpec::Range { first, last, .. } => {
                // Forward from `first`, wrapping past Sunday; `mon..mon` is Monday only.
                let mut day = first;
                loop {
                    mask |= day_bit(day);
                    if day == last {
                        break;
                    }
                    day = day.succ();
                }
            }
        }
    }
    mask
}

/// A position in the value. It only ever steps over whole characters, so slicing at
/// `pos` is always on a character boundary.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// Takes the longest run of characters satisfying `pred` (ASCII classes only).
    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c: char| !pred(c)).unwrap_or(rest.len());
        self.pos += len;
        rest.get(..len).unwrap_or("")
    }

    /// Skips `ws` (space or tab); tells whether there was any.
    fn skip_ws(&mut self) -> bool {
        !self.take_while(is_ws).is_empty()
    }
}

fn is_ws(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// How a character is named in an error message.
fn describe(c: char) -> String {
    if is_ws(c) {
        "white space".to_string()
    } else {
        format!("'{}'", c.escape_debug())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TimeRole {
    Start,
    End,
}

fn parse_window(value: &str) -> Result<CalendarRule, String> {
    let mut c = Cursor {
        text: value,
        pos: 0,
    };
    let days = match c.peek() {
        None => return Err("empty value (expected e.g. 'mon..fri 9:00-17:00')".to_string()),
        Some(ch) if ch.is_ascii_alphabetic() => parse_day_list(&mut c)?,
        Some(ch) if ch.is_ascii_digit() => Vec::new(),
        Some(ch) => {
            return Err(format!(
                "expected a weekday or a time, found {}",
                describe(ch)
            ));
        }
    };
    if !days.is_empty() {
        let had_ws = c.skip_ws();
        match c.peek() {
            Some(ch) if ch.is_ascii_digit() => {}
            None => return Err("time missing (expected e.g. 'mon..fri 9:00-17:00')".to_string()),
            Some(',' | '.') if had_ws => {
                return Err("white space is not allowed inside the weekday list".to_string());
            }
            Some('-')
                if had_ws
                    && c.rest().get(1..).is_some_and(|after| {
                        after
                            .trim_start_matches(is_ws)
                            .starts_with(|ch: char| ch.is_ascii_alphabetic())
                    }) =>
            {
                return Err("white space is not allowed inside the weekday list".to_string());
            }
            Some(ch) if had_ws && ch.is_ascii_alphabetic() => {
                return Err(format!(
                    "weekdays must be separated by ',' (found '{}' after white space)",
                    letters_at(&c)
                ));
            }
            Some(ch) => {
                return Err(format!(
                    "expected a time after the weekdays, found {}",
                    describe(ch)
                ));
            }
        }
    }

    let start = parse_time(&mut c, TimeRole::Start)?;
    let had_ws = c.skip_ws();
    match c.peek() {
        Some('-') => c.pos += 1,
        None => return Err("end time missing (expected START-END, e.g. '9-17')".to_string()),
        Some(':') if had_ws => return Err("white space is not allowed around ':'".to_string()),
        Some(':') => return Err("seconds are not allowed (use HH:MM)".to_string()),
        Some(ch) if ch.is_ascii_alphabetic() => {
            return Err("weekdays must come before the time".to_string());
        }
        Some(ch) => {
            return Err(format!(
                "expected '-' between start and end time, found {}",
                describe(ch)
            ));
        }
    }
    c.skip_ws();
    if c.peek().is_none() {
        return Err("end time missing (expected START-END, e.g. '9-17')".to_string());
    }
    let end = parse_time(&mut c, TimeRole::End)?;

    if let Some(first) = c.peek() {
        let had_ws = c.skip_ws();
        return Err(match c.peek() {
            Some(ch) if ch.is_ascii_alphabetic() => {
                "weekdays must come before the time".to_string()
            }
            Some(':') if had_ws => "white space is not allowed around ':'".to_string(),
            _ if first == ':' => "seconds are not allowed (use HH:MM)".to_string(),
            None => "unexpected white space after the end time".to_string(),
            Some(_) => format!(
                "unexpected '{}' after the end time",
                c.rest().escape_debug()
            ),
        });
    }

    let day_mask = day_mask(&days);
    Ok(CalendarRule {
        days,
        day_mask,
        start,
        end,
    })
}

fn parse_day_list(c: &mut Cursor<'_>) -> Result<Vec<DaySpec>, String> {
    let mut days = Vec::new();
    loop {
        let first = parse_day(c)?;
        let spec = if c.eat("..") {
            DaySpec::Range {
                first,
                last: parse_range_end(c, "..")?,
                dash: false,
            }
        } else if c.peek() == Some('-')
            && c.peek_second().is_some_and(|ch| ch.is_ascii_alphabetic())
        {
            c.pos += 1;
            DaySpec::Range {
                first,
                last: parse_day(c)?,
                dash: true,
            }
        } else {
            DaySpec::Single(first)
        };
        days.push(spec);
        if !c.eat(",") {
            return Ok(days);
        }
        match c.peek() {
            Some(ch) if ch.is_ascii_alphabetic() => {}
            Some(ch) if is_ws(ch) => {
                return Err("white space is not allowed after ','".to_string());
            }
            Some(ch) => {
                return Err(format!(
                    "expected a weekday after ',', found {}",
                    describe(ch)
                ));
            }
            None => return Err("expected a weekday after ','".to_string()),
        }
    }
}

fn parse_range_end(c: &mut Cursor<'_>, sep: &str) -> Result<Weekday, String> {
    match c.peek() {
        Some(ch) if ch.is_ascii_alphabetic() => parse_day(c),
        Some(ch) if is_ws(ch) => Err(format!("white space is not allowed after '{sep}'")),
        Some(ch) => Err(format!(
            "expected a weekday after '{sep}', found {}",
            describe(ch)
        )),
        None => Err(format!("expected a weekday after '{sep}'")),
    }
}

fn parse_day(c: &mut Cursor<'_>) -> Result<Weekday, String> {
    let name = c.take_while(|ch| ch.is_ascii_alphabetic());
    let lower = name.to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .find(|(_, short, long)| lower == *short || lower == *long)
        .map(|(day, _, _)| *day)
        .ok_or_else(|| format!("unknown weekday '{name}'"))
}

/// The letters at the cursor, for quoting in a message.
fn letters_at<'a>(c: &Cursor<'a>) -> &'a str {
    let rest = c.rest();
    let len = rest
        .find(|ch: char| !ch.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    rest.get(..len).unwrap_or("")
}

fn parse_time(c: &mut Cursor<'_>, role: TimeRole) -> Result<u16, String> {
    let hour_digits = c.take_while(|ch| ch.is_ascii_digit());
    if hour_digits.is_empty() {
        return Err(match c.peek() {
            Some(ch) => format!("expected a time, found {}", describe(ch)),
            None => "time missing".to_string(),
        });
    }
    let hour = number(hour_digits);
    let minute = if c.eat(":") {
        let minute_digits = c.take_while(|ch| ch.is_ascii_digit());
        if minute_digits.is_empty() {
            return Err(match c.peek() {
                Some(ch) if is_ws(ch) => "white space is not allowed around ':'".to_string(),
                _ => "minute missing after ':'".to_string(),
            });
        }
        number(minute_digits)
    } else {
        0
    };
    let max_hour = match role {
        TimeRole::Start => 23,
        TimeRole::End => 24,
    };
    if hour > max_hour {
        return Err("hour must be 0..23 (24 only as end time)".to_string());
    }
    if minute > 59 {
        return Err("minute must be 0..59".to_string());
    }
    if hour == 24 && minute != 0 {
        return Err("end time must not be after 24:00".to_string());
    }
    // Both are checked above: at most 24 * 60.
    Ok((hour * 60 + minute) as u16)
}

/// Value of an ASCII digit run; saturates, since anything that large is out of range anyway.
fn number(digits: &str) -> u32 {
    digits.bytes().fold(0u32, |acc, b| {
        acc.saturating_mul(10)
            .saturating_add(u32::from(b.wrapping_sub(b'0')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Weekday::{Fri, Mon, Sat, Sun, Thu, Tue, Wed};
    use chrono::{FixedOffset, Utc};
    use proptest::prelude::*;

    const ALL_DAYS: [Weekday; 7] = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];

    fn rule(value: &str) -> CalendarRule {
        CalendarRule::parse(value).unwrap_or_else(|err| panic!("{value:?}: {err}"))
    }

    fn err(value: &str) -> String {
        match CalendarRule::parse(value) {
            Ok(r) => panic!("{value:?} parsed as {r}"),
            Err(err) => err,
        }
    }

    fn hm(hour: u32, minute: u32) -> u32 {
        hour * 60 + minute
    }

    /// Days of the week on which `minute` is inside the window.
    fn days_at(r: &CalendarRule, minute: u32) -> Vec<Weekday> {
        ALL_DAYS
            .into_iter()
            .filter(|&d| r.contains(d, minute))
            .collect()
    }

    #[test]
    fn table_of_valid_windows() {
        let cases: [(&str, &[Weekday], u32, u32); 15] = [
            ("8-12", &ALL_DAYS, hm(8, 0), hm(12, 0)),
            ("8:00-15:30", &ALL_DAYS, hm(8, 0), hm(15, 30)),
            ("8:05 - 12:20", &ALL_DAYS, hm(8, 5), hm(12, 20)),
            (
                "mon..fri 9:00-17:00",
                &[Mon, Tue, Wed, Thu, Fri],
                hm(9, 0),
                hm(17, 0),
            ),
            (
                "mon-fri 9:00-17:00",
                &[Mon, Tue, Wed, Thu, Fri],
                hm(9, 0),
                hm(17, 0),
            ),
            (
                "sun,tue-wed,fri 9-17",
                &[Tue, Wed, Fri, Sun],
                hm(9, 0),
                hm(17, 0),
            ),
            (
                "sun,tue..wed,fri 9-17",
                &[Tue, Wed, Fri, Sun],
                hm(9, 0),
                hm(17, 0),
            ),
            ("Sat,SUN 10-14", &[Sat, Sun], hm(10, 0), hm(14, 0)),
            ("saturday 10-14", &[Sat], hm(10, 0), hm(14, 0)),
            ("fri..mon 0-6", &[Mon, Fri, Sat, Sun], hm(0, 0), hm(6, 0)),
            ("mon8-12", &[Mon], hm(8, 0), hm(12, 0)),
            ("18:00-24:00", &ALL_DAYS, hm(18, 0), 1440),
            ("0-24", &ALL_DAYS, 0, 1440),
            ("mon\t\t9-17", &[Mon], hm(9, 0), hm(17, 0)),
            ("008:5-0012:0007", &ALL_DAYS, hm(8, 5), hm(12, 7)),
        ];
        for (value, days, start, end) in cases {
            let r = rule(value);
            for day in ALL_DAYS {
                let listed = days.contains(&day);
                assert_eq!(r.contains(day, start), listed, "{value} {day} start");
                assert_eq!(
                    r.contains(day, end - 1),
                    listed,
                    "{value} {day} last minute"
                );
                assert!(!r.contains(day, end), "{value} {day} end is exclusive");
                if start > 0 {
                    assert!(!r.contains(day, start - 1), "{value} {day} before start");
                }
            }
        }
    }

    #[test]
    fn table_of_overnight_and_empty_windows() {
        let night = rule("22:00-06:00");
        assert_eq!(days_at(&night, hm(22, 0)), ALL_DAYS);
        assert_eq!(days_at(&night, hm(5, 59)), ALL_DAYS);
        assert!(days_at(&night, hm(6, 0)).is_empty());
        assert!(days_at(&night, hm(21, 59)).is_empty());

        let typo = rule("12-8");
        assert_eq!(days_at(&typo, hm(12, 0)), ALL_DAYS);
        assert_eq!(days_at(&typo, hm(7, 59)), ALL_DAYS);
        assert!(days_at(&typo, hm(8, 0)).is_empty());

        for value in ["8-8", "0-0", "8:00 - 08"] {
            let r = rule(value);
            assert!(r.is_empty(), "{value}");
            for minute in 0..1440 {
                assert!(days_at(&r, minute).is_empty(), "{value} {minute}");
            }
        }
        assert!(!rule("0-24").is_empty());
        for minute in [0, 1, 720, 1439] {
            assert_eq!(days_at(&rule("0-24"), minute), ALL_DAYS);
        }
    }

    #[test]
    fn friday_night_belongs_to_friday() {
        let r = rule("fri 22:00-06:00");
        assert!(r.contains(Fri, hm(22, 0)));
        assert!(r.contains(Fri, hm(23, 59)));
        assert!(r.contains(Sat, hm(0, 0)));
        assert!(r.contains(Sat, hm(5, 59)));
        assert!(!r.contains(Sat, hm(6, 0)));
        assert!(!r.contains(Fri, hm(3, 0)));
        assert!(!r.contains(Fri, hm(21, 59)));
        assert!(!r.contains(Sat, hm(22, 0)));
        assert!(!r.contains(Thu, hm(23, 0)));
    }

    #[test]
    fn sunday_night_wraps_to_monday() {
        let r = rule("sun 23:00-01:00");
        assert!(r.contains(Sun, hm(23, 0)));
        assert!(r.contains(Mon, hm(0, 30)));
        assert!(!r.contains(Mon, hm(1, 0)));
        assert!(!r.contains(Sun, hm(0, 30)));
    }

    #[test]
    fn wrapping_and_single_day_ranges() {
        let mask = |value: &str| rule(value).day_mask;
        assert_eq!(mask("fri..mon 0-6"), mask("fri,sat,sun,mon 0-6"));
        assert_eq!(mask("sat-tue 0-6"), mask("sat,sun,mon,tue 0-6"));
        assert_eq!(mask("mon..mon 0-6"), mask("mon 0-6"));
        assert_eq!(mask("tue..mon 0-6"), 0x7f);
        assert_eq!(mask("mon..sun 0-6"), mask("0-6"));
        assert_eq!(mask("sun..sat 0-6"), 0x7f);
    }

    #[test]
    fn day_names_any_case_short_and_full() {
        for (day, short, long) in DAY_NAMES {
            for name in [
                short.to_string(),
                long.to_string(),
                short.to_ascii_uppercase(),
                long.to_ascii_uppercase(),
            ] {
                let r = rule(&format!("{name} 8-9"));
                assert_eq!(days_at(&r, hm(8, 30)), vec![day], "{name}");
            }
        }
        assert_eq!(rule("MoNdAy..FrIdAy 9-17"), rule("mon..fri 9-17"));
    }

    #[test]
    fn worked_examples_c1_to_c5() {
        let c1 = rule("sat..mon 20:00-24:00");
        let c2 = rule("sun 23:00-01:00");
        let c3 = rule("sat-sun 8-20");
        let selected = |day, minute| {
            [("c1", &c1), ("c2", &c2), ("c3", &c3)]
                .into_iter()
                .filter(|(_, r)| r.contains(day, minute))
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
        };
        assert_eq!(selected(Mon, hm(23, 59)), ["c1"]);
        assert_eq!(selected(Mon, hm(0, 30)), ["c2"]);
        assert!(selected(Tue, hm(21, 0)).is_empty());
        assert_eq!(selected(Sun, hm(19, 59)), ["c3"]);
        assert_eq!(selected(Sun, hm(20, 0)), ["c1"]);
    }

    #[test]
    fn table_of_invalid_windows() {
        for value in [
            "",
            " 8-12",
            "8:60-12",
            "8-25",
            "24:00-25:00",
            "mon, fri 8-12",
            "tues 8-12",
            "mon-fri",
            "9-17 mon-fri",
            "mon .. fri 8-12",
            "8 : 00-12",
            "8: 00-12",
            "8 :00-12",
            "8:00-12 :00",
            "24-24",
            "24:01",
            "8-24:01",
            "8-24:30",
            "thur 8-12",
            "mo 8-12",
            "mon,,fri 8-12",
            "mon, 8-12",
            "mon,8-12",
            "mon... 8-12",
            "mon.. fri 8-12",
            "mon - fri 8-12",
            "mon-8-12",
            "mon fri 8-12",
            "8",
            "8-",
            "8 - ",
            "-12",
            "8:-12",
            "8:00:00-12:00:00",
            "8-12 ",
            "8-12x",
            "８-12",
            "8-1２",
            "mön 8-12",
            "mon 8-12\n",
            "99999999999999999999999-1",
            "8:99999999999999999999999-12",
        ] {
            assert!(
                CalendarRule::parse(value).is_err(),
                "{value:?} must be rejected"
            );
        }
    }

    #[test]
    fn error_messages() {
        let cases = [
            ("mon-fry 9-17", "unknown weekday 'fry'"),
            ("8:60-12", "minute must be 0..59"),
            ("25-26", "hour must be 0..23 (24 only as end time)"),
            ("8-25", "hour must be 0..23 (24 only as end time)"),
            ("24:00-25:00", "hour must be 0..23 (24 only as end time)"),
            ("8-24:01", "end time must not be after 24:00"),
            ("tues 8-12", "unknown weekday 'tues'"),
            ("", "empty value (expected e.g. 'mon..fri 9:00-17:00')"),
            (
                "mon-fri",
                "time missing (expected e.g. 'mon..fri 9:00-17:00')",
            ),
            ("9-17 mon-fri", "weekdays must come before the time"),
            ("mon, fri 8-12", "white space is not allowed after ','"),
            (
                "mon .. fri 8-12",
                "white space is not allowed inside the weekday list",
            ),
            ("8 : 00-12", "white space is not allowed around ':'"),
            ("8", "end time missing (expected START-END, e.g. '9-17')"),
            ("8 -", "end time missing (expected START-END, e.g. '9-17')"),
            (
                "mon fri 8-12",
                "weekdays must be separated by ',' (found 'fri' after white space)",
            ),
            ("8:00:00-9", "seconds are not allowed (use HH:MM)"),
            (
                "8.5-9",
                "expected '-' between start and end time, found '.'",
            ),
            ("8-12 ", "unexpected white space after the end time"),
            ("8-12\n", "unexpected '\\n' after the end time"),
            ("8-9:00:00", "seconds are not allowed (use HH:MM)"),
            ("8-12x", "weekdays must come before the time"),
            ("8-12 !", "unexpected '!' after the end time"),
            ("ä 8-12", "expected a weekday or a time, found 'ä'"),
            ("mon,", "expected a weekday after ','"),
        ];
        for (value, reason) in cases {
            assert_eq!(err(value), format!("unable to parse '{value}': {reason}"));
        }
    }

    #[test]
    fn huge_numbers_are_out_of_range_not_overflow() {
        let digits = "9".repeat(100);
        assert_eq!(
            err(&format!("{digits}-1")),
            format!("unable to parse '{digits}-1': hour must be 0..23 (24 only as end time)")
        );
        assert!(CalendarRule::parse(&format!("8:{digits}-9")).is_err());
        // Leading zeros are fine however many.
        assert_eq!(rule(&format!("{}8-9", "0".repeat(100))), rule("8-9"));
    }

    #[test]
    fn extensions_are_reported_in_order() {
        use Extension::*;
        let cases: [(&str, &[Extension]); 8] = [
            ("mon..fri 9-17", &[]),
            ("fri..mon 0-6", &[]),
            ("8-8", &[]),
            ("mon-fri 9-17", &[DashWeekdayRange]),
            ("mon-tue,thu-fri 9-17", &[DashWeekdayRange]),
            ("22:00-06:00", &[OvernightWindow]),
            ("0-24", &[EndOfDay]),
            ("sat-sun,mon-mon 22-24", &[DashWeekdayRange, EndOfDay]),
        ];
        for (value, expected) in cases {
            assert_eq!(rule(value).extensions(), expected, "{value}");
        }
        assert_eq!(
            rule("fri-sat 22-6").extensions(),
            [DashWeekdayRange, OvernightWindow]
        );
    }

    #[test]
    fn display_is_canonical() {
        let cases = [
            ("8-12", "08:00-12:00"),
            ("8:05 - 12:20", "08:05-12:20"),
            ("MON..Friday 9-17", "mon..fri 09:00-17:00"),
            ("sun,tue-wed,fri 9-17", "sun,tue-wed,fri 09:00-17:00"),
            ("mon8-24", "mon 08:00-24:00"),
            ("22-6", "22:00-06:00"),
        ];
        for (value, canonical) in cases {
            let r = rule(value);
            assert_eq!(r.to_string(), canonical);
            assert_eq!(CalendarRule::parse(canonical), Ok(r.clone()));
            assert_eq!(rule(canonical).extensions(), r.extensions());
        }
    }

    #[test]
    fn contains_rejects_minutes_outside_the_day() {
        let r = rule("22-6");
        assert!(!r.contains(Mon, 1440));
        assert!(!r.contains(Mon, u32::MAX));
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("valid date")
            .timestamp()
    }

    #[test]
    fn matches_timestamp_in_utc() {
        let office = rule("mon..fri 9-17");
        let (hit, local) = office
            .matches_timestamp(at(2024, 6, 3, 10, 0, 0), &Utc)
            .expect("in range");
        assert!(hit);
        assert_eq!(local.weekday(), Mon);
        // Seconds are ignored: 16:59:59 counts as 16:59.
        let in_window = |ts| office.matches_timestamp(ts, &Utc).map(|(hit, _)| hit);
        assert_eq!(in_window(at(2024, 6, 3, 16, 59, 59)), Some(true));
        assert_eq!(in_window(at(2024, 6, 3, 17, 0, 0)), Some(false));
        assert_eq!(in_window(at(2024, 6, 3, 9, 0, 0)), Some(true));
        assert_eq!(in_window(at(2024, 6, 8, 12, 0, 0)), Some(false));

        let fri_night = rule("fri 22:00-06:00");
        let night = |ts| fri_night.matches_timestamp(ts, &Utc).map(|(hit, _)| hit);
        assert_eq!(night(at(2024, 6, 7, 21, 59, 0)), Some(false));
        assert_eq!(night(at(2024, 6, 7, 22, 0, 0)), Some(true));
        assert_eq!(night(at(2024, 6, 8, 5, 30, 0)), Some(true));
        assert_eq!(night(at(2024, 6, 8, 6, 0, 0)), Some(false));
        assert_eq!(night(at(2024, 6, 8, 22, 30, 0)), Some(false));
    }

    #[test]
    fn matches_timestamp_uses_local_time() {
        // Sunday 2024-06-09 23:30 UTC is Monday 01:30 at +02:00.
        let ts = at(2024, 6, 9, 23, 30, 0);
        let plus_two = FixedOffset::east_opt(2 * 3600).expect("valid offset");
        let monday_night = rule("mon 1-2");
        let (hit, local) = monday_night
            .matches_timestamp(ts, &plus_two)
            .expect("in range");
        assert!(hit);
        assert_eq!(
            (local.weekday(), local.hour(), local.minute()),
            (Mon, 1, 30)
        );
        assert_eq!(
            monday_night.matches_timestamp(ts, &Utc).map(|(hit, _)| hit),
            Some(false)
        );
    }

    #[test]
    fn matches_timestamp_out_of_range() {
        assert!(rule("0-24").matches_timestamp(i64::MAX, &Utc).is_none());
        assert!(rule("0-24").matches_timestamp(i64::MIN, &Utc).is_none());
    }

    fn day_token() -> impl Strategy<Value = String> {
        (
            0..7usize,
            any::<bool>(),
            prop::collection::vec(any::<bool>(), 9),
        )
            .prop_map(|(i, long, upper)| {
                let (_, short, full) = DAY_NAMES[i];
                let name = if long { full } else { short };
                name.chars()
                    .zip(upper)
                    .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                    .chain(name.chars().skip(9))
                    .collect()
            })
    }

    fn alphabet_string() -> impl Strategy<Value = String> {
        let token = prop_oneof![
            4 => prop::sample::select(vec![
                "..", "-", ",", ":", " ", "\t", "0", "8", "12", "24", "59", "60", "007",
                "99999999999999999999", "tues", "x", "ä", "８", "\n",
            ])
            .prop_map(str::to_string),
            1 => day_token(),
        ];
        prop::collection::vec(token, 0..12).prop_map(|tokens| tokens.concat())
    }

    /// Strings shaped like the grammar with an occasional mistake in any part, so that
    /// both the accepting paths and each error path are reached often.
    fn near_window() -> impl Strategy<Value = String> {
        fn pick(
            good: &'static [&'static str],
            bad: &'static [&'static str],
        ) -> impl Strategy<Value = String> {
            prop_oneof![
                12 => prop::sample::select(good).prop_map(str::to_string),
                1 => prop::sample::select(bad).prop_map(str::to_string),
            ]
        }
        let range = (
            day_token(),
            pick(&["", "..", "-"], &["...", " ..", "- ", "."]),
            day_token(),
        )
            .prop_map(|(first, sep, last)| {
                if sep.is_empty() {
                    first
                } else {
                    format!("{first}{sep}{last}")
                }
            });
        let days = (
            prop::collection::vec(range, 0..4),
            pick(&[","], &[", ", ",,", " "]),
        )
            .prop_map(|(ranges, comma)| ranges.join(&comma));
        let time = || {
            (
                pick(
                    &["0", "8", "12", "23", "24", "007"],
                    &["60", "", "99999999999999999999"],
                ),
                pick(&["", ":00", ":5", ":59"], &[":60", ":", ": 5", ":00:00"]),
            )
                .prop_map(|(hour, minute)| hour + &minute)
        };
        (
            days,
            pick(&["", " ", "\t", " \t"], &["x", "-"]),
            time(),
            pick(&["-", " - ", "\t-"], &["", "--", " : "]),
            time(),
            pick(&[""], &[" mon", " ", "x", "é"]),
        )
            .prop_map(|(days, gap, start, dash, end, tail)| {
                format!("{days}{gap}{start}{dash}{end}{tail}")
            })
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(value in any::<String>()) {
            if let Ok(r) = CalendarRule::parse(&value) {
                prop_assert_eq!(CalendarRule::parse(&r.to_string()), Ok(r));
            }
        }

        #[test]
        fn alphabet_strings_round_trip(value in alphabet_string()) {
            if let Ok(r) = CalendarRule::parse(&value) {
                prop_assert_eq!(CalendarRule::parse(&r.to_string()), Ok(r));
            }
        }

        #[test]
        fn near_windows_round_trip(value in near_window()) {
            if let Ok(r) = CalendarRule::parse(&value) {
                prop_assert_eq!(CalendarRule::parse(&r.to_string()), Ok(r));
            }
        }

        #[test]
        fn generated_windows_parse_and_match_reference(
            days in prop::collection::vec((0..7usize, proptest::option::of((0..7usize, any::<bool>()))), 0..4),
            names in prop::collection::vec((any::<bool>(), any::<u16>()), 8),
            start in (0..24u32, 0..60u32),
            end in (0..25u32, 0..60u32),
            layout in (0..3usize, 0..3usize, 0..3usize, any::<bool>(), any::<bool>(), 0..3usize),
        ) {
            let (end_hour, end_minute) = if end.0 == 24 { (24, 0) } else { end };
            let (pad_hour, pad_minute, ws_days, omit_start_minute, omit_end_minute, ws_dash) =
                layout;
            // Each slot picks short or full name and a letter-case pattern.
            let name_for = |i: usize, slot: usize| {
                let (long, case_bits) = names[slot % names.len()];
                let (_, short, full) = DAY_NAMES[i];
                let base = if long { full } else { short };
                base.chars()
                    .enumerate()
                    .map(|(k, c)| if case_bits & (1 << k) != 0 { c.to_ascii_uppercase() } else { c })
                    .collect::<String>()
            };
            let day_list = days
                .iter()
                .enumerate()
                .map(|(slot, (first, range))| match range {
                    None => name_for(*first, slot),
                    Some((last, dash)) => format!(
                        "{}{}{}",
                        name_for(*first, slot),
                        if *dash { "-" } else { ".." },
                        name_for(*last, slot + 4),
                    ),
                })
                .collect::<Vec<_>>()
                .join(",");
            let time = |hour: u32, minute: u32, omit: bool| {
                let hour = format!("{}{hour}", "0".repeat(pad_hour));
                if omit && minute == 0 {
                    hour
                } else {
                    format!("{hour}:{}{minute}", "0".repeat(pad_minute))
                }
            };
            let dash = ["-", " - ", "\t-  "][ws_dash];
            let text = format!(
                "{day_list}{}{}{dash}{}",
                if days.is_empty() { "" } else { ["", " ", " \t "][ws_days] },
                time(start.0, start.1, omit_start_minute),
                time(end_hour, end_minute, omit_end_minute),
            );
            let r = CalendarRule::parse(&text).map_err(TestCaseError::fail)?;
            prop_assert_eq!(CalendarRule::parse(&r.to_string()), Ok(r.clone()));

            // Reference: paint the week minute by minute from each listed day's start.
            let listed: Vec<bool> = if days.is_empty() {
                vec![true; 7]
            } else {
                let mut listed = vec![false; 7];
                for (first, range) in &days {
                    let last = range.map_or(*first, |(last, _)| last);
                    let span = (last + 7 - first) % 7;
                    for k in 0..=span {
                        listed[(first + k) % 7] = true;
                    }
                }
                listed
            };
            let start_min = (start.0 * 60 + start.1) as usize;
            let end_min = (end_hour * 60 + end_minute) as usize;
            let length = if start_min <= end_min { end_min - start_min } else { 1440 - start_min + end_min };
            let mut week = vec![false; 7 * 1440];
            for (day, _) in listed.iter().enumerate().filter(|(_, on)| **on) {
                for i in 0..length {
                    week[(day * 1440 + start_min + i) % (7 * 1440)] = true;
                }
            }
            for (index, expected) in week.iter().enumerate() {
                let day = ALL_DAYS[index / 1440];
                let minute = (index % 1440) as u32;
                prop_assert_eq!(r.contains(day, minute), *expected, "{} at {} {}", text, day, minute);
            }
            prop_assert_eq!(r.is_empty(), length == 0);
        }
    }
}
