//! Single-entry ZIP container for `certificate.json`, as DIVOC puts it in a QR code.
//!
//! DIVOC's certificate_api builds the archive with JSZip: one DEFLATE entry, general
//! purpose flags 0, no extra field, no data descriptor, DOS timestamp. [`write_zip`]
//! produces the same layout (APPNOTE 6.3.x sections 4.3.7, 4.3.12 and 4.3.16).
//! [`read_zip`] accepts any ordinary non-ZIP64 archive, including entries written with
//! a data descriptor (bit 3) as Go's `archive/zip` does, and stored entries.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use time::PrimitiveDateTime;

use super::QrError;

/// Name of the archive entry that contains the signed credential.
pub const CERTIFICATE_ENTRY: &str = "certificate.json";

/// Maximum decompressed size of `certificate.json`, in bytes.
///
/// A DIVOC credential is about 2 KB, and a QR symbol stores at most 2953 bytes, so
/// anything near this limit is a zip bomb rather than a credential.
pub const MAX_CERTIFICATE_SIZE: usize = 64 * 1024;

const LOCAL_HEADER_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_HEADER_SIGNATURE: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIRECTORY_SIGNATURE: u32 = 0x0605_4b50;

const LOCAL_HEADER_LEN: usize = 30;
const CENTRAL_HEADER_LEN: usize = 46;
const END_OF_CENTRAL_DIRECTORY_LEN: usize = 22;
const MAX_COMMENT_LEN: usize = 0xFFFF;

const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;

/// Version 2.0, the minimum that APPNOTE requires for DEFLATE. JSZip writes 1.0 here,
/// which readers ignore.
const VERSION_NEEDED: u16 = 20;
/// Host system MS-DOS (high byte 0), specification version 2.0, as JSZip writes.
const VERSION_MADE_BY: u16 = 20;

const FLAG_ENCRYPTED: u16 = 0x0001;

/// Builds a ZIP archive with one DEFLATE entry named `certificate.json`.
///
/// `modified` is stored as the entry's MS-DOS date and time, so the same JSON and
/// timestamp always give the same bytes. Pass the credential's issuance time. Dates
/// before 1980 or after 2107 are clamped to the range that MS-DOS timestamps can hold,
/// and seconds are rounded down to an even number.
///
/// # Errors
///
/// Returns [`QrError::CredentialTooLarge`] if `json` is larger than
/// [`MAX_CERTIFICATE_SIZE`], because [`read_zip`] would reject such an archive.
pub fn write_zip(json: &[u8], modified: PrimitiveDateTime) -> Result<Vec<u8>, QrError> {
    if json.len() > MAX_CERTIFICATE_SIZE {
        return Err(QrError::CredentialTooLarge {
            max: MAX_CERTIFICATE_SIZE,
        });
    }
    let compressed = deflate(json)?;
    let (dos_time, dos_date) = dos_timestamp(modified);
    let name = CERTIFICATE_ENTRY.as_bytes();

    // All sizes fit in u32 and u16 because json is at most 64 KiB, DEFLATE expands
    // incompressible data by at most 5 bytes per 16 KiB block, and the name is fixed.
    let entry = EntryFields {
        dos_time,
        dos_date,
        crc32: crc32fast::hash(json),
        compressed_size: to_u32(compressed.len())?,
        uncompressed_size: to_u32(json.len())?,
        name_len: u16::try_from(name.len()).map_err(|_| too_large())?,
    };

    let mut out = Vec::with_capacity(compressed.len() + 2 * name.len() + 128);

    put_u32(&mut out, LOCAL_HEADER_SIGNATURE);
    put_u16(&mut out, VERSION_NEEDED);
    entry.put_common_fields(&mut out);
    out.extend_from_slice(name);
    out.extend_from_slice(&compressed);

    let central_directory_offset = to_u32(out.len())?;
    put_u32(&mut out, CENTRAL_HEADER_SIGNATURE);
    put_u16(&mut out, VERSION_MADE_BY);
    put_u16(&mut out, VERSION_NEEDED);
    entry.put_common_fields(&mut out);
    put_u16(&mut out, 0); // file comment length
    put_u16(&mut out, 0); // disk number start
    put_u16(&mut out, 0); // internal file attributes
    put_u32(&mut out, 0); // external file attributes
    put_u32(&mut out, 0); // offset of the local header
    out.extend_from_slice(name);
    let central_directory_size = to_u32(out.len())? - central_directory_offset;

    put_u32(&mut out, END_OF_CENTRAL_DIRECTORY_SIGNATURE);
    put_u16(&mut out, 0); // number of this disk
    put_u16(&mut out, 0); // disk where the central directory starts
    put_u16(&mut out, 1); // entries on this disk
    put_u16(&mut out, 1); // entries in total
    put_u32(&mut out, central_directory_size);
    put_u32(&mut out, central_directory_offset);
    put_u16(&mut out, 0); // comment length

    Ok(out)
}

