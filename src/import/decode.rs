//! Turning the bytes of a CSV export into text and finding its delimiter.
//!
//! Exports come from spreadsheets and CRMs in whatever encoding the machine used: UTF-8
//! with or without a byte-order mark, UTF-16 (Excel's "Unicode text"), or Windows-1252
//! (Excel on Windows, most European CRMs). The encoding is detected from the BOM or from
//! whether the bytes are valid UTF-8; the delimiter from the header and first lines.

use std::fmt;
use std::str::FromStr;

/// A text encoding of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (a leading byte-order mark is removed).
    Utf8,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// Windows-1252, a superset of ISO-8859-1 (Latin-1) in the printable range.
    Windows1252,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Windows1252 => "windows-1252",
        })
    }
}

impl FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "utf-16le" | "utf-16" | "utf16" | "utf16le" => Ok(Encoding::Utf16Le),
            "utf-16be" | "utf16be" => Ok(Encoding::Utf16Be),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => {
                Ok(Encoding::Windows1252)
            }
            _ => Err(format!(
                "unknown encoding '{s}' (expected utf-8, utf-16le, utf-16be, windows-1252 or latin1)"
            )),
        }
    }
}

/// Characters of Windows-1252 bytes 0x80–0x9F (the rest of the code page is Latin-1);
/// the five unassigned bytes decode to U+FFFD.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
    '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{FFFD}',
    'ž', 'Ÿ',
];

fn utf16(bytes: &[u8], little: bool) -> Result<String, String> {
    if bytes.len() % 2 == 1 {
        return Err("UTF-16 text has an odd number of bytes (truncated file?)".into());
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| {
            if little {
                u16::from_le_bytes([p[0], p[1]])
            } else {
                u16::from_be_bytes([p[0], p[1]])
            }
        })
        .collect();
    String::from_utf16(&units).map_err(|e| format!("invalid UTF-16 text ({e})"))
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Whether `bytes` hold at least one well-formed multi-byte UTF-8 character (a lead
/// byte followed by its continuation bytes, forming a valid scalar).
fn has_utf8_multibyte(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        let len = match bytes[i] {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => {
                i += 1;
                continue;
            }
        };
        if let Some(chunk) = bytes.get(i..i + len)
            && std::str::from_utf8(chunk).is_ok()
        {
            return true;
        }
        i += 1;
    }
    false
}

/// The content of a gzip-compressed file (recognised by its magic bytes `1f 8b`, so a
/// `.csv.gz` imports like the `.csv` it holds), or `bytes` unchanged.
pub fn gunzip(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    use std::io::Read;
    if !bytes.starts_with(&[0x1F, 0x8B]) {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| format!("not a readable gzip file: {e}"))?;
    Ok(out)
}

/// Decodes `bytes` with the `forced` encoding, or with the detected one. Returns the
/// text (without byte-order mark) and the encoding used.
pub fn decode(bytes: &[u8], forced: Option<Encoding>) -> Result<(String, Encoding), String> {
    let encoding = match forced {
        Some(e) => e,
        None if bytes.starts_with(&[0xFF, 0xFE]) => Encoding::Utf16Le,
        None if bytes.starts_with(&[0xFE, 0xFF]) => Encoding::Utf16Be,
        None if bytes.len() >= 4 && bytes[1] == 0 && bytes[3] == 0 && bytes[0] != 0 => {
            Encoding::Utf16Le
        }
        None if bytes.len() >= 4 && bytes[0] == 0 && bytes[2] == 0 && bytes[1] != 0 => {
            Encoding::Utf16Be
        }
        None if std::str::from_utf8(bytes).is_ok() => Encoding::Utf8,
        // Valid UTF-8 characters beside invalid bytes: decoding the whole file as
        // Windows-1252 would garble every valid row (José → JosÃ©), so refuse it.
        None if has_utf8_multibyte(bytes) => {
            let at = std::str::from_utf8(bytes)
                .err()
                .map_or(0, |e| e.valid_up_to());
            return Err(format!(
                "line {}: not valid UTF-8, although other lines are: the file mixes encodings; re-save it as UTF-8, or give --encoding windows-1252 if it really is one",
                line_of(bytes, at)
            ));
        }
        None => Encoding::Windows1252,
    };
    let text = match encoding {
        Encoding::Utf8 => {
            let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            std::str::from_utf8(body)
                .map_err(|e| {
                    format!(
                        "line {}: not valid UTF-8 ({e}); give --encoding windows-1252 (or latin1) if the file comes from Excel on Windows",
                        line_of(body, e.valid_up_to())
                    )
                })?
                .to_string()
        }
        Encoding::Utf16Le => utf16(bytes.strip_prefix(&[0xFF, 0xFE]).unwrap_or(bytes), true)?,
        Encoding::Utf16Be => utf16(bytes.strip_prefix(&[0xFE, 0xFF]).unwrap_or(bytes), false)?,
        Encoding::Windows1252 => bytes
            .iter()
            .map(|&b| match b {
                0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
                _ => char::from(b),
            })
            .collect(),
    };
    let text = text
        .strip_prefix('\u{FEFF}')
        .map(str::to_string)
        .unwrap_or(text);
    Ok((text, encoding))
}

/// The delimiter candidates, in order of preference on ties.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Occurrences of `delimiter` outside double quotes in each of the first lines.
fn counts(text: &str, delimiter: u8, lines: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut n = 0;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                out.push(n);
                n = 0;
                if out.len() == lines {
                    return out;
                }
            }
            b if b == delimiter && !quoted => n += 1,
            _ => {}
        }
    }
    if n > 0 {
        out.push(n);
    }
    out
}

