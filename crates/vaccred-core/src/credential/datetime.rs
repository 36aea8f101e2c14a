//! Date and date-time handling that matches what DIVOC's Go API accepts and re-emits:
//! go-openapi strfmt v0.19.8 `Date` and `DateTime` parsed with Go's `time.Parse`.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses a `format: date` value with Go's layout `2006-01-02`: exactly four year digits,
/// two month digits and two day digits, and a day that exists in that month.
pub(crate) fn parse_date(value: &str) -> Option<Date> {
    let mut cursor = Cursor::new(value);
    let date = cursor.date()?;
    cursor.at_end().then_some(date)
}

/// Parses a `format: date-time` value with the layouts strfmt v0.19.8 tries.
///
/// The accepted forms are:
/// - `YYYY-MM-DDTHH:MM:SS` with an optional fraction of any length, followed by `Z`,
///   `±hh:mm` or nothing;
/// - the same with `±hhmm` when the fraction has exactly 3 or 6 digits;
/// - `YYYY-MM-DDTHH:MM` followed by `Z` or nothing.
///
/// As in Go, the hour may have one or two digits, only `.` starts a fraction, digits past
/// the ninth are ignored, and a value without a zone is UTC. Offset hours above 23 and
/// offset minutes above 59 are rejected here, although some Go versions accept them.
pub(crate) fn parse_date_time(value: &str) -> Option<OffsetDateTime> {
    let mut cursor = Cursor::new(value);
    let date = cursor.date()?;
    if !cursor.eat(b'T') {
        return None;
    }
    let hour = cursor.hour()?;
    if !cursor.eat(b':') {
        return None;
    }
    let minute = cursor.number(2).filter(|m| *m < 60)?;
    if !cursor.eat(b':') {
        let time = Time::from_hms(hour, minute, 0).ok()?;
        return cursor.reduced_precision_zone(PrimitiveDateTime::new(date, time));
    }
    let second = cursor.number(2).filter(|s| *s < 60)?;
    let (nanosecond, fraction_digits) = cursor.fraction();
    let time = Time::from_hms_nano(hour, minute, second, nanosecond).ok()?;
    let offset = cursor.zone(fraction_digits)?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// Formats with Go's layout `2006-01-02T15:04:05.000Z07:00`: milliseconds truncated,
/// `Z` for a zero offset, otherwise `±hh:mm`. Seconds of an offset are not shown.
pub(crate) fn format_date_time(value: OffsetDateTime) -> String {
    let offset = value.offset();
    let zone = if offset.is_utc() {
        "Z".to_owned()
    } else {
        let sign = if offset.is_negative() { '-' } else { '+' };
        let hours = offset.whole_hours().unsigned_abs();
        let minutes = offset.minutes_past_hour().unsigned_abs();
        format!("{sign}{hours:02}:{minutes:02}")
    };
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}{zone}",
        format_date(value.date()),
        value.hour(),
        value.minute(),
        value.second(),
        value.millisecond()
    )
}

/// Formats with JavaScript's `Date.prototype.toISOString` layout
/// `YYYY-MM-DDTHH:mm:ss.sssZ` in UTC, milliseconds truncated. Returns `None` for years
/// outside 0000–9999, for which JavaScript switches to a six-digit signed year.
pub(crate) fn format_iso_utc_millis(value: OffsetDateTime) -> Option<String> {
    let utc = value.to_offset(UtcOffset::UTC);
    if !(0..=9999).contains(&utc.year()) {
        return None;
    }
    Some(format_date_time(utc))
}

/// Formats as `YYYY-MM-DD`.
pub(crate) fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Returns the number of whole years from `dob` to `today`, negative when `dob` is later.
/// A birthday on 29 February counts as reached on 1 March in years without that day.
pub(crate) fn whole_years(dob: Date, today: Date) -> i64 {
    let mut years = i64::from(today.year()) - i64::from(dob.year());
    let birthday_reached =
        (u8::from(today.month()), today.day()) >= (u8::from(dob.month()), dob.day());
    if !birthday_reached {
        years -= 1;
    }
    years
}

struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    fn new(value: &'a str) -> Self {
        Self {
            bytes: value.as_bytes(),
            position: 0,
        }
    }

    fn at_end(&self) -> bool {
        self.position == self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn eat(&mut self, expected: u8) -> bool {
        let matched = self.peek() == Some(expected);
        if matched {
            self.position += 1;
        }
        matched
    }

    fn digit(&mut self) -> Option<u8> {
        let byte = self.peek().filter(u8::is_ascii_digit)?;
        self.position += 1;
        Some(byte - b'0')
    }

    /// Reads exactly `count` ASCII digits (at most 4) as a number.
    fn number(&mut self, count: usize) -> Option<u8> {
        self.wide_number(count).and_then(|n| u8::try_from(n).ok())
    }

    fn wide_number(&mut self, count: usize) -> Option<u16> {
        let mut number = 0u16;
        for _ in 0..count {
            number = number * 10 + u16::from(self.digit()?);
        }
        Some(number)
    }

    fn date(&mut self) -> Option<Date> {
        let year = i32::from(self.wide_number(4)?);
        if !self.eat(b'-') {
            return None;
        }
        let month = Month::try_from(self.number(2)?).ok()?;
        if !self.eat(b'-') {
            return None;
        }
        let day = self.number(2)?;
        Date::from_calendar_date(year, month, day).ok()
    }

    /// Reads an hour of one or two digits, as Go's layout element `15` does.
    fn hour(&mut self) -> Option<u8> {
        let mut hour = self.digit()?;
        if let Some(second_digit) = self.digit() {
            hour = hour * 10 + second_digit;
        }
        (hour < 24).then_some(hour)
    }

    /// Reads an optional `.` and digits, and returns the nanoseconds and the number of
    /// digits read (0 without a fraction).
    fn fraction(&mut self) -> (u32, usize) {
        let has_fraction = self.peek() == Some(b'.')
            && self
                .bytes
                .get(self.position + 1)
                .is_some_and(u8::is_ascii_digit);
        if !has_fraction {
            return (0, 0);
        }
        self.position += 1;
        let mut nanosecond = 0u32;
        let mut digits = 0usize;
        while let Some(digit) = self.digit() {
            if digits < 9 {
                nanosecond = nanosecond * 10 + u32::from(digit);
            }
            digits += 1;
        }
        let scale = 10u32.pow(9 - digits.min(9) as u32);
        (nanosecond * scale, digits)
    }

    /// Reads the zone after seconds: nothing, `Z`, `±hh:mm`, or `±hhmm` when the fraction
    /// had 3 or 6 digits (Go's `.000Z0700` and `.000000Z0700` layouts).
    fn zone(&mut self, fraction_digits: usize) -> Option<UtcOffset> {
        if self.at_end() {
            return Some(UtcOffset::UTC);
        }
        if self.eat(b'Z') {
            return self.at_end().then_some(UtcOffset::UTC);
        }
        let negative = match self.peek()? {
            b'+' => false,
            b'-' => true,
            _ => return None,
        };
        self.position += 1;
        let hours = self.number(2).filter(|h| *h < 24)?;
        let with_colon = self.eat(b':');
        if !with_colon && !matches!(fraction_digits, 3 | 6) {
            return None;
        }
        let minutes = self.number(2).filter(|m| *m < 60)?;
        if !self.at_end() {
            return None;
        }
        let (hours, minutes) = (hours as i8, minutes as i8);
        if negative {
            UtcOffset::from_hms(-hours, -minutes, 0).ok()
        } else {
            UtcOffset::from_hms(hours, minutes, 0).ok()
        }
    }

    /// Reads the end of Go's `2006-01-02T15:04Z` or `2006-01-02T15:04` layouts.
    fn reduced_precision_zone(&mut self, local: PrimitiveDateTime) -> Option<OffsetDateTime> {
        self.eat(b'Z');
        self.at_end().then(|| local.assume_utc())
    }
}
