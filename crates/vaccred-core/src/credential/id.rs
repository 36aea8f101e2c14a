//! Certificate identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Smallest identifier `CertificateId::random` returns, as DIVOC generates them.
#[cfg(not(target_arch = "wasm32"))]
const RANDOM_MIN: u32 = 100_000_000;
/// Number of identifiers in DIVOC's range 100000000..=999999999.
#[cfg(not(target_arch = "wasm32"))]
const RANDOM_SPAN: u32 = 900_000_000;

/// A certificate identifier, used as `evidence[0].certificateId` and appended to the
/// certificate, info and feedback base URLs.
///
/// DIVOC issues 9-digit decimal strings. Parsing accepts any non-empty string of ASCII
/// letters, digits and `-`, so identifiers from other issuers can be read back. Every
/// accepted identifier can be appended to a URL without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertificateId(String);

/// Error returned when a certificate identifier cannot be parsed or generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateIdError {
    /// The identifier is the empty string.
    #[error("certificate id is empty: use a string of ASCII letters, digits and '-'")]
    Empty,
    /// The identifier contains a character outside ASCII letters, digits and `-`.
    #[error(
        "certificate id {value:?} contains {character:?}: use only ASCII letters, digits and '-'"
    )]
    InvalidCharacter {
        /// The rejected identifier.
        value: String,
        /// The first character that is not allowed.
        character: char,
    },
    /// The operating system's random number generator failed.
    #[error(
        "failed to read the system random number generator: check the operating system's entropy source"
    )]
    RandomUnavailable,
}

impl CertificateId {
    /// Parses an identifier: a non-empty string of ASCII letters, digits and `-`.
    pub fn parse(value: &str) -> Result<Self, CertificateIdError> {
        if value.is_empty() {
            return Err(CertificateIdError::Empty);
        }
        let invalid = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'));
        match invalid {
            Some(character) => Err(CertificateIdError::InvalidCharacter {
                value: value.to_owned(),
                character,
            }),
            None => Ok(Self(value.to_owned())),
        }
    }

    /// Generates a DIVOC-style identifier: a uniformly distributed integer in
    /// 100000000..=999999999 from the system random number generator, as 9 decimal digits.
    ///
    /// Uses rejection sampling, so the distribution has no modulo bias.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn random() -> Result<Self, CertificateIdError> {
        use aws_lc_rs::rand::{SecureRandom, SystemRandom};

        let rng = SystemRandom::new();
        let number = sample_divoc_number(|| {
            let mut bytes = [0u8; 4];
            rng.fill(&mut bytes)
                .map_err(|_| CertificateIdError::RandomUnavailable)?;
            Ok(u32::from_le_bytes(bytes))
        })?;
        Ok(Self(number.to_string()))
    }

    /// Tests whether the identifier has DIVOC's form: 9 decimal digits, the first not `0`.
    pub fn is_divoc_format(&self) -> bool {
        let bytes = self.0.as_bytes();
        bytes.len() == 9 && bytes[0] != b'0' && bytes.iter().all(u8::is_ascii_digit)
    }

    /// Returns the identifier text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Maps uniformly distributed `u32` values onto 100000000..=999999999.
///
/// Draws below 4 × 900000000 are reduced modulo the span, and larger draws are rejected
/// and redrawn, which keeps every result equally likely. A draw is rejected with
/// probability below 0.17.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn sample_divoc_number<E>(
    mut next_u32: impl FnMut() -> Result<u32, E>,
) -> Result<u32, E> {
    let limit = (u32::MAX / RANDOM_SPAN) * RANDOM_SPAN;
    loop {
        let draw = next_u32()?;
        if draw < limit {
            return Ok(RANDOM_MIN + draw % RANDOM_SPAN);
        }
    }
}

impl FromStr for CertificateId {
    type Err = CertificateIdError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl fmt::Display for CertificateId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl AsRef<str> for CertificateId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for CertificateId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CertificateId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}
