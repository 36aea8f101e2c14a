//! The QR code as the files templates read: a one-page PDF holding a 1-bit image, and
//! 8-bit grey pixels.
//!
//! The PDF form goes into the certificate as it is: its image stream is 1 bit per module
//! and needs no compression, so a page costs no image encoding. The grey pixels are for
//! templates that lay the code out as a raw image; the PDF writer compresses those.

use std::fmt::Write as _;

use vaccred_core::qr::{QUIET_ZONE_MODULES, QrSymbol};

/// Returns the number of modules on each side of the symbol with its quiet zone.
pub(crate) fn side(symbol: &QrSymbol) -> usize {
    symbol.width() + 2 * QUIET_ZONE_MODULES
}

/// Calls `light(x, y)` for each light module of the symbol with its quiet zone, `x` and
/// `y` counted from the top left corner of the quiet zone.
fn for_each_light(symbol: &QrSymbol, mut light: impl FnMut(usize, usize)) {
    let side = side(symbol);
    let width = symbol.width();
    for y in 0..side {
        let row = y
            .checked_sub(QUIET_ZONE_MODULES)
            .filter(|&row| row < width)
            .map(|row| &symbol.modules()[row * width..(row + 1) * width]);
        for x in 0..side {
            let dark = row
                .zip(x.checked_sub(QUIET_ZONE_MODULES))
                .and_then(|(row, column)| row.get(column))
                .copied()
                .unwrap_or(false);
            if !dark {
                light(x, y);
            }
        }
    }
}

/// Returns one byte per module with the quiet zone, row by row: 0 for dark, 255 for light.
pub(crate) fn luma(symbol: &QrSymbol) -> Vec<u8> {
    let side = side(symbol);
    let mut pixels = vec![0; side * side];
    for_each_light(symbol, |x, y| pixels[y * side + x] = 255);
    pixels
}

/// Builds a one-page PDF 1.7 file, one unit per module with the quiet zone, that draws
/// the symbol as a DeviceGray image of 1 bit per component (1 is light) without smoothing.
pub(crate) fn pdf(symbol: &QrSymbol) -> Vec<u8> {
    let side = side(symbol);
    let row_bytes = side.div_ceil(8);
    let mut image = vec![0u8; row_bytes * side];
    for_each_light(symbol, |x, y| {
        image[y * row_bytes + x / 8] |= 0x80 >> (x % 8)
    });
    let content = format!("q {side} 0 0 {side} 0 0 cm /Q Do Q");

    let mut out: Vec<u8> = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(5);
    let mut object = |out: &mut Vec<u8>, header: String, stream: Option<&[u8]>| {
        offsets.push(out.len());
        let number = offsets.len();
        out.extend_from_slice(format!("{number} 0 obj\n{header}\n").as_bytes());
        if let Some(stream) = stream {
            out.extend_from_slice(b"stream\n");
            out.extend_from_slice(stream);
            out.extend_from_slice(b"\nendstream\n");
        }
        out.extend_from_slice(b"endobj\n");
    };
    object(&mut out, "<< /Type /Catalog /Pages 2 0 R >>".into(), None);
    object(
        &mut out,
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        None,
    );
    object(
        &mut out,
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {side} {side}] \
             /Resources << /XObject << /Q 5 0 R >> >> /Contents 4 0 R >>"
        ),
        None,
    );
    object(
        &mut out,
        format!("<< /Length {} >>", content.len()),
        Some(content.as_bytes()),
    );
    object(
        &mut out,
        format!(
            "<< /Type /XObject /Subtype /Image /Width {side} /Height {side} \
             /ColorSpace /DeviceGray /BitsPerComponent 1 /Interpolate false /Length {} >>",
            image.len()
        ),
        Some(&image),
    );
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for offset in &offsets {
        // `fmt::Write` for String never returns an error.
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use vaccred_core::qr::QrEncoding;

    use super::*;

    #[test]
    fn pdf_cross_reference_points_at_each_object() {
        let symbol = QrSymbol::encode(b"hello", QrEncoding::Raw).expect("fits");
        let pdf = pdf(&symbol);
        let find = |needle: &[u8]| {
            pdf.windows(needle.len())
                .rposition(|window| window == needle)
                .expect("present")
        };
        let xref = find(b"\nxref\n") + 1;

        // The cross-reference table and the trailer are ASCII.
        let tail = std::str::from_utf8(&pdf[xref..]).expect("ASCII");
        let start: usize = tail
            .split("startxref\n")
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .and_then(|line| line.parse().ok())
            .expect("startxref");
        assert_eq!(start, xref);

        for (number, line) in tail.lines().skip(3).take(5).enumerate() {
            assert_eq!(line.len(), 19, "entries are 20 bytes with the newline");
            let offset: usize = line[..10].parse().expect("offset");
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj\n", number + 1).as_bytes()),
                "object {}",
                number + 1
            );
        }
        let header = String::from_utf8_lossy(&pdf[..find(b"stream\n")]);
        // 21 modules and 8 of quiet zone: 29 pixels, 4 bytes a row.
        assert!(header.contains("/Width 29 /Height 29"), "{header}");
        assert!(header.contains("/Length 116 >>"), "{header}");
    }
}
