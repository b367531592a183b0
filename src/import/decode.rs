//! Turning the bytes of a CSV export into text and finding its delimiter.
//!
//! Exports come from spreadsheets and CRMs in whatever encoding the machine used: UTF-8
//! with or without a byte-order mark, UTF-16 (Excel's "Unicode text"), or Windows-1252
//! (Excel on Windows, most European CRMs), or another legacy code page. The encoding is
//! detected from the BOM, from whether the bytes are valid UTF-8, and otherwise guessed
//! by `chardetng`; `encoding_rs` decodes (the detector and decoder Firefox uses: no
//! code-page tables of our own). The delimiter comes from the header and first lines.

use std::fmt;
use std::str::FromStr;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::DecoderResult;

/// A text encoding of an import file: any encoding of the WHATWG Encoding Standard
/// (what browsers read), through `encoding_rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding(&'static encoding_rs::Encoding);

impl Encoding {
    /// UTF-8 (a leading byte-order mark is removed).
    pub fn utf8() -> Self {
        Encoding(encoding_rs::UTF_8)
    }

    /// Windows-1252 (what `latin1` and `iso-8859-1` mean on the web).
    pub fn windows_1252() -> Self {
        Encoding(encoding_rs::WINDOWS_1252)
    }

    /// UTF-16, little-endian.
    pub fn utf16le() -> Self {
        Encoding(encoding_rs::UTF_16LE)
    }

    /// UTF-16, big-endian.
    pub fn utf16be() -> Self {
        Encoding(encoding_rs::UTF_16BE)
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.name().to_ascii_lowercase())
    }
}

impl FromStr for Encoding {
    type Err = String;

    /// An encoding label of the Encoding Standard (`utf-8`, `utf-16le`, `windows-1252`,
    /// `latin1`, `iso-8859-15`, `shift_jis`, …; `utf-16` is little-endian).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match encoding_rs::Encoding::for_label(s.trim().as_bytes()) {
            Some(e) if e != encoding_rs::REPLACEMENT && e != encoding_rs::X_USER_DEFINED => {
                Ok(Encoding(e))
            }
            _ => Err(format!(
                "unknown encoding '{s}' (expected a label such as utf-8, utf-16le, utf-16be, windows-1252, latin1 or iso-8859-15)"
            )),
        }
    }
}

/// The 1-based line of the text decoded so far.
fn line_in(decoded: &str) -> usize {
    decoded.bytes().filter(|b| *b == b'\n').count() + 1
}

/// Decodes `body` (without byte-order mark) strictly: malformed input is an error
/// naming its line.
fn decode_strict(encoding: Encoding, body: &[u8]) -> Result<String, String> {
    let mut decoder = encoding.0.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(body.len())
        .ok_or_else(|| "the file is too large to decode".to_string())?;
    let mut text = String::with_capacity(capacity);
    let (result, _read) = decoder.decode_to_string_without_replacement(body, &mut text, true);
    match result {
        DecoderResult::InputEmpty => Ok(text),
        DecoderResult::Malformed(..) => {
            let line = line_in(&text);
            Err(if encoding == Encoding::utf8() {
                format!(
                    "line {line}: not valid UTF-8; give --encoding windows-1252 (or latin1) if the file comes from Excel on Windows"
                )
            } else if encoding.0.is_single_byte() {
                format!("line {line}: not valid {encoding} text; give the file's --encoding")
            } else if body.len() % 2 == 1 && !encoding.0.is_ascii_compatible() {
                format!(
                    "line {line}: {encoding} text with an odd number of bytes (truncated file?)"
                )
            } else {
                format!("line {line}: not valid {encoding} text; give the file's --encoding")
            })
        }
        DecoderResult::OutputFull => Err("the file could not be decoded whole".into()),
    }
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

/// The encoding of `bytes` (after any byte-order mark, whose length is returned too):
/// the byte-order mark's; UTF-16 without one when every other byte of the start is
/// zero; UTF-8 when the bytes are valid UTF-8; otherwise the legacy encoding
/// `chardetng` guesses from the byte statistics. A file with valid multi-byte UTF-8
/// beside invalid bytes mixes encodings and is refused with the first bad line.
fn detect(bytes: &[u8]) -> Result<(Encoding, usize), String> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return Ok((Encoding(encoding), bom));
    }
    if bytes.len() >= 4 && bytes[1] == 0 && bytes[3] == 0 && bytes[0] != 0 {
        return Ok((Encoding::utf16le(), 0));
    }
    if bytes.len() >= 4 && bytes[0] == 0 && bytes[2] == 0 && bytes[1] != 0 {
        return Ok((Encoding::utf16be(), 0));
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok((Encoding::utf8(), 0)),
        // Valid UTF-8 characters beside invalid bytes: decoding the whole file in a
        // legacy encoding would garble every valid row (José → JosÃ©), so refuse it.
        Err(e) if has_utf8_multibyte(bytes) => {
            let line = line_in(&String::from_utf8_lossy(&bytes[..e.valid_up_to()]));
            Err(format!(
                "line {line}: not valid UTF-8, although other lines are: the file mixes encodings; re-save it as UTF-8, or give --encoding windows-1252 if it really is one"
            ))
        }
        Err(_) => {
            let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
            detector.feed(bytes, true);
            Ok((Encoding(detector.guess(None, Utf8Detection::Deny)), 0))
        }
    }
}

