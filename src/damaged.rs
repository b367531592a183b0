//! Naming the damaged Parquet file behind a decoding error.
//!
//! A file whose footer is intact but whose pages are garbled fails only when a query
//! decodes them, and DataFusion's error then says what failed ("Data corruption
//! detected") but not in which file. When a command fails that way, every Parquet file
//! of the workspace's tables is decoded in turn (only then: the error path pays for
//! it, queries do not), and the error names the first file that does not decode.

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::Error;

/// `error` with the damaged workspace file named, when it is a Parquet decoding error
/// that names no file and such a file is found in the workspace `dir`.
pub fn name_damaged_file(error: Error, dir: &Path) -> Error {
    let Error::Query(message) = &error else {
        return error;
    };
    if !is_decoding_error(message) {
        return error;
    }
    match first_damaged(dir) {
        Some((file, _)) => Error::UnreadableParquet {
            file,
            reason: message.clone(),
        },
        None => error,
    }
}

/// Whether a query error comes from decoding Parquet and names no file.
fn is_decoding_error(message: &str) -> bool {
    (message.contains("Parquet") || message.to_ascii_lowercase().contains("corrupt"))
        && !message.contains(".parquet")
}

/// The first Parquet file of the workspace's table folders (sorted) that does not
/// decode, with the decoder's explanation.
pub fn first_damaged(dir: &Path) -> Option<(PathBuf, String)> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "parquet")
                    && p.file_name()
                        .is_some_and(|n| !n.to_string_lossy().starts_with(['.', '_']))
            })
            .collect();
        files.sort();
        for file in files {
            if let Err(reason) = decode(&file) {
                return Some((file, reason));
            }
        }
    }
    None
}

/// Decodes every row of `file`.
pub fn decode(file: &Path) -> Result<(), String> {
    let f = File::open(file).map_err(|e| e.to_string())?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .and_then(|b| b.build())
        .map_err(|e| e.to_string())?;
    for batch in reader {
        batch.map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_decoding_errors_without_a_file_are_located() {
        assert!(is_decoding_error(
            "Parquet argument error: External: Data corruption detected"
        ));
        assert!(is_decoding_error(
            "External: Corrupt snappy compressed data"
        ));
        assert!(!is_decoding_error(
            "/ws/leads/a.parquet: not a readable Parquet file (x)"
        ));
        assert!(!is_decoding_error("unknown table 'x'"));
        let dir = tempfile::tempdir().expect("tempdir");
        let unchanged = name_damaged_file(Error::Query("Parquet error: x".into()), dir.path());
        assert!(matches!(unchanged, Error::Query(_)));
    }

    #[test]
    fn the_first_file_that_does_not_decode_is_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = dir.path().join("leads");
        std::fs::create_dir(&table).expect("mkdir");
        std::fs::write(table.join("a.parquet"), b"PAR1 not really PAR1").expect("write");
        std::fs::write(table.join(".b.parquet.1.tmp"), b"ignored").expect("write");
        let (file, _) = first_damaged(dir.path()).expect("found");
        assert_eq!(file, table.join("a.parquet"));
    }
}
