//! DIVOC's bulk certification CSV: one certification request per row.
//!
//! The format is DIVOC 1.24's `/v1/bulkCertify` template (`interfaces/certificates.csv`):
//! a header row that names 28 columns in any order, then one vaccination per row. Each
//! row is turned into a request body item and validated with the rules of
//! `parse_requests_with`. DIVOC logged values it could not parse and issued the row with
//! zero values. Here a row with any invalid value is returned as an error with its line
//! number instead.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::datetime::{format_date, parse_date};
use super::error::{FieldError, RequestError};
use super::parse::{ParseOptions, parse_requests_with};
use super::request::CertificationRequest;

/// The columns of DIVOC's template, in its order. Every one must be in the header row,
/// except that one of `recipientAge` and `recipientDOB` may be left out.
pub const CSV_COLUMNS: [&str; 28] = [
    "preEnrollmentCode",
    "recipientName",
    "recipientMobileNumber",
    "recipientDOB",
    "recipientAge",
    "recipientGender",
    "recipientNationality",
    "recipientIdentity",
    "recipientAddressLine1",
    "recipientAddressLine2",
    "recipientDistrict",
    "recipientState",
    "recipientPincode",
    "vaccinationBatch",
    "vaccinationDate",
    "vaccinationDose",
    "vaccinationTotalDoses",
    "vaccinationEffectiveStart",
    "vaccinationEffectiveEnd",
    "vaccinationManufacturer",
    "vaccinationName",
    "vaccinatorName",
    "facilityName",
    "facilityAddressLine1",
    "facilityAddressLine2",
    "facilityDistrict",
    "facilityState",
    "facilityPincode",
];

/// Optional extra column with the request's `programId`. DIVOC's template has no such
/// column, so its signer rejected every CSV row for lacking a program.
pub const PROGRAM_ID_COLUMN: &str = "programId";

/// Columns whose cells may be empty. Of `recipientAge` and `recipientDOB`, one cell may
/// be empty.
const OPTIONAL_COLUMNS: [&str; 3] = [
    "recipientAddressLine2",
    "vaccinationBatch",
    "facilityAddressLine2",
];

const AGE: &str = "recipientAge";
const DOB: &str = "recipientDOB";

/// Error that rejects a whole CSV file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// The header row lacks template columns. The message is DIVOC's, which clients may
    /// match.
    #[error("Missing Headers : {}", .0.join(","))]
    MissingHeaders(Vec<String>),
    /// The file has no header row.
    #[error("the CSV file is empty: send DIVOC's header row followed by one row per vaccination")]
    Empty,
}

/// A parsed CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvFile {
    /// Column names of the header row, in file order.
    pub columns: Vec<String>,
    /// Data rows in file order. Rows whose cells are all empty are skipped.
    pub rows: Vec<CsvRow>,
}

/// One data row of a CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    /// Line on which the row starts, counting the header row as line 1.
    pub line: u64,
    /// Cells in the order of [`CsvFile::columns`]. A row with fewer cells than columns
    /// has empty strings added, and extra cells are dropped.
    pub cells: Vec<String>,
    /// The request, or every problem found in the row, each naming its column.
    pub outcome: Result<CertificationRequest, Vec<String>>,
}

/// Parses a bulk certification CSV file.
///
/// A UTF-8 byte order mark, CRLF or LF line ends, quoted cells (with embedded commas,
/// quotes and line breaks) and blank lines are accepted. Header names and cells are
/// trimmed of surrounding whitespace. Each row becomes one request with contact
/// `tel:<recipientMobileNumber>`, dates of birth as `2006-01-02` or `02-Jan-2006`, an
/// RFC 3339 `vaccinationDate` and numeric doses, and is then checked with `options`.
///
/// # Errors
///
/// [`CsvError::MissingHeaders`] when template columns are missing, listing them in
/// template order, and [`CsvError::Empty`] for a file without a header row. Problems in
/// data rows are reported per row in [`CsvRow::outcome`].
pub fn parse_csv(bytes: &[u8], options: &ParseOptions) -> Result<CsvFile, CsvError> {
    parse_csv_with_progress(bytes, options, |_| {})
}