/// Extracts `certificate.json` from a ZIP archive and checks its CRC-32.
///
/// The entry is looked up by exact name in the central directory, so other entries
/// and their order do not matter. Stored and DEFLATE entries are accepted.
///
/// # Errors
///
/// - [`QrError::InvalidZip`] if the archive is truncated or malformed, uses ZIP64,
///   encryption or another compression method, or the CRC-32 or size does not match.
/// - [`QrError::EntryNotFound`] if the archive has no `certificate.json`.
/// - [`QrError::CredentialTooLarge`] if the entry inflates to more than
///   [`MAX_CERTIFICATE_SIZE`] bytes.
pub fn read_zip(zip: &[u8]) -> Result<Vec<u8>, QrError> {
    let end = find_end_of_central_directory(zip)?;
    let entry = find_central_entry(zip, &end, CERTIFICATE_ENTRY.as_bytes())?;

    if entry.flags & FLAG_ENCRYPTED != 0 {
        return Err(invalid("certificate.json is encrypted"));
    }
    if entry.compressed_size == u32::MAX || entry.uncompressed_size == u32::MAX {
        return Err(invalid("ZIP64 entries are not supported"));
    }
    if usize::try_from(entry.uncompressed_size).map_or(true, |n| n > MAX_CERTIFICATE_SIZE) {
        return Err(QrError::CredentialTooLarge {
            max: MAX_CERTIFICATE_SIZE,
        });
    }

    let data = entry_data(zip, &entry)?;
    let json = match entry.method {
        METHOD_STORED => data.to_vec(),
        METHOD_DEFLATE => inflate_limited(data)?,
        method => {
            return Err(QrError::InvalidZip {
                reason: format!("unsupported compression method {method}"),
            });
        }
    };

    if usize::try_from(entry.uncompressed_size).ok() != Some(json.len()) {
        return Err(QrError::InvalidZip {
            reason: format!(
                "certificate.json is {} bytes but the central directory records {}",
                json.len(),
                entry.uncompressed_size
            ),
        });
    }
    if crc32fast::hash(&json) != entry.crc32 {
        return Err(invalid("CRC-32 of certificate.json does not match"));
    }
    Ok(json)
}

/// Fields that the local header and the central directory header share, from
/// "general purpose bit flag" through "extra field length".
struct EntryFields {
    dos_time: u16,
    dos_date: u16,
    crc32: u32,
    compressed_size: u32,
    uncompressed_size: u32,
    name_len: u16,
}

impl EntryFields {
    fn put_common_fields(&self, out: &mut Vec<u8>) {
        put_u16(out, 0); // general purpose bit flag
        put_u16(out, METHOD_DEFLATE);
        put_u16(out, self.dos_time);
        put_u16(out, self.dos_date);
        put_u32(out, self.crc32);
        put_u32(out, self.compressed_size);
        put_u32(out, self.uncompressed_size);
        put_u16(out, self.name_len);
        put_u16(out, 0); // extra field length
    }
}

/// Location of the central directory, from the end of central directory record.
struct EndOfCentralDirectory {
    entries: u16,
    offset: usize,
    size: usize,
}

/// Central directory fields that [`read_zip`] uses for one entry.
struct CentralEntry {
    flags: u16,
    method: u16,
    crc32: u32,
    compressed_size: u32,
    uncompressed_size: u32,
    local_header_offset: usize,
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, QrError> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map_err(|err| QrError::InvalidZip {
            reason: format!("DEFLATE compression failed: {err}"),
        })
}

