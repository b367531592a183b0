//! Injected failures for crash-consistency tests.
//!
//! Every step that changes a workspace's files (in this crate: a model version written
//! aside and renamed into place, a dropped model moved aside and removed; in `leadql`:
//! staged changes, journals, renames) ends with [`file_operation`]. Debug builds count
//! them process-wide and exit with [`INJECTED_EXIT`] after the N-th when
//! `LEADQL_FAIL_AFTER_OP=N` is set, without any clean-up, as a kill would: the tests
//! kill a command after each of its file operations in turn. Release builds do nothing.

/// Exit code of an injected failure.
pub const INJECTED_EXIT: i32 = 86;

/// Marks the end of one file operation; in debug builds, exits the process when it is
/// the N-th and `LEADQL_FAIL_AFTER_OP=N`.
pub fn file_operation(what: &str) {
    #[cfg(debug_assertions)]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNT: AtomicU64 = AtomicU64::new(0);
        static LIMIT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
        let limit = LIMIT.get_or_init(|| {
            std::env::var("LEADQL_FAIL_AFTER_OP")
                .ok()
                .and_then(|v| v.parse().ok())
        });
        let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
        if *limit == Some(n) {
            eprintln!("injected failure after file operation {n} ({what})");
            std::process::exit(INJECTED_EXIT);
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = what;
}