/// Parses a bulk certification CSV file as [`parse_csv`] does, and calls `progress`
/// after each data row with the number of bytes read so far.
///
/// # Errors
///
/// As [`parse_csv`].
pub fn parse_csv_with_progress(
    bytes: &[u8],
    options: &ParseOptions,
    mut progress: impl FnMut(u64),
) -> Result<CsvFile, CsvError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        // Reading from a byte slice cannot fail with an I/O error, and a flexible reader
        // accepts any number of cells, so an error cannot occur here.
        Some(Err(_)) | None => return Err(CsvError::Empty),
    };
    let columns: Vec<String> = header
        .iter()
        .map(|name| String::from_utf8_lossy(name).trim().to_owned())
        .collect();
    let index = ColumnIndex::new(&columns)?;

    let mut rows = Vec::new();
    let mut lines = LineCounter::new(bytes);
    for record in records {
        let Ok(record) = record else { continue };
        let start = record.position().map_or(0, ::csv::Position::byte);
        progress(start + record.as_slice().len() as u64);
        let line = lines.line_at(start);
        let mut problems = Vec::new();
        let mut cells = Vec::with_capacity(columns.len());
        for raw in record.iter().take(columns.len()) {
            match std::str::from_utf8(raw) {
                Ok(text) => cells.push(text.trim().to_owned()),
                Err(_) => {
                    cells.push(String::from_utf8_lossy(raw).trim().to_owned());
                    problems.push("the row is not valid UTF-8: save the file as UTF-8".to_owned());
                }
            }
        }
        if cells.iter().all(String::is_empty) && record.len() <= columns.len() {
            continue;
        }
        if record.len() != columns.len() {
            problems.push(format!(
                "the row has {} cells, but the header row has {} columns",
                record.len(),
                columns.len()
            ));
        }
        cells.resize(columns.len(), String::new());
        let outcome = if problems.is_empty() {
            row_request(&index, &cells, options)
        } else {
            Err(problems)
        };
        rows.push(CsvRow {
            line,
            cells,
            outcome,
        });
    }
    Ok(CsvFile { columns, rows })
}

/// Line numbers of record start offsets, counted from LF characters. The `csv` crate
/// (1.4) ends a record at the CR of a CRLF and reports the next record as starting at the
/// LF, so its own line numbers are one too low in files with CRLF line ends.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// Returns the 1-based line of the record that `csv` reports at byte offset
    /// `offset`, skipping line-end bytes there. Offsets must not decrease between calls.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut end = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .clamp(self.offset, self.bytes.len());
        while matches!(self.bytes.get(end), Some(b'\r' | b'\n')) {
            end += 1;
        }
        let newlines = self.bytes[self.offset..end]
            .iter()
            .filter(|byte| **byte == b'\n')
            .count();
        self.line += newlines as u64;
        self.offset = end;
        self.line
    }
}

/// Positions of the template columns in the header row.
struct ColumnIndex {
    positions: HashMap<&'static str, usize>,
}

impl ColumnIndex {
    fn new(columns: &[String]) -> Result<Self, CsvError> {
        let mut positions = HashMap::new();
        for name in CSV_COLUMNS.iter().chain([&PROGRAM_ID_COLUMN]) {
            if let Some(position) = columns.iter().position(|column| column == name) {
                positions.insert(*name, position);
            }
        }
        let has_age_or_dob = positions.contains_key(AGE) || positions.contains_key(DOB);
        let missing: Vec<String> = CSV_COLUMNS
            .iter()
            .filter(|name| !positions.contains_key(*name))
            .filter(|name| !has_age_or_dob || (**name != AGE && **name != DOB))
            .map(|name| (*name).to_owned())
            .collect();
        if missing.is_empty() {
            Ok(Self { positions })
        } else {
            Err(CsvError::MissingHeaders(missing))
        }
    }

    /// Returns the cell of `column`, or `""` when the header row lacks the column.
    fn cell<'a>(&self, cells: &'a [String], column: &str) -> &'a str {
        self.positions
            .get(column)
            .and_then(|position| cells.get(*position))
            .map_or("", String::as_str)
    }
}

