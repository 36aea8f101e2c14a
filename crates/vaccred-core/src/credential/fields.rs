//! Typed reads of JSON object members that record a `FieldError` for each invalid value
//! and go on, so one pass reports every error.

use serde_json::{Map, Value};
use time::{Date, OffsetDateTime};

use super::datetime::{parse_date, parse_date_time};
use super::error::{Expected, FieldError, Problem, RequestError};
use super::request::DoseNumber;

/// Appends `key` to a JSON path.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Collects field errors while request values are read.
///
/// Each read returns `None` when the value is invalid or, for optional fields, absent or
/// `null`. Only the error list distinguishes the two cases.
pub(crate) struct Reader {
    errors: Vec<FieldError>,
}

impl Reader {
    pub(crate) fn new() -> Self {
        Self { errors: Vec::new() }
    }

    pub(crate) fn push(&mut self, path: String, problem: Problem) {
        self.errors.push(FieldError { path, problem });
    }

    pub(crate) fn wrong_type(&mut self, path: String, expected: Expected, found: &Value) {
        let found = json_type(found);
        self.push(path, Problem::WrongType { expected, found });
    }

    pub(crate) fn has_error_at(&self, path: &str) -> bool {
        self.errors.iter().any(|error| error.path == path)
    }

    /// Returns `value` if no error was recorded, otherwise every error.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, RequestError> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(RequestError::Invalid(self.errors))
        }
    }

    pub(crate) fn as_object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
    ) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.wrong_type(path.to_owned(), Expected::Object, value);
        }
        object
    }

    /// Returns the member `key` and its path. A missing or `null` member is an error when
    /// `required`, as go-swagger treats `null` like an absent field.
    fn member<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &str,
        key: &str,
        required: Option<Expected>,
    ) -> Option<(&'v Value, String)> {
        let member_path = join(path, key);
        match object.get(key) {
            Some(Value::Null) | None => {
                if let Some(expected) = required {
                    self.push(member_path, Problem::Missing { expected });
                }
                None
            }
            Some(value) => Some((value, member_path)),
        }
    }

    pub(crate) fn required_object<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<(&'v Map<String, Value>, String)> {
        let (value, member_path) = self.member(object, path, key, Some(Expected::Object))?;
        let member = self.as_object(value, &member_path)?;
        Some((member, member_path))
    }

    pub(crate) fn optional_object<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<(&'v Map<String, Value>, String)> {
        let (value, member_path) = self.member(object, path, key, None)?;
        let member = self.as_object(value, &member_path)?;
        Some((member, member_path))
    }

    /// Reads a string and checks its length in characters, as go-openapi counts runes.
    fn string_value(
        &mut self,
        value: &Value,
        path: String,
        min_length: usize,
        expected: Expected,
    ) -> Option<String> {
        let Some(text) = value.as_str() else {
            self.wrong_type(path, expected, value);
            return None;
        };
        if text.chars().count() < min_length {
            self.push(path, Problem::TooShort { min_length });
            return None;
        }
        if let Some(c) = text.chars().find(|&c| is_hidden_formatting(c)) {
            let code_point = u32::from(c);
            self.push(path, Problem::ControlCharacter { code_point });
            return None;
        }
        Some(text.to_owned())
    }

    pub(crate) fn required_string(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
        min_length: usize,
    ) -> Option<String> {
        let expected = string_kind(min_length);
        let (value, member_path) = self.member(object, path, key, Some(expected))?;
        self.string_value(value, member_path, min_length, expected)
    }

    /// Reads an optional string. An empty string counts as absent, because go-swagger
    /// skips the checks of optional empty strings and Go's `omitempty` then drops them.
    pub(crate) fn optional_string(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
        min_length: usize,
    ) -> Option<String> {
        let (value, member_path) = self.member(object, path, key, None)?;
        if value.as_str() == Some("") {
            return None;
        }
        self.string_value(value, member_path, min_length, string_kind(min_length))
    }

    fn string_list(
        &mut self,
        value: &Value,
        path: &str,
        item_min_length: usize,
    ) -> Option<Vec<String>> {
        let Some(items) = value.as_array() else {
            self.wrong_type(path.to_owned(), Expected::StringArray, value);
            return None;
        };
        let mut strings = Vec::with_capacity(items.len());
        let mut valid = true;
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{index}]");
            match self.string_value(
                item,
                item_path,
                item_min_length,
                string_kind(item_min_length),
            ) {
                Some(text) => strings.push(text),
                None => valid = false,
            }
        }
        valid.then_some(strings)
    }

    pub(crate) fn required_string_list(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
        item_min_length: usize,
    ) -> Option<Vec<String>> {
        let (value, member_path) = self.member(object, path, key, Some(Expected::StringArray))?;
        self.string_list(value, &member_path, item_min_length)
    }

    /// Reads an optional array of strings; absent, `null` and invalid arrays give an
    /// empty list.
    pub(crate) fn optional_string_list(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Vec<String> {
        self.member(object, path, key, None)
            .and_then(|(value, member_path)| self.string_list(value, &member_path, 0))
            .unwrap_or_default()
    }

    fn date_value(&mut self, value: &Value, path: String) -> Option<Date> {
        let text = self.string_value(value, path.clone(), 0, Expected::Date)?;
        let date = parse_date(&text);
        if date.is_none() {
            self.push(path, Problem::InvalidDate { value: text });
        }
        date
    }

    pub(crate) fn required_date(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<Date> {
        let (value, member_path) = self.member(object, path, key, Some(Expected::Date))?;
        self.date_value(value, member_path)
    }

    /// Reads an optional date; `null` counts as absent (`x-nullable` in DIVOC's schema),
    /// but an empty string is invalid, as Go fails to decode it.
    pub(crate) fn optional_date(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<Date> {
        let (value, member_path) = self.member(object, path, key, None)?;
        self.date_value(value, member_path)
    }

    /// Reads a required date-time. An empty string is rejected, whereas DIVOC's Go API
    /// silently turns it into 1970-01-01T00:00:00.000Z.
    pub(crate) fn required_date_time(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<OffsetDateTime> {
        let (value, member_path) = self.member(object, path, key, Some(Expected::DateTime))?;
        let text = self.string_value(value, member_path.clone(), 0, Expected::DateTime)?;
        let date_time = parse_date_time(&text);
        if date_time.is_none() {
            self.push(member_path, Problem::InvalidDateTime { value: text });
        }
        date_time
    }

    /// Reads a required dose count: a JSON number of at least 1.
    pub(crate) fn required_dose(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<DoseNumber> {
        let (value, member_path) = self.member(object, path, key, Some(Expected::Number))?;
        let Some(number) = value.as_f64() else {
            self.wrong_type(member_path, Expected::Number, value);
            return None;
        };
        let dose = DoseNumber::new(number);
        if dose.is_none() {
            self.push(member_path, Problem::BelowMinimum { minimum: 1 });
        }
        dose
    }
}

/// Control characters other than tab and line breaks, and the bidirectional controls that
/// reorder displayed text.
fn is_hidden_formatting(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn string_kind(min_length: usize) -> Expected {
    if min_length > 0 {
        Expected::NonEmptyString
    } else {
        Expected::String
    }
}
