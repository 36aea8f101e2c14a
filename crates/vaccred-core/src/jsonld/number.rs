//! JSON numbers as RDF literals, formatted the way jsonld.js 2.0.2 formats them.
//!
//! jsonld.js decides between `xsd:integer` and `xsd:double` by JavaScript's
//! `Number.prototype.toString`: a number is a double when that string contains a `.` or the
//! magnitude is at least 1e21. So `2.0` is the integer 2, while `1.5e-7` is a double and
//! `1e-7` is the integer "0".

/// `xsd:integer`.
pub(crate) const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
/// `xsd:double`.
pub(crate) const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";
/// `xsd:boolean`.
pub(crate) const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";

/// Returns the lexical form and default datatype of a JSON number.
pub(crate) fn number_literal(value: f64, datatype: Option<&str>) -> (String, &'static str) {
    if is_js_double(value) || datatype == Some(XSD_DOUBLE) {
        (canonical_double(value), XSD_DOUBLE)
    } else if value == 0.0 {
        // Negative zero too: JavaScript's toFixed treats -0 as not negative.
        ("0".to_owned(), XSD_INTEGER)
    } else {
        (format!("{value:.0}"), XSD_INTEGER)
    }
}

/// Whether JavaScript's `String(value)` contains a `.`, or `|value| >= 1e21`.
fn is_js_double(value: f64) -> bool {
    if value.abs() >= 1e21 {
        return true;
    }
    if value == 0.0 || value.fract() == 0.0 {
        return false;
    }
    // Shortest round-trip digits, as JavaScript's toString uses: "d.ddde-x" or "de-x".
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits = mantissa.chars().filter(char::is_ascii_digit).count() as i64;
    let point = exponent.parse::<i64>().unwrap_or(0) + 1;
    if 0 < point && point <= 21 {
        digits > point
    } else if -6 < point && point <= 0 {
        true
    } else {
        digits > 1
    }
}

/// `value.toExponential(15)` with trailing mantissa zeros removed (one kept after the point)
/// and no `+` in the exponent, e.g. `2.5E0`, `1.0E21`, `1.5E-7`.
fn canonical_double(value: f64) -> String {
    let scientific = format!("{value:.15e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let mut mantissa = mantissa.trim_end_matches('0').to_owned();
    if mantissa.ends_with('.') {
        mantissa.push('0');
    }
    format!("{mantissa}E{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_doubles() {
        let cases: &[(f64, &str, &str)] = &[
            (1.0, "1", XSD_INTEGER),
            (2.0, "2", XSD_INTEGER),
            (-0.0, "0", XSD_INTEGER),
            (-1e-7, "-0", XSD_INTEGER),
            (2.5, "2.5E0", XSD_DOUBLE),
            (0.1, "1.0E-1", XSD_DOUBLE),
            (1e21, "1.0E21", XSD_DOUBLE),
            (1.5e-7, "1.5E-7", XSD_DOUBLE),
            (1e-7, "0", XSD_INTEGER),
            (1e20, "100000000000000000000", XSD_INTEGER),
            (12345678901234567890.0, "12345678901234567168", XSD_INTEGER),
            (1.234_567_890_123_456_7, "1.234567890123457E0", XSD_DOUBLE),
        ];
        for &(value, lexical, datatype) in cases {
            assert_eq!(
                number_literal(value, None),
                (lexical.to_owned(), datatype),
                "{value}"
            );
        }
    }
}