/// Builds and validates the request of one row.
fn row_request(
    index: &ColumnIndex,
    cells: &[String],
    options: &ParseOptions,
) -> Result<CertificationRequest, Vec<String>> {
    let cell = |column: &str| index.cell(cells, column);
    let mut problems = Vec::new();
    for column in CSV_COLUMNS {
        let optional = OPTIONAL_COLUMNS.contains(&column) || column == AGE || column == DOB;
        if !optional && cell(column).is_empty() {
            problems.push(format!("{column} is required"));
        }
    }
    if cell(AGE).is_empty() && cell(DOB).is_empty() {
        problems.push(format!("{AGE} or {DOB} is required"));
    }

    let dob = optional_cell(cell(DOB)).and_then(|text| {
        let date = parse_dob(text);
        if date.is_none() {
            problems.push(format!(
                "{DOB} is not a date in the form 2006-01-02 or 02-Jan-2006"
            ));
        }
        date
    });
    let vaccination_date = optional_cell(cell("vaccinationDate")).filter(|text| {
        let valid = OffsetDateTime::parse(text, &Rfc3339).is_ok();
        if !valid {
            problems.push(
                "vaccinationDate is not an RFC 3339 date-time such as 2021-05-01T10:00:00.000Z"
                    .to_owned(),
            );
        }
        valid
    });
    let mut dose = |column: &str| {
        optional_cell(cell(column)).and_then(|text| match text.parse::<f64>() {
            Ok(number) if number.is_finite() => serde_json::Number::from_f64(number),
            _ => {
                problems.push(format!("{column} is not a number"));
                None
            }
        })
    };
    let dose_number = dose("vaccinationDose");
    let total_doses = dose("vaccinationTotalDoses");
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut recipient = Map::new();
    recipient.insert("name".into(), json!(cell("recipientName")));
    if let Some(dob) = dob {
        recipient.insert("dob".into(), json!(format_date(dob)));
    }
    if let Some(age) = optional_cell(cell(AGE)) {
        recipient.insert("age".into(), json!(age));
    }
    recipient.insert("gender".into(), json!(cell("recipientGender")));
    recipient.insert("nationality".into(), json!(cell("recipientNationality")));
    recipient.insert("identity".into(), json!(cell("recipientIdentity")));
    let mobile = cell("recipientMobileNumber");
    recipient.insert("contact".into(), json!([format!("tel:{mobile}")]));
    recipient.insert("address".into(), address(&cell, "recipient"));

    let mut vaccination = Map::new();
    vaccination.insert("name".into(), json!(cell("vaccinationName")));
    if let Some(batch) = optional_cell(cell("vaccinationBatch")) {
        vaccination.insert("batch".into(), json!(batch));
    }
    let manufacturer = cell("vaccinationManufacturer");
    vaccination.insert("manufacturer".into(), json!(manufacturer));
    vaccination.insert("date".into(), json!(vaccination_date));
    let effective_start = cell("vaccinationEffectiveStart");
    vaccination.insert("effectiveStart".into(), json!(effective_start));
    let effective_until = cell("vaccinationEffectiveEnd");
    vaccination.insert("effectiveUntil".into(), json!(effective_until));
    vaccination.insert("dose".into(), json!(dose_number));
    vaccination.insert("totalDoses".into(), json!(total_doses));

    let mut request = Map::new();
    request.insert("preEnrollmentCode".into(), json!(cell("preEnrollmentCode")));
    if let Some(program) = optional_cell(cell(PROGRAM_ID_COLUMN)) {
        request.insert("programId".into(), json!(program));
    }
    request.insert("recipient".into(), Value::Object(recipient));
    request.insert("vaccination".into(), Value::Object(vaccination));
    request.insert("vaccinator".into(), json!({"name": cell("vaccinatorName")}));
    let facility = json!({"name": cell("facilityName"), "address": address(&cell, "facility")});
    request.insert("facility".into(), facility);

    let body = Value::Object(request).to_string();
    match parse_requests_with(body.as_bytes(), options) {
        Ok(mut requests) if requests.len() == 1 => Ok(requests.remove(0)),
        Ok(_) => Err(vec!["the row did not yield exactly one request".to_owned()]),
        Err(RequestError::Invalid(errors)) => Err(errors.iter().map(field_problem).collect()),
        Err(error) => Err(vec![error.to_string()]),
    }
}