/// Inflates a raw DEFLATE stream, stopping one byte past the size limit.
fn inflate_limited(data: &[u8]) -> Result<Vec<u8>, QrError> {
    let limit = u64::try_from(MAX_CERTIFICATE_SIZE).unwrap_or(u64::MAX);
    let mut json = Vec::new();
    DeflateDecoder::new(data)
        .take(limit.saturating_add(1))
        .read_to_end(&mut json)
        .map_err(|err| QrError::InvalidZip {
            reason: format!("invalid DEFLATE data in certificate.json: {err}"),
        })?;
    if json.len() > MAX_CERTIFICATE_SIZE {
        return Err(QrError::CredentialTooLarge {
            max: MAX_CERTIFICATE_SIZE,
        });
    }
    Ok(json)
}

fn find_end_of_central_directory(zip: &[u8]) -> Result<EndOfCentralDirectory, QrError> {
    if zip.len() < END_OF_CENTRAL_DIRECTORY_LEN {
        return Err(invalid(
            "archive is shorter than an end of central directory record",
        ));
    }
    // The record is the last thing in the archive apart from a comment of up to
    // 65535 bytes, so scan backwards from the last position where it fits.
    let last = zip.len() - END_OF_CENTRAL_DIRECTORY_LEN;
    let first = last.saturating_sub(MAX_COMMENT_LEN);
    let position = (first..=last)
        .rev()
        .find(|&pos| read_u32(zip, pos) == Some(END_OF_CENTRAL_DIRECTORY_SIGNATURE))
        .ok_or_else(|| invalid("end of central directory record not found"))?;

    let field = |offset: usize| read_u16(zip, position + offset).ok_or_else(truncated);
    let wide_field = |offset: usize| read_u32(zip, position + offset).ok_or_else(truncated);
    let this_disk = field(4)?;
    let directory_disk = field(6)?;
    let entries_on_disk = field(8)?;
    let entries = field(10)?;
    let size = wide_field(12)?;
    let offset = wide_field(16)?;

    if this_disk != 0 || directory_disk != 0 || entries_on_disk != entries {
        return Err(invalid("multi-disk archives are not supported"));
    }
    if entries == u16::MAX || size == u32::MAX || offset == u32::MAX {
        return Err(invalid("ZIP64 archives are not supported"));
    }
    Ok(EndOfCentralDirectory {
        entries,
        offset: to_usize(offset)?,
        size: to_usize(size)?,
    })
}

fn find_central_entry(
    zip: &[u8],
    end: &EndOfCentralDirectory,
    name: &[u8],
) -> Result<CentralEntry, QrError> {
    let directory_end = end
        .offset
        .checked_add(end.size)
        .filter(|&directory_end| directory_end <= zip.len())
        .ok_or_else(|| invalid("central directory lies outside the archive"))?;

    let mut position = end.offset;
    for _ in 0..end.entries {
        let header = zip
            .get(position..directory_end)
            .filter(|header| header.len() >= CENTRAL_HEADER_LEN)
            .ok_or_else(truncated)?;
        if read_u32(header, 0) != Some(CENTRAL_HEADER_SIGNATURE) {
            return Err(invalid("central directory header signature not found"));
        }
        let field = |offset: usize| read_u16(header, offset).ok_or_else(truncated);
        let wide_field = |offset: usize| read_u32(header, offset).ok_or_else(truncated);
        let name_len = usize::from(field(28)?);
        let extra_len = usize::from(field(30)?);
        let comment_len = usize::from(field(32)?);
        let entry_name = header
            .get(CENTRAL_HEADER_LEN..CENTRAL_HEADER_LEN + name_len)
            .ok_or_else(truncated)?;

        if entry_name == name {
            return Ok(CentralEntry {
                flags: field(8)?,
                method: field(10)?,
                crc32: wide_field(16)?,
                compressed_size: wide_field(20)?,
                uncompressed_size: wide_field(24)?,
                local_header_offset: to_usize(wide_field(42)?)?,
            });
        }
        position += CENTRAL_HEADER_LEN + name_len + extra_len + comment_len;
    }
    Err(QrError::EntryNotFound)
}

