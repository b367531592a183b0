//! Where the package's work runs: one Tokio runtime per process (a forked child gets
//! its own: the parent's worker threads do not exist in it), and [`wait`], which runs
//! a future there while the calling Python thread waits with the GIL released and
//! keeps answering Ctrl-C. Writes from several Python threads of one process are
//! serialised by [`WRITER`] (the workspace lock only keeps other processes out).

use std::future::Future;
use std::sync::Mutex;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::Error;

/// Held while a Python thread of this process changes a workspace (`run`, imports,
/// exports into a workspace, `CREATE MODEL`, `DROP MODEL`).
pub static WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The runtime of this process.
pub fn runtime() -> PyResult<&'static Runtime> {
    static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);
    let mut current = RUNTIME
        .lock()
        .map_err(|_| Error::new_err("the query runtime was poisoned by a crash"))?;
    let pid = std::process::id();
    if let Some((owner, rt)) = *current
        && owner == pid
    {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new_err(format!("cannot start the query runtime: {e}")))?;
    // Lives as long as the process (a forked child's copy of the parent's is leaked:
    // its threads are not there to stop).
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    *current = Some((pid, rt));
    Ok(rt)
}

/// Runs `work` on the runtime and waits for it with the GIL released, checking every
/// 100 ms for a pending Python signal: Ctrl-C in a shell or "interrupt kernel" in
/// Jupyter raises `KeyboardInterrupt` and cancels the work (its task is aborted). Works
/// from any thread, also one inside another Tokio runtime.
pub fn wait<F, T>(py: Python<'_>, work: F) -> PyResult<T>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    let task = runtime()?.spawn(async move {
        let _ = tx.send(work.await);
    });
    py.detach(move || {
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(out) => return out,
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        task.abort();
                        return Err(e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::new_err(
                        "internal error: the work stopped without a result (a panic in leadql; please report it)",
                    ));
                }
            }
        }
    })
}
