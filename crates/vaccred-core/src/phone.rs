//! Mobile numbers in E.164 form (ITU-T E.164: `+`, country calling code and national
//! number, at most 15 digits), normalised from what vaccinators type.
//!
//! A number with a leading `+` or the region's international prefix is read as
//! international. Any other number is read as national in a configured default
//! [`Region`], with its trunk prefix removed. Spaces, hyphens, dots, slashes and
//! parentheses are separators and are dropped.

use std::fmt;

/// Numbering rules of a country whose national numbers are accepted without a `+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    iso_code: &'static str,
    calling_code: &'static str,
    international_prefix: &'static str,
    trunk_prefix: &'static str,
    national_length: usize,
    /// Length of a subscriber number dialled without its area code, which cannot be
    /// resolved when the region has several area codes.
    local_length: Option<usize>,
    /// Area codes quoted in the error for a number without one.
    area_codes: &'static [&'static str],
}

/// Returns a North American Numbering Plan region (country calling code 1): ten-digit
/// national numbers `NXX NXX XXXX` where N is 2–9, trunk prefix 1, international prefix 011.
const fn nanp(iso_code: &'static str, area_codes: &'static [&'static str]) -> Region {
    Region {
        iso_code,
        calling_code: "1",
        international_prefix: "011",
        trunk_prefix: "1",
        national_length: 10,
        local_length: Some(7),
        area_codes,
    }
}

const REGIONS: &[Region] = &[
    // Jamaica: area codes 876 and its overlay 658 (NANPA).
    nanp("JM", &["876", "658"]),
    nanp("US", &[]),
    nanp("CA", &[]),
    // India: ten-digit national numbers, trunk prefix 0 (TRAI National Numbering Plan).
    Region {
        iso_code: "IN",
        calling_code: "91",
        international_prefix: "00",
        trunk_prefix: "0",
        national_length: 10,
        local_length: None,
        area_codes: &[],
    },
];

impl Region {
    /// Returns the rules of the country with this ISO 3166-1 alpha-2 code (any case), or
    /// `None` when the code is not one of [`Region::supported_codes`].
    pub fn from_iso_code(code: &str) -> Option<Region> {
        REGIONS
            .iter()
            .find(|region| region.iso_code.eq_ignore_ascii_case(code))
            .copied()
    }

    /// Returns the ISO codes [`Region::from_iso_code`] accepts.
    pub fn supported_codes() -> impl Iterator<Item = &'static str> {
        REGIONS.iter().map(|region| region.iso_code)
    }

    /// Returns the ISO 3166-1 alpha-2 code.
    pub fn iso_code(&self) -> &'static str {
        self.iso_code
    }

    /// Returns the country calling code without `+`, such as `1`.
    pub fn calling_code(&self) -> &'static str {
        self.calling_code
    }
}

/// A mobile number in E.164 form, such as `+18765550123`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct E164(String);

impl E164 {
    /// Returns the number with its leading `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Prints only the country calling code's first digit, because a number is personal data.
impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({}…)", self.0.get(..2).unwrap_or(""))
    }
}

/// Reason a mobile number is invalid. Messages never repeat the number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// Nothing but separators.
    #[error("the mobile number is empty")]
    Empty,
    /// A character other than digits, separators and one leading `+`.
    #[error("the mobile number contains {0:?}: use digits, optionally after a leading +")]
    InvalidCharacter(char),
    /// An international number outside E.164's 8 to 15 digits, or starting with 0.
    #[error("the international mobile number has {0} digits: E.164 allows 8 to 15 after the +")]
    InvalidInternationalLength(usize),
    /// A national number of the wrong length.
    #[error(
        "the mobile number has {digits} digits: national numbers of {region} have \
         {expected}, or write it with + and the country code"
    )]
    InvalidNationalLength {
        /// Digits after separators and the trunk prefix were removed.
        digits: usize,
        /// The default region's ISO code.
        region: &'static str,
        /// The length of its national numbers.
        expected: usize,
    },
    /// A subscriber number without the area code, in a region with several.
    #[error("the mobile number lacks an area code: write it as {hint}")]
    MissingAreaCode {
        /// Example forms with the region's area codes.
        hint: String,
    },
    /// A North American number whose area code or exchange starts with 0 or 1.
    #[error(
        "the mobile number is not a valid North American number: the area code and the \
         next three digits must each start with 2 to 9"
    )]
    InvalidNanpNumber,
}

/// Normalises `input` to E.164, reading numbers without a `+` as national numbers of
/// `region`.
///
/// # Errors
///
/// A [`PhoneError`] naming the problem, without the number itself.
pub fn normalize(input: &str, region: &Region) -> Result<E164, PhoneError> {
    let (plus, digits) = strip_separators(input)?;
    if digits.is_empty() {
        return Err(PhoneError::Empty);
    }
    if plus {
        return international(&digits);
    }
    if let Some(rest) = digits.strip_prefix(region.international_prefix) {
        return international(rest);
    }
    national(&digits, region)
}

