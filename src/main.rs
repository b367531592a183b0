//! The `leadql` binary: parses arguments, runs the command, prints an error once.

use std::process::ExitCode;

use clap::Parser;
use leadql::commands::{Cli, run};

/// Stack of the thread that plans and runs statements, and of the runtime's workers.
///
/// Parsing, planning, optimising and dropping a SQL expression recurse once per
/// nesting level, and a left-deep `1+1+…+1` or `a OR b OR …` of thousands of terms
/// nests thousands of levels: on the default 8 MiB main thread (2 MiB for tokio's
/// workers) that overflowed and aborted the process. The stack is reserved address
/// space, touched only as deep as a statement needs.
const STACK_BYTES: usize = 256 << 20;
const WORKER_STACK_BYTES: usize = 64 << 20;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Log records (Ballista's, in cluster mode) only when RUST_LOG asks for them.
    if std::env::var_os("RUST_LOG").is_some() {
        env_logger::init();
    }
    let private_temp = match standalone_temp(&cli) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let worker = std::thread::Builder::new()
        .name("leadql".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .thread_stack_size(WORKER_STACK_BYTES)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(run(cli)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(e.exit_code())
                }
            }
        });
    let code = worker.map(|w| w.join());
    drop(private_temp);
    match code {
        Ok(Ok(code)) => code,
        // A panic (already reported by the panic hook) keeps Rust's exit code.
        Ok(Err(_)) => ExitCode::from(101),
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            ExitCode::FAILURE
        }
    }
}

/// With `--cluster standalone`, a temporary directory of this process's own, made the
/// default of everything that creates temporary files through `tempfile` here, and
/// removed when leadql exits.
///
/// Ballista's in-process executors keep their shuffle files in a folder they create
/// with `tempfile` and remove a job's files only minutes after the job (their
/// scheduler's clean-up interval), long after a command has ended: every query left
/// its shuffle behind (hundreds of MB for a qualification at 1M leads).
fn standalone_temp(cli: &Cli) -> std::io::Result<Option<tempfile::TempDir>> {
    let Some(leadql::cluster::Target::Standalone { .. }) = &cli.cluster else {
        return Ok(None);
    };
    let dir = tempfile::Builder::new()
        .prefix("leadql-standalone-")
        .tempdir()?;
    if let Err(set) = tempfile::env::override_temp_dir(dir.path()) {
        return Err(std::io::Error::other(format!(
            "the temporary directory is already {}",
            set.display()
        )));
    }
    Ok(Some(dir))
}