/// Builds the address object of `prefix` (`recipient` or `facility`).
fn address<'a>(cell: &impl Fn(&str) -> &'a str, prefix: &str) -> Value {
    let mut address = Map::new();
    let line1 = cell(&format!("{prefix}AddressLine1"));
    address.insert("addressLine1".into(), json!(line1));
    if let Some(line2) = optional_cell(cell(&format!("{prefix}AddressLine2"))) {
        address.insert("addressLine2".into(), json!(line2));
    }
    address.insert("district".into(), json!(cell(&format!("{prefix}District"))));
    address.insert("state".into(), json!(cell(&format!("{prefix}State"))));
    address.insert("pincode".into(), json!(cell(&format!("{prefix}Pincode"))));
    Value::Object(address)
}

fn optional_cell(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// Parses a date of birth in either of DIVOC's CSV layouts, `2006-01-02` and
/// `02-Jan-2006` (English month abbreviation, any letter case).
fn parse_dob(text: &str) -> Option<Date> {
    parse_date(text).or_else(|| {
        let layout = format_description!(
            "[day padding:zero]-[month repr:short case_sensitive:false]-[year repr:full]"
        );
        Date::parse(text, &layout).ok()
    })
}

/// Phrases a request problem with the CSV column it comes from.
fn field_problem(error: &FieldError) -> String {
    format!(
        "{}: {}",
        column_of_path(&error.path),
        error.problem.message()
    )
}

/// Maps a request JSON path back to the CSV column it was built from.
fn column_of_path(path: &str) -> &str {
    match path {
        "recipient.name" => "recipientName",
        "recipient.dob" => DOB,
        "recipient.age" => AGE,
        "recipient" => "recipientAge/recipientDOB",
        "recipient.gender" => "recipientGender",
        "recipient.nationality" => "recipientNationality",
        "recipient.identity" => "recipientIdentity",
        "recipient.contact" | "recipient.contact[0]" => "recipientMobileNumber",
        "recipient.address.addressLine1" => "recipientAddressLine1",
        "recipient.address.addressLine2" => "recipientAddressLine2",
        "recipient.address.district" => "recipientDistrict",
        "recipient.address.state" => "recipientState",
        "recipient.address.pincode" => "recipientPincode",
        "vaccination.name" => "vaccinationName",
        "vaccination.batch" => "vaccinationBatch",
        "vaccination.manufacturer" => "vaccinationManufacturer",
        "vaccination.date" => "vaccinationDate",
        "vaccination.effectiveStart" => "vaccinationEffectiveStart",
        "vaccination.effectiveUntil" => "vaccinationEffectiveEnd",
        "vaccination.dose" => "vaccinationDose",
        "vaccination.totalDoses" => "vaccinationTotalDoses",
        "vaccinator.name" => "vaccinatorName",
        "facility.name" => "facilityName",
        "facility.address.addressLine1" => "facilityAddressLine1",
        "facility.address.addressLine2" => "facilityAddressLine2",
        "facility.address.district" => "facilityDistrict",
        "facility.address.state" => "facilityState",
        "facility.address.pincode" => "facilityPincode",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::Shape;

    const HEADER: &str = "preEnrollmentCode,recipientName,recipientMobileNumber,recipientDOB,recipientAge,recipientGender,recipientNationality,recipientIdentity,recipientAddressLine1,recipientAddressLine2,recipientDistrict,recipientState,recipientPincode,vaccinationBatch,vaccinationDate,vaccinationDose,vaccinationTotalDoses,vaccinationEffectiveStart,vaccinationEffectiveEnd,vaccinationManufacturer,vaccinationName,vaccinatorName,facilityName,facilityAddressLine1,facilityAddressLine2,facilityDistrict,facilityState,facilityPincode";

    fn row(code: &str, dob: &str, date: &str, dose: &str) -> String {
        format!(
            "{code},Test Person,9999999999,{dob},,Female,Indian,did:in.gov.uidai.aadhaar:111122223333,Line 1,,District,State,560001,B1,{date},{dose},2,2021-05-01,2021-06-01,Maker,Covaxin,Vaccinator,Facility,Facility line 1,,Facility district,Facility state,560002"
        )
    }

    fn options() -> ParseOptions {
        ParseOptions {
            shape: Shape::V2,
            today: Some(time::macros::date!(2021 - 06 - 01)),
            mobile_region: None,
        }
    }

    #[test]
    fn csv_valid_row_becomes_request() {
        let text = format!(
            "{HEADER}\n{}\n",
            row("P1", "1990-01-15", "2021-05-01T10:00:00Z", "1")
        );
        let file = parse_csv(text.as_bytes(), &options()).unwrap();
        assert_eq!(file.columns.len(), 28);
        assert_eq!(file.rows.len(), 1);
        assert_eq!(file.rows[0].line, 2);
        let request = file.rows[0].outcome.as_ref().unwrap();
        assert_eq!(request.pre_enrollment_code, "P1");
        assert_eq!(request.recipient.contact, vec!["tel:9999999999"]);
        assert_eq!(request.recipient.age.as_deref(), Some("31"));
        assert_eq!(request.vaccination.dose.get(), 1.0);
        assert_eq!(request.vaccination.total_doses.get(), 2.0);
        assert_eq!(request.vaccination.batch.as_deref(), Some("B1"));
        assert_eq!(request.program_id, None);
        let address = request.recipient.address.as_ref().unwrap();
        assert_eq!(address.address_line2, None);
    }

    #[test]
    fn csv_dob_in_divoc_month_layout() {
        let text = format!(
            "{HEADER}\n{}\n",
            row("P1", "15-Jan-1990", "2021-05-01T10:00:00+05:30", "2")
        );
        let file = parse_csv(text.as_bytes(), &options()).unwrap();
        let request = file.rows[0].outcome.as_ref().unwrap();
        assert_eq!(
            request.recipient.dob,
            Some(time::macros::date!(1990 - 01 - 15))
        );
    }

    #[test]
    fn csv_columns_in_any_order_with_bom_and_crlf() {
        let mut columns: Vec<&str> = HEADER.split(',').collect();
        let mut cells: Vec<String> = row("P1", "1990-01-15", "2021-05-01T10:00:00Z", "1")
            .split(',')
            .map(str::to_owned)
            .collect();
        columns.reverse();
        cells.reverse();
        let text = format!(
            "\u{feff}{}\r\n{}\r\n\r\n\r\n",
            columns.join(","),
            cells.join(",")
        );
        let file = parse_csv(text.as_bytes(), &options()).unwrap();
        assert_eq!(file.columns[0], "facilityPincode");
        assert_eq!(file.rows.len(), 1);
        assert_eq!(file.rows[0].line, 2);
        let request = file.rows[0].outcome.as_ref().unwrap();
        assert_eq!(request.pre_enrollment_code, "P1");
    }

    #[test]
    fn csv_quoted_cell_with_comma_and_newline() {
        let line = row("P1", "1990-01-15", "2021-05-01T10:00:00Z", "1")
            .replace("Line 1", "\"Flat 2, \"\"Rose\"\"\nMain road\"");
        let text = format!("{HEADER}\n{line}\n{}\n", row("P2", "", "bad", "x"));
        let file = parse_csv(text.as_bytes(), &options()).unwrap();
        let request = file.rows[0].outcome.as_ref().unwrap();
        let address = request.recipient.address.as_ref().unwrap();
        assert_eq!(address.address_line1, "Flat 2, \"Rose\"\nMain road");
        assert_eq!(file.rows[1].line, 4);
    }

    #[test]
    fn csv_bad_row_reports_every_problem() {
        let text = format!(
            "{HEADER}\n{}\n{}\n",
            row("P1", "1990-01-15", "2021-05-01T10:00:00Z", "1"),
            row("", "31/12/1990", "2021-05-01", "one")
        );
        let file = parse_csv(text.as_bytes(), &options()).unwrap();
        assert!(file.rows[0].outcome.is_ok());
        assert_eq!(file.rows[1].line, 3);
        let problems = file.rows[1].outcome.as_ref().unwrap_err();
        let expected = [
            "preEnrollmentCode is required",
            "recipientDOB is not a date in the form 2006-01-02 or 02-Jan-2006",
            "vaccinationDate is not an RFC 3339 date-time such as 2021-05-01T10:00:00.000Z",
            "vaccinationDose is not a number",
        ];
        assert_eq!(problems, &expected);
    }

    #[test]
    fn csv_schema_problem_names_column() {
        let text = format!(
            "{HEADER}\n{}\n",
            row("P1", "1990-01-15", "2021-05-01T10:00:00Z", "0")
        );
        let file = parse_csv(text.as_bytes(), &options()).unwrap();
        let problems = file.rows[0].outcome.as_ref().unwrap_err();
        assert_eq!(problems, &["vaccinationDose: value is less than 1"]);
    }

    #[test]
    fn csv_future_dob_is_rejected() {
        let text = format!(
            "{HEADER}\n{}\n",
            row("P1", "2030-01-01", "2021-05-01T10:00:00Z", "1")
        );
        let file = parse_csv(text.as_bytes(), &options()).unwrap();
        let problems = file.rows[0].outcome.as_ref().unwrap_err();
        assert_eq!(
            problems,
            &["recipientDOB: Invalid Age or DOB. Should be less than current date"]
        );
    }

    #[test]
    fn csv_wrong_cell_count_is_reported() {
        let text = format!("{HEADER}\nP1,Test Person\n");
        let file = parse_csv(text.as_bytes(), &options()).unwrap();
        let problems = file.rows[0].outcome.as_ref().unwrap_err();
        assert_eq!(
            problems,
            &["the row has 2 cells, but the header row has 28 columns"]
        );
        assert_eq!(file.rows[0].cells.len(), 28);
    }

    #[test]
    fn csv_missing_headers_listed_as_divoc() {
        let header = HEADER
            .replace("recipientName,", "")
            .replace(",facilityPincode", "");
        let error = parse_csv(header.as_bytes(), &options()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Missing Headers : recipientName,facilityPincode"
        );
    }

    #[test]
    fn csv_age_or_dob_header_suffices() {
        let header = HEADER.replace("recipientDOB,", "");
        let file = parse_csv(header.as_bytes(), &options()).unwrap();
        assert!(file.rows.is_empty());
        let header = header.replace("recipientAge,", "");
        let error = parse_csv(header.as_bytes(), &options()).unwrap_err();
        assert_eq!(
            error,
            CsvError::MissingHeaders(vec![DOB.to_owned(), AGE.to_owned()])
        );
    }

    #[test]
    fn csv_empty_file_is_rejected() {
        assert_eq!(parse_csv(b"", &options()).unwrap_err(), CsvError::Empty);
    }

    #[test]
    fn csv_crlf_line_numbers() {
        let good = row("P1", "1990-01-15", "2021-05-01T10:00:00Z", "1");
        let text = format!("{HEADER}\r\n{good}\r\n\r\n{good}\r\n{good}\r\n");
        let file = parse_csv(text.as_bytes(), &options()).unwrap();
        let lines: Vec<u64> = file.rows.iter().map(|row| row.line).collect();
        assert_eq!(lines, [2, 4, 5]);
    }

    #[test]
    fn csv_progress_reaches_file_length() {
        let text = format!(
            "{HEADER}\n{}\n{}",
            row("P1", "1990-01-15", "2021-05-01T10:00:00Z", "1"),
            row("P2", "1990-01-15", "2021-05-01T10:00:00Z", "1")
        );
        let mut reported = Vec::new();
        let file =
            parse_csv_with_progress(text.as_bytes(), &options(), |bytes| reported.push(bytes))
                .unwrap();
        assert_eq!(file.rows.len(), 2);
        assert_eq!(reported.len(), 2);
        assert!(reported[0] < reported[1]);
        assert!(reported[1] <= text.len() as u64);
    }

    #[test]
    fn csv_program_id_column_is_read() {
        let text = format!(
            "{HEADER},programId\n{},C19\n",
            row("P1", "1990-01-15", "2021-05-01T10:00:00Z", "1")
        );
        let file = parse_csv(text.as_bytes(), &options()).unwrap();
        let request = file.rows[0].outcome.as_ref().unwrap();
        assert_eq!(request.program_id.as_deref(), Some("C19"));
    }
}
