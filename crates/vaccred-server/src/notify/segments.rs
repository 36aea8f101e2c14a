//! SMS length in segments (3GPP TS 23.038 alphabets, TS 23.040 concatenation).
//!
//! A message whose characters are all in the GSM 7-bit default alphabet or its extension
//! table is sent as GSM-7: 160 septets in one segment, 153 per segment when concatenated,
//! and extension characters take two septets. Any other character switches the whole
//! message to UCS-2: 70 UTF-16 code units in one segment, 67 per concatenated segment.

/// The GSM 7-bit default alphabet, in code order.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Characters of the extension table, each sent as an escape plus one septet.
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Encoding an SMS is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmsEncoding {
    /// GSM 7-bit default alphabet.
    Gsm7,
    /// UCS-2 (UTF-16 code units).
    Ucs2,
}

/// Encoding and segment count of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SmsLength {
    pub(crate) encoding: SmsEncoding,
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    pub(crate) units: usize,
    pub(crate) segments: usize,
}

/// Measures `text` as an SMS.
pub(crate) fn measure(text: &str) -> SmsLength {
    let mut septets = 0;
    let mut gsm7 = true;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENSION.contains(c) {
            septets += 2;
        } else {
            gsm7 = false;
            break;
        }
    }
    if gsm7 {
        return SmsLength {
            encoding: SmsEncoding::Gsm7,
            units: septets,
            segments: segments(septets, 160, 153),
        };
    }
    let units = text.encode_utf16().count();
    SmsLength {
        encoding: SmsEncoding::Ucs2,
        units,
        segments: segments(units, 70, 67),
    }
}

fn segments(units: usize, single: usize, concatenated: usize) -> usize {
    if units <= single {
        1
    } else {
        units.div_ceil(concatenated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_limits() {
        let single = measure(&"a".repeat(160));
        assert_eq!(single.encoding, SmsEncoding::Gsm7);
        assert_eq!(single.segments, 1);
        assert_eq!(measure(&"a".repeat(161)).segments, 2);
        assert_eq!(measure(&"a".repeat(306)).segments, 2);
        assert_eq!(measure(&"a".repeat(307)).segments, 3);
    }

    #[test]
    fn extension_characters_count_twice() {
        let length = measure(&"€".repeat(80));
        assert_eq!(length.encoding, SmsEncoding::Gsm7);
        assert_eq!(length.units, 160);
        assert_eq!(length.segments, 1);
        assert_eq!(measure(&"[".repeat(81)).segments, 2);
    }

    #[test]
    fn ucs2_limits() {
        let single = measure(&"ā".repeat(70));
        assert_eq!(single.encoding, SmsEncoding::Ucs2);
        assert_eq!(single.segments, 1);
        assert_eq!(measure(&"ā".repeat(71)).segments, 2);
        assert_eq!(measure(&"ā".repeat(134)).segments, 2);
        assert_eq!(measure(&"ā".repeat(135)).segments, 3);
    }

    #[test]
    fn one_character_switches_to_ucs2() {
        let text = format!("{}ā", "a".repeat(100));
        let length = measure(&text);
        assert_eq!(length.encoding, SmsEncoding::Ucs2);
        assert_eq!(length.segments, 2);
    }

    #[test]
    fn surrogate_pairs_take_two_units() {
        let length = measure("💉");
        assert_eq!(length.units, 2);
    }
}
