//! JSON numbers as RDF literals, formatted the way jsonld.js 2.0.2 formats them.
//!
//! jsonld.js decides between `xsd:integer` and `xsd:double` by JavaScript's
//! `Number.prototype.toString`: a number is a double when that string contains a `.`.
//! Integers are written with `toFixed(0)`. So `2.0` is the integer 2, `1.5e-7` is a double,
//! `1e-7` is the integer "0" and `1e21` the integer "1e+21".

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
    } else if value.abs() >= 1e21 {
        // toFixed falls back to toString here, which has one digit before the exponent.
        (js_number_to_string(value), XSD_INTEGER)
    } else if value == 0.0 {
        // Negative zero too: JavaScript's toFixed treats -0 as not negative.
        ("0".to_owned(), XSD_INTEGER)
    } else {
        (format!("{value:.0}"), XSD_INTEGER)
    }
}

/// Whether JavaScript's `String(value)` contains a `.`.
fn is_js_double(value: f64) -> bool {
    if value == 0.0 || (value.fract() == 0.0 && value.abs() < 1e21) {
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
            (1e21, "1e+21", XSD_INTEGER),
            (1.5e21, "1.5E21", XSD_DOUBLE),
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

/// JavaScript's `Number.prototype.toString` for finite numbers (ECMAScript Number::toString):
/// shortest round-trip digits, in fixed notation from 1e-6 up to 1e21, otherwise `d.ddde±x`.
pub(crate) fn js_number_to_string(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN"
        } else if value > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .to_owned();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    let n = exponent.parse::<i64>().unwrap_or(0) + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let exponent = n - 1;
        let exponent_sign = if exponent < 0 { "-" } else { "+" };
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        format!("{first}{fraction}e{exponent_sign}{}", exponent.abs())
    };
    format!("{sign}{body}")
}

/// JavaScript's `parseFloat`: the longest numeric prefix after leading whitespace, or NaN.
pub(crate) fn js_parse_float(text: &str) -> f64 {
    let text = text.trim_start();
    let (sign, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    if unsigned.starts_with("Infinity") {
        return sign * f64::INFINITY;
    }
    let bytes = unsigned.as_bytes();
    let mut end = 0;
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    end += digits(end);
    let mut mantissa_digits = end;
    if bytes.get(end) == Some(&b'.') {
        let fraction = digits(end + 1);
        mantissa_digits += fraction;
        end += 1 + fraction;
    }
    if mantissa_digits == 0 {
        return f64::NAN;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut cursor = end + 1;
        if matches!(bytes.get(cursor), Some(b'+' | b'-')) {
            cursor += 1;
        }
        let exponent_digits = digits(cursor);
        if exponent_digits > 0 {
            end = cursor + exponent_digits;
        }
    }
    let prefix = unsigned[..end].trim_end_matches('.');
    sign * prefix.parse::<f64>().unwrap_or(f64::NAN)
}

/// The lexical form jsonld.js gives an `xsd:double` made from any number, including NaN.
pub(crate) fn double_lexical(value: f64) -> String {
    if value.is_finite() {
        canonical_double(value)
    } else {
        js_number_to_string(value)
    }
}

#[cfg(test)]
mod js_tests {
    use super::*;

    #[test]
    fn number_to_string_like_javascript() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (-2.5, "-2.5"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (123456789.125, "123456789.125"),
            (1e20, "100000000000000000000"),
        ];
        for &(value, expected) in cases {
            assert_eq!(js_number_to_string(value), expected, "{value}");
        }
    }

    #[test]
    fn parse_float_like_javascript() {
        assert_eq!(js_parse_float(" 5abc"), 5.0);
        assert_eq!(js_parse_float("-1.5e3x"), -1500.0);
        assert_eq!(js_parse_float(".5"), 0.5);
        assert_eq!(js_parse_float("1e"), 1.0);
        assert!(js_parse_float("abc").is_nan());
        assert!(js_parse_float(".").is_nan());
    }
}