/// Decodes `bytes` with the `forced` encoding, or with the detected one. Returns the
/// text (without byte-order mark) and the encoding used.
pub fn decode(bytes: &[u8], forced: Option<Encoding>) -> Result<(String, Encoding), String> {
    let (encoding, bom) = match forced {
        // A byte-order mark of the forced encoding is not text.
        Some(e) => match encoding_rs::Encoding::for_bom(bytes) {
            Some((found, bom)) if found == e.0 => (e, bom),
            _ => (e, 0),
        },
        None => detect(bytes)?,
    };
    let text = decode_strict(encoding, &bytes[bom..])?;
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
        assert_eq!(enc, Encoding::windows_1252());
        assert_eq!(text, "name\nPeña\nJosé\n");
        // And it can be forced.
        assert!(decode(&mixed, Some(Encoding::windows_1252())).is_ok());
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
        assert_eq!((t.as_str(), e), ("a,b\n", Encoding::utf8()));
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("é;x".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(
            decode(&le, None).expect("utf-16"),
            ("é;x".into(), Encoding::utf16le())
        );
        let (t, e) = decode(b"Jos\xe9 \x80 M\xfcller", None).expect("cp1252");
        assert_eq!((t.as_str(), e), ("José € Müller", Encoding::windows_1252()));
    }

    #[test]
    fn forced_utf8_names_the_bad_line() {
        let err = decode(b"a\nb\n\xff\n", Some(Encoding::utf8())).expect_err("invalid");
        assert!(err.starts_with("line 3: not valid UTF-8"), "{err}");
    }

    #[test]
    fn a_whole_windows_1252_file_is_detected_and_decoded() {
        // "Müller", "Société Générale", "Łódź" is not in cp1252: only Western names.
        let bytes = b"first_name,last_name,company\nHans,M\xFCller,M\xFCller GmbH\n\
                      Ana,Ib\xE1\xF1ez,Soci\xE9t\xE9 G\xE9n\xE9rale\nFran\xE7ois,Lef\xE8vre,Cr\xE8me & Co\n";
        let (text, encoding) = decode(bytes, None).expect("decodes");
        assert_eq!(encoding.to_string(), "windows-1252");
        assert_eq!(
            text,
            "first_name,last_name,company\nHans,Müller,Müller GmbH\n\
             Ana,Ibáñez,Société Générale\nFrançois,Lefèvre,Crème & Co\n"
        );
    }

    #[test]
    fn labels_name_any_standard_encoding_and_unknown_ones_are_refused() {
        assert_eq!("latin1".parse::<Encoding>(), Ok(Encoding::windows_1252()));
        assert_eq!("UTF8".parse::<Encoding>(), Ok(Encoding::utf8()));
        assert_eq!("utf-16".parse::<Encoding>(), Ok(Encoding::utf16le()));
        let (text, e) =
            decode(b"\xA4uro", Some("iso-8859-15".parse().expect("label"))).expect("latin-9");
        assert_eq!(
            (text.as_str(), e.to_string().as_str()),
            ("€uro", "iso-8859-15")
        );
        let err = "klingon".parse::<Encoding>().expect_err("unknown");
        assert!(err.contains("unknown encoding 'klingon'"), "{err}");
        assert!("replacement".parse::<Encoding>().is_err());
    }

    #[test]
    fn malformed_utf16_names_its_line() {
        let mut le: Vec<u8> = "a\nb\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        le.extend_from_slice(&0xD800u16.to_le_bytes());
        le.extend_from_slice(&u16::from(b'x').to_le_bytes());
        let err = decode(&le, Some(Encoding::utf16le())).expect_err("lone surrogate");
        assert!(err.starts_with("line 3: not valid utf-16le"), "{err}");
        let err = decode(b"\xFF\xFEa\0b", None).expect_err("odd length");
        assert!(err.contains("odd number of bytes"), "{err}");
    }

    #[test]
    fn sniffs_the_consistent_delimiter() {
        assert_eq!(sniff_delimiter("a;b;c\n1;2,5;3\n4;5;6\n"), b';');
        assert_eq!(sniff_delimiter("a\tb\n\"x,y\"\t2\n"), b'\t');
        assert_eq!(sniff_delimiter("a,b\n\"1;2\",3\n"), b',');
        assert_eq!(sniff_delimiter("single\n1\n"), b',');
    }
}