/// Returns the compressed bytes of an entry, located through its local header.
fn entry_data<'a>(zip: &'a [u8], entry: &CentralEntry) -> Result<&'a [u8], QrError> {
    let header_start = entry.local_header_offset;
    if read_u32(zip, header_start) != Some(LOCAL_HEADER_SIGNATURE) {
        return Err(invalid("local file header signature not found"));
    }
    // The local header's own name and extra field lengths decide where the data
    // starts. They may differ from the central directory's (Go writes an extra field
    // only in one of them for some entries).
    let name_len = read_u16(zip, header_start + 26).ok_or_else(truncated)?;
    let extra_len = read_u16(zip, header_start + 28).ok_or_else(truncated)?;
    let data_start =
        header_start + LOCAL_HEADER_LEN + usize::from(name_len) + usize::from(extra_len);
    let data_end = data_start
        .checked_add(to_usize(entry.compressed_size)?)
        .ok_or_else(truncated)?;
    zip.get(data_start..data_end).ok_or_else(truncated)
}

/// Converts a wall-clock time to MS-DOS (time, date) fields.
fn dos_timestamp(modified: PrimitiveDateTime) -> (u16, u16) {
    let year = modified.year();
    if year < 1980 {
        return (0, dos_date_fields(1980, 1, 1));
    }
    if year > 2107 {
        return (dos_time_fields(23, 59, 58), dos_date_fields(2107, 12, 31));
    }
    let time = dos_time_fields(modified.hour(), modified.minute(), modified.second());
    let date = dos_date_fields(year, u8::from(modified.month()), modified.day());
    (time, date)
}

fn dos_time_fields(hour: u8, minute: u8, second: u8) -> u16 {
    (u16::from(hour) << 11) | (u16::from(minute) << 5) | u16::from(second / 2)
}

/// Packs a date whose year the caller has checked to be in 1980..=2107.
fn dos_date_fields(year: i32, month: u8, day: u8) -> u16 {
    let years_since_1980 = u16::try_from(year - 1980).unwrap_or(0);
    (years_since_1980 << 9) | (u16::from(month) << 5) | u16::from(day)
}

fn read_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    let field = bytes.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_le_bytes(field.try_into().ok()?))
}

fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let field = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes(field.try_into().ok()?))
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn to_u32(len: usize) -> Result<u32, QrError> {
    u32::try_from(len).map_err(|_| too_large())
}

fn to_usize(value: u32) -> Result<usize, QrError> {
    usize::try_from(value).map_err(|_| truncated())
}

fn too_large() -> QrError {
    QrError::CredentialTooLarge {
        max: MAX_CERTIFICATE_SIZE,
    }
}

fn invalid(reason: &str) -> QrError {
    QrError::InvalidZip {
        reason: reason.to_owned(),
    }
}