/// Returns whether the input began with `+`, and its digits.
fn strip_separators(input: &str) -> Result<(bool, String), PhoneError> {
    let trimmed = input.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '/' | '(' | ')' => {}
            other => return Err(PhoneError::InvalidCharacter(other)),
        }
    }
    Ok((plus, digits))
}

fn international(digits: &str) -> Result<E164, PhoneError> {
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(PhoneError::InvalidInternationalLength(digits.len()));
    }
    if let Some(national) = digits.strip_prefix('1') {
        check_nanp(national)?;
    }
    Ok(E164(format!("+{digits}")))
}

fn national(digits: &str, region: &Region) -> Result<E164, PhoneError> {
    let national = match digits.strip_prefix(region.trunk_prefix) {
        Some(rest) if digits.len() == region.national_length + region.trunk_prefix.len() => rest,
        _ => digits,
    };
    if region.local_length == Some(national.len()) && !region.area_codes.is_empty() {
        let hint = region
            .area_codes
            .iter()
            .map(|code| format!("+{} {code} …", region.calling_code))
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(PhoneError::MissingAreaCode { hint });
    }
    if national.len() != region.national_length || national.starts_with('0') {
        return Err(PhoneError::InvalidNationalLength {
            digits: national.len(),
            region: region.iso_code,
            expected: region.national_length,
        });
    }
    if region.calling_code == "1" {
        check_nanp(national)?;
    }
    Ok(E164(format!("+{}{national}", region.calling_code)))
}

/// Checks a North American national number: `NXX NXX XXXX` with N from 2 to 9.
fn check_nanp(national: &str) -> Result<(), PhoneError> {
    let bytes = national.as_bytes();
    let valid = bytes.len() == 10 && bytes[0] >= b'2' && bytes[3] >= b'2';
    if valid {
        Ok(())
    } else {
        Err(PhoneError::InvalidNanpNumber)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jamaica() -> Region {
        Region::from_iso_code("jm").expect("Jamaica is supported")
    }

    #[test]
    fn jamaican_national_forms() {
        for input in [
            "876-555-0123",
            "(876) 555 0123",
            "1 876 555 0123",
            "8765550123",
            "+1 876 555 0123",
            "011 1 876 555 0123",
        ] {
            let number = normalize(input, &jamaica()).expect(input);
            assert_eq!(number.as_str(), "+18765550123", "{input}");
        }
        let overlay = normalize("658 555 0123", &jamaica()).expect("overlay area code");
        assert_eq!(overlay.as_str(), "+16585550123");
    }

    #[test]
    fn seven_digits_need_area_code() {
        let error = normalize("555-0123", &jamaica()).unwrap_err();
        assert!(matches!(error, PhoneError::MissingAreaCode { .. }));
        assert!(error.to_string().contains("+1 876"), "{error}");
        assert!(error.to_string().contains("+1 658"), "{error}");
    }

    #[test]
    fn invalid_numbers_rejected() {
        let region = jamaica();
        assert_eq!(normalize("  ", &region), Err(PhoneError::Empty));
        assert_eq!(
            normalize("876x5550123", &region),
            Err(PhoneError::InvalidCharacter('x'))
        );
        assert_eq!(
            normalize("87655501234", &region),
            Err(PhoneError::InvalidNationalLength {
                digits: 11,
                region: "JM",
                expected: 10
            })
        );
        assert_eq!(
            normalize("876 155 0123", &region),
            Err(PhoneError::InvalidNanpNumber)
        );
        assert_eq!(
            normalize("+1234", &region),
            Err(PhoneError::InvalidInternationalLength(4))
        );
        assert_eq!(
            normalize("+0876555012345", &region),
            Err(PhoneError::InvalidInternationalLength(13))
        );
    }

    #[test]
    fn other_countries_international() {
        let number = normalize("+91 98804 14889", &jamaica()).expect("Indian number");
        assert_eq!(number.as_str(), "+919880414889");
        let india = Region::from_iso_code("IN").expect("India is supported");
        let national = normalize("09880414889", &india).expect("trunk prefix");
        assert_eq!(national.as_str(), "+919880414889");
    }

    #[test]
    fn debug_hides_number() {
        let number = normalize("8765550123", &jamaica()).expect("valid");
        assert_eq!(format!("{number:?}"), "E164(+1…)");
    }

    #[test]
    fn unknown_region_code() {
        assert!(Region::from_iso_code("ZZ").is_none());
        assert!(Region::supported_codes().any(|code| code == "JM"));
    }
}