/// The delimiter of a CSV text: among `,` `;` tab and `|`, the one that splits the
/// header into the most columns and every following line (of the first 50) into as
/// many; `,` when none does.
pub fn sniff_delimiter(text: &str) -> u8 {
    let mut best = (b',', 0usize, false);
    for d in CANDIDATES {
        let c = counts(text, d, 50);
        let Some(&header) = c.first() else { continue };
        if header == 0 {
            continue;
        }
        let consistent = c.iter().skip(1).all(|&n| n == header);
        // A consistent candidate beats an inconsistent one; then more columns win.
        if (consistent, header) > (best.2, best.1) {
            best = (d, header, consistent);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bad_byte_in_a_utf8_file_is_refused_with_its_line() {
        let mixed = "name\nJosé\nMu\u{f1}oz\n".as_bytes().to_vec();
        let mut mixed = mixed;
        // Line 4 in Windows-1252: "Peña" with ñ as the single byte 0xF1.
        mixed.extend_from_slice(b"Pe\xF1a\n");
        let e = decode(&mixed, None).expect_err("mixed encodings");
        assert!(e.starts_with("line 4: not valid UTF-8"), "{e}");
        // A file that is Windows-1252 throughout still decodes as such.
        let (text, enc) = decode(b"name\nPe\xF1a\nJos\xE9\n", None).expect("cp1252");
        assert_eq!(enc, Encoding::Windows1252);
        assert_eq!(text, "name\nPeña\nJosé\n");
        // And it can be forced.
        assert!(decode(&mixed, Some(Encoding::Windows1252)).is_ok());
    }

    #[test]
    fn gzip_files_are_read_through_and_others_kept() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all("a;b\nJosé;1\n".as_bytes()).expect("gzip");
        let packed = gz.finish().expect("gzip");
        assert_eq!(gunzip(packed).expect("gunzip"), "a;b\nJosé;1\n".as_bytes());
        assert_eq!(gunzip(b"a,b\n".to_vec()).expect("plain"), b"a,b\n");
        let err = gunzip(vec![0x1F, 0x8B, 0, 1, 2]).expect_err("truncated");
        assert!(err.contains("gzip"), "{err}");
    }

    #[test]
    fn detects_bom_utf16_and_windows_1252() {
        let (t, e) = decode(b"\xEF\xBB\xBFa,b\n", None).expect("utf-8");
        assert_eq!((t.as_str(), e), ("a,b\n", Encoding::Utf8));
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("é;x".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(
            decode(&le, None).expect("utf-16"),
            ("é;x".into(), Encoding::Utf16Le)
        );
        let (t, e) = decode(b"Jos\xe9 \x80 M\xfcller", None).expect("cp1252");
        assert_eq!((t.as_str(), e), ("José € Müller", Encoding::Windows1252));
    }

    #[test]
    fn forced_utf8_names_the_bad_line() {
        let err = decode(b"a\nb\n\xff\n", Some(Encoding::Utf8)).expect_err("invalid");
        assert!(err.starts_with("line 3: not valid UTF-8"), "{err}");
    }

    #[test]
    fn sniffs_the_consistent_delimiter() {
        assert_eq!(sniff_delimiter("a;b;c\n1;2,5;3\n4;5;6\n"), b';');
        assert_eq!(sniff_delimiter("a\tb\n\"x,y\"\t2\n"), b'\t');
        assert_eq!(sniff_delimiter("a,b\n\"1;2\",3\n"), b',');
        assert_eq!(sniff_delimiter("single\n1\n"), b',');
    }
}