fn truncated() -> QrError {
    invalid("archive is truncated")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const ED25519_JSON: &[u8] = include_bytes!("../../tests/fixtures/qr/credential-ed25519.json");
    const ISSUED: PrimitiveDateTime = datetime!(2021-08-24 09:13:04);

    fn zip_of(json: &[u8]) -> Vec<u8> {
        write_zip(json, ISSUED).expect("writing a small archive succeeds")
    }

    #[test]
    fn round_trip_returns_same_json() {
        let zip = zip_of(ED25519_JSON);
        assert_eq!(read_zip(&zip).expect("archive is readable"), ED25519_JSON);
    }

    #[test]
    fn writer_output_is_deterministic() {
        assert_eq!(zip_of(ED25519_JSON), zip_of(ED25519_JSON));
        let later = write_zip(ED25519_JSON, datetime!(2021-08-24 09:13:06)).expect("writes");
        assert_ne!(
            zip_of(ED25519_JSON),
            later,
            "timestamp must change the bytes"
        );
    }

    #[test]
    fn writer_layout_matches_jszip() {
        let zip = zip_of(b"{}");
        assert_eq!(read_u32(&zip, 0), Some(LOCAL_HEADER_SIGNATURE));
        assert_eq!(read_u16(&zip, 6), Some(0), "general purpose flags");
        assert_eq!(read_u16(&zip, 8), Some(METHOD_DEFLATE));
        // 09:13:04 on 2021-08-24.
        assert_eq!(read_u16(&zip, 10), Some((9 << 11) | (13 << 5) | 2));
        assert_eq!(read_u16(&zip, 12), Some((41 << 9) | (8 << 5) | 24));
        assert_eq!(read_u16(&zip, 28), Some(0), "extra field length");
        assert_eq!(&zip[30..46], CERTIFICATE_ENTRY.as_bytes());
        let end = zip.len() - END_OF_CENTRAL_DIRECTORY_LEN;
        assert_eq!(
            read_u32(&zip, end),
            Some(END_OF_CENTRAL_DIRECTORY_SIGNATURE)
        );
        assert_eq!(read_u16(&zip, end + 10), Some(1), "entry count");
    }

    #[test]
    fn dos_timestamp_clamps_out_of_range_years() {
        assert_eq!(
            dos_timestamp(datetime!(1970-01-01 00:00:00)),
            (0, (1 << 5) | 1)
        );
        let (time, date) = dos_timestamp(datetime!(2200-06-01 12:00:00));
        assert_eq!(date, (127 << 9) | (12 << 5) | 31);
        assert_eq!(time, (23 << 11) | (59 << 5) | 29);
    }

    /// Builds an archive the way Go's `archive/zip` does by default: bit 3 set, zero
    /// CRC and sizes in the local header, a data descriptor after the data, and a
    /// second entry before the certificate.
    fn go_style_zip(json: &[u8], method: u16) -> Vec<u8> {
        let data = if method == METHOD_STORED {
            json.to_vec()
        } else {
            deflate(json).expect("deflate succeeds")
        };
        let crc = crc32fast::hash(json);
        let mut out = Vec::new();
        let mut central = Vec::new();
        let entries: [(&[u8], &[u8], u32, usize); 2] = [
            (b"README.txt", b"hello", crc32fast::hash(b"hello"), 5),
            (CERTIFICATE_ENTRY.as_bytes(), &data, crc, json.len()),
        ];
        for (name, body, entry_crc, size) in entries {
            let this_method = if name == b"README.txt" {
                METHOD_STORED
            } else {
                method
            };
            let offset = out.len() as u32;
            put_u32(&mut out, LOCAL_HEADER_SIGNATURE);
            put_u16(&mut out, 20);
            put_u16(&mut out, 0x0808); // data descriptor and UTF-8 names
            put_u16(&mut out, this_method);
            put_u32(&mut out, 0); // time and date
            put_u32(&mut out, 0);
            put_u32(&mut out, 0);
            put_u32(&mut out, 0);
            put_u16(&mut out, name.len() as u16);
            put_u16(&mut out, 0);
            out.extend_from_slice(name);
            out.extend_from_slice(body);
            put_u32(&mut out, 0x0807_4b50);
            put_u32(&mut out, entry_crc);
            put_u32(&mut out, body.len() as u32);
            put_u32(&mut out, size as u32);

            put_u32(&mut central, CENTRAL_HEADER_SIGNATURE);
            put_u16(&mut central, 20);
            put_u16(&mut central, 20);
            put_u16(&mut central, 0x0808);
            put_u16(&mut central, this_method);
            put_u32(&mut central, 0);
            put_u32(&mut central, entry_crc);
            put_u32(&mut central, body.len() as u32);
            put_u32(&mut central, size as u32);
            put_u16(&mut central, name.len() as u16);
            put_u16(&mut central, 9); // extended timestamp extra field
            put_u16(&mut central, 0);
            put_u16(&mut central, 0);
            put_u16(&mut central, 0);
            put_u32(&mut central, 0);
            put_u32(&mut central, offset);
            central.extend_from_slice(name);
            central.extend_from_slice(&[0x55, 0x54, 5, 0, 1, 0, 0, 0, 0]);
        }
        let central_offset = out.len() as u32;
        out.extend_from_slice(&central);
        put_u32(&mut out, END_OF_CENTRAL_DIRECTORY_SIGNATURE);
        put_u32(&mut out, 0);
        put_u16(&mut out, 2);
        put_u16(&mut out, 2);
        put_u32(&mut out, central.len() as u32);
        put_u32(&mut out, central_offset);
        put_u16(&mut out, 0);
        out
    }

    #[test]
    fn reader_accepts_data_descriptor_entries() {
        for method in [METHOD_STORED, METHOD_DEFLATE] {
            let zip = go_style_zip(ED25519_JSON, method);
            assert_eq!(
                read_zip(&zip).expect("readable"),
                ED25519_JSON,
                "method {method}"
            );
        }
    }

    #[test]
    fn reader_accepts_archive_comment() {
        let mut zip = zip_of(ED25519_JSON);
        let end = zip.len() - END_OF_CENTRAL_DIRECTORY_LEN;
        zip[end + 20..end + 22].copy_from_slice(&7u16.to_le_bytes());
        zip.extend_from_slice(b"comment");
        assert_eq!(read_zip(&zip).expect("readable"), ED25519_JSON);
    }

    #[test]
    fn reader_rejects_zip_bomb() {
        // 10 MB of spaces deflates to about 10 KB, and the declared size is honest.
        let bomb = vec![b' '; 10 * 1024 * 1024];
        let mut zip = go_style_zip(&bomb, METHOD_DEFLATE);
        assert!(matches!(
            read_zip(&zip),
            Err(QrError::CredentialTooLarge { .. })
        ));

        // The same archive with a small size in the central directory still stops
        // at the limit while inflating.
        let end = zip.len() - END_OF_CENTRAL_DIRECTORY_LEN;
        let central_offset = read_u32(&zip, end + 16).expect("offset") as usize;
        let second = central_offset + CENTRAL_HEADER_LEN + 10 + 9;
        zip[second + 24..second + 28].copy_from_slice(&100u32.to_le_bytes());
        assert!(matches!(
            read_zip(&zip),
            Err(QrError::CredentialTooLarge { .. })
        ));
    }

    #[test]
    fn reader_rejects_bad_crc() {
        let mut zip = zip_of(ED25519_JSON);
        let end = zip.len() - END_OF_CENTRAL_DIRECTORY_LEN;
        let central_offset = read_u32(&zip, end + 16).expect("offset") as usize;
        zip[central_offset + 16] ^= 0xFF;
        assert!(matches!(read_zip(&zip), Err(QrError::InvalidZip { .. })));
    }

    #[test]
    fn reader_reports_missing_entry() {
        let mut zip = zip_of(ED25519_JSON);
        let end = zip.len() - END_OF_CENTRAL_DIRECTORY_LEN;
        let central_offset = read_u32(&zip, end + 16).expect("offset") as usize;
        zip[central_offset + CENTRAL_HEADER_LEN] = b'C';
        assert!(matches!(read_zip(&zip), Err(QrError::EntryNotFound)));
    }

    #[test]
    fn reader_rejects_every_truncation() {
        let zip = zip_of(ED25519_JSON);
        for len in 0..zip.len() {
            assert!(read_zip(&zip[..len]).is_err(), "prefix of {len} bytes");
        }
    }

    #[test]
    fn reader_survives_single_byte_corruption() {
        let zip = zip_of(ED25519_JSON);
        for index in 0..zip.len() {
            for value in [0x00, 0x7F, 0xFF] {
                let mut corrupted = zip.clone();
                corrupted[index] = value;
                // Any result is fine as long as nothing panics.
                let _ = read_zip(&corrupted);
            }
        }
    }

    #[test]
    fn python_zipfile_reads_writer_output() {
        let Ok(python) = std::process::Command::new("python3")
            .arg("--version")
            .output()
        else {
            eprintln!("skipped: python3 is not installed");
            return;
        };
        if !python.status.success() {
            eprintln!("skipped: python3 --version failed");
            return;
        }
        let path = std::env::temp_dir().join(format!("vaccred-qr-{}.zip", std::process::id()));
        std::fs::write(&path, zip_of(ED25519_JSON)).expect("temporary file is writable");
        let script = "import sys, zipfile\n\
                      z = zipfile.ZipFile(sys.argv[1])\n\
                      assert z.testzip() is None\n\
                      assert z.namelist() == ['certificate.json'], z.namelist()\n\
                      sys.stdout.buffer.write(z.read('certificate.json'))\n";
        let output = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .expect("python3 runs");
        let _ = std::fs::remove_file(&path);
        assert!(
            output.status.success(),
            "python3 zipfile failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stdout, ED25519_JSON);
    }
}
