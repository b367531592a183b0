//! leadql's error type: every variant says what went wrong and where (file, column,
//! argument, statement), in one line a user can act on.

use std::io;
use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// Errors raised by leadql.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The operating-system error.
        source: io::Error,
    },
    /// The `--data` directory is not a usable workspace.
    #[error("workspace {}: {reason}", dir.display())]
    Workspace {
        /// The workspace directory.
        dir: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A Parquet file could not be opened or decoded.
    #[error("{}: not a readable Parquet file ({reason})", file.display())]
    UnreadableParquet {
        /// The file.
        file: PathBuf,
        /// The decoder's explanation.
        reason: String,
    },
    /// A file of a core table has a column of the wrong type.
    #[error("{}: column '{column}' of table '{table}' has type {found}, expected {expected}", file.display())]
    ColumnType {
        /// The file.
        file: PathBuf,
        /// The table the file belongs to.
        table: String,
        /// The column.
        column: String,
        /// What the schema expects.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A file of a core table lacks a required column.
    #[error("{}: table '{table}' needs column '{column}' ({expected}), which this file lacks", file.display())]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// The table.
        table: String,
        /// The missing column.
        column: String,
        /// Its expected type.
        expected: String,
    },
    /// The SQL text could not be parsed.
    #[error("SQL syntax error: {0}")]
    SqlSyntax(String),
    /// A query names a table that does not exist.
    #[error("unknown table '{name}' (tables: {known})")]
    UnknownTable {
        /// The name used.
        name: String,
        /// The tables that exist.
        known: String,
    },
    /// A query failed to plan or run.
    #[error("{0}")]
    Query(String),
    /// A command-line argument is invalid.
    #[error("invalid {arg}: {reason}")]
    Argument {
        /// Which argument.
        arg: String,
        /// Why.
        reason: String,
    },
    /// Writing Arrow/Parquet/CSV/JSON output failed.
    #[error("writing {}: {reason}", path.display())]
    Write {
        /// Where.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// leadql's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error: 2 for invalid usage (an option that is
    /// wrong whatever the data: a format a command does not write, `--as-of` given to
    /// a command that changes the workspace, a generate parameter out of range, a
    /// missing QUERY or --data; values malformed as text, such as a format name, an
    /// instant, a size or a reason, are refused by the argument parser, also with 2),
    /// 1 for everything else, including arguments the workspace or a file rejects
    /// (README, "Exit codes").
    pub fn exit_code(&self) -> u8 {
        const USAGE: &[&str] = &[
            "--format",
            "--as-of",
            "--cluster",
            "--days",
            "--end",
            "--duplicates",
            "--interactions-per-lead",
            "--leads-per-part",
            "--data",
            "QUERY",
        ];
        match self {
            Error::Argument { arg, .. } if USAGE.contains(&arg.as_str()) => 2,
            _ => 1,
        }
    }

    /// Whether this error is a closed pipe on output (`leadql sql … | head`), which is
    /// not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Io { source, .. } => source.kind() == io::ErrorKind::BrokenPipe,
            Error::Write { reason, .. } => reason.contains("Broken pipe"),
            _ => false,
        }
    }
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        let root = e.find_root();
        match root {
            DataFusionError::SQL(parser, _) => {
                let msg = parser.to_string();
                Error::SqlSyntax(
                    msg.strip_prefix("sql parser error: ")
                        .unwrap_or(&msg)
                        .to_string(),
                )
            }
            DataFusionError::IoError(io) => Error::Query(format!("I/O error: {io}")),
            DataFusionError::ResourcesExhausted(msg) if msg.contains("--server-memory") => {
                Error::Query(format!("out of memory: {}", clean_message(msg)))
            }
            DataFusionError::ResourcesExhausted(msg) => Error::Query(format!(
                "out of memory under the memory limit (raise --memory-limit): {}",
                clean_message(msg)
            )),
            other => {
                let msg = other.message().to_string();
                Error::Query(clean_message(&msg))
            }
        }
    }
}

/// Drops DataFusion's internal prefixes and backtrace markers from a message.
fn clean_message(msg: &str) -> String {
    let mut m = msg.trim();
    for prefix in [
        "Error during planning: ",
        "Execution error: ",
        "External error: ",
        "Arrow error: ",
    ] {
        if let Some(rest) = m.strip_prefix(prefix) {
            m = rest;
        }
    }
    m.lines().next().unwrap_or(m).to_string()
}

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        DataFusionError::External(Box::new(e))
    }
}
