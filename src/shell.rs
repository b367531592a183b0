//! `leadql shell`: an interactive SQL prompt over a workspace.
//!
//! Statements end with `;` and may span lines. Backslash commands: `\d` lists tables,
//! `\d TABLE` describes one (with the meaning of each core column), `\timing` toggles
//! timings, `\?` shows help, `\q` quits. Ctrl-C cancels the running query and returns
//! to the prompt; at the prompt it clears the current input; Ctrl-D quits. History of
//! interactive sessions (standard input a terminal) is kept in
//! `$XDG_DATA_HOME/leadql/history`, else `~/.local/share/leadql/history`; a piped shell
//! reads and writes no history.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use datafusion::prelude::SessionContext;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use tokio::sync::Notify;

use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::output::{self, Destination, Format};
use crate::schema;
use crate::sql;

const HELP: &str = "\
Statements end with ';' and may span several lines.
  \\d           list tables
  \\d TABLE     describe a table
  \\timing      toggle query timing
  \\?           this help
  \\q           quit (or Ctrl-D)
Ctrl-C cancels a running query.";

/// Where an interactive session keeps its history (XDG base directories):
/// `$XDG_DATA_HOME/leadql/history` when that is set to an absolute path, else
/// `$HOME/.local/share/leadql/history`; `None` without either.
fn history_path() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        })?;
    Some(data.join("leadql").join("history"))
}

/// Runs the shell until `\q` or end of input.
pub async fn run(ctx: &SessionContext, ws: &Workspace) -> Result<()> {
    let mut editor = DefaultEditor::new()
        .map_err(|e| Error::Query(format!("cannot start the line editor: {e}")))?;
    // Only a person at a terminal makes history: a piped script leaves none behind.
    let history = if io::stdin().is_terminal() {
        history_path()
    } else {
        None
    };
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    eprintln!(
        "leadql shell on {} — \\? for help, \\q to quit",
        ws.dir.display()
    );
    // Ctrl-C during a query arrives as SIGINT (at the prompt the line editor reads it as
    // a key instead). The handler only wakes the waiting shell; it never exits.
    let interrupted = Arc::new(Notify::new());
    {
        let interrupted = interrupted.clone();
        if let Err(e) = ctrlc::set_handler(move || interrupted.notify_waiters()) {
            eprintln!("warning: Ctrl-C will not cancel queries ({e})");
        }
    }
    let mut timing = false;
    let mut buffer = String::new();
    let mut failed = 0usize;
    loop {
        let prompt = if buffer.is_empty() {
            "leadql> "
        } else {
            "   ...> "
        };
        // At the end of input, a last statement without `;` still runs.
        let (line, at_end) = match editor.readline(prompt) {
            Ok(line) => (line, false),
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(ReadlineError::Eof) if buffer.trim().is_empty() => break,
            Err(ReadlineError::Eof) => (String::new(), true),
            Err(e) => return Err(Error::Query(format!("reading input: {e}"))),
        };
        let trimmed = line.trim();
        if buffer.is_empty() && trimmed.starts_with('\\') {
            let _ = editor.add_history_entry(trimmed);
            match meta_command(ctx, ws, trimmed, &mut timing) {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => eprintln!("error: {e}"),
            }
            continue;
        }
        if trimmed.is_empty() && buffer.is_empty() {
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if !trimmed.ends_with(';') && !at_end {
            continue;
        }
        let text = std::mem::take(&mut buffer);
        let _ = editor.add_history_entry(text.trim());
        let started = Instant::now();
        // The query runs as its own task so that this one stays free to notice Ctrl-C
        // even while every worker thread is busy computing.
        let task = tokio::spawn({
            let ctx = ctx.clone();
            async move { execute(&ctx, &text).await }
        });
        let abort = task.abort_handle();
        let outcome = tokio::select! {
            r = task => r.unwrap_or_else(|e| Err(Error::Query(format!("query failed: {e}")))),
            _ = interrupted.notified() => {
                abort.abort();
                Err(Error::Query("query cancelled".into()))
            }
        };
        match outcome {
            Ok(()) => {}
            Err(e) if e.is_broken_pipe() => break,
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
            }
        }
        if timing {
            eprintln!("Time: {:.3} s", started.elapsed().as_secs_f64());
        }
        if at_end {
            break;
        }
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    // A script piped in fails when one of its statements did (the errors are above).
    if failed > 0 && !io::stdin().is_terminal() {
        return Err(Error::Query(format!(
            "{failed} statement{} failed",
            if failed == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

async fn execute(ctx: &SessionContext, text: &str) -> Result<()> {
    for statement in sql::parse(text)? {
        let stream = sql::stream(ctx, statement).await?;
        output::write(stream, Format::Table, &Destination::Stdout, 1000).await?;
    }
    Ok(())
}

/// Handles a backslash command; returns whether to quit.
fn meta_command(
    ctx: &SessionContext,
    ws: &Workspace,
    command: &str,
    timing: &mut bool,
) -> Result<bool> {
    let mut parts = command.split_whitespace();
    let name = parts.next().unwrap_or_default();
    let arg = parts.next();
    let mut out = io::stdout().lock();
    let w = |e| Error::io("<stdout>", e);
    match (name, arg) {
        ("\\q", _) => return Ok(true),
        ("\\?", _) | ("\\h", _) => writeln!(out, "{HELP}").map_err(w)?,
        ("\\timing", _) => {
            *timing = !*timing;
            writeln!(out, "Timing is {}.", if *timing { "on" } else { "off" }).map_err(w)?;
        }
        ("\\d", None) => {
            writeln!(out, "{:<24} {:>12}  kind", "table", "rows").map_err(w)?;
            for name in sql::table_names(ctx) {
                let (rows, kind) = match ws.table(&name) {
                    Some(t) => (
                        t.rows.to_string(),
                        if t.core { "core table" } else { "table" },
                    ),
                    None => (String::new(), "view"),
                };
                writeln!(out, "{name:<24} {rows:>12}  {kind}").map_err(w)?;
            }
        }
        ("\\d", Some(table)) => {
            let provider =
                futures::executor::block_on(ctx.table_provider(table)).map_err(|_| {
                    Error::UnknownTable {
                        name: table.into(),
                        known: sql::table_names(ctx).join(", "),
                    }
                })?;
            let core = schema::core_table(table);
            writeln!(out, "{:<20} {:<28} {:<5} meaning", "column", "type", "null").map_err(w)?;
            for f in provider.schema().fields() {
                let doc = core
                    .and_then(|t| t.column(f.name()))
                    .map(|c| c.doc)
                    .unwrap_or("");
                let null = if f.is_nullable() { "yes" } else { "no" };
                writeln!(
                    out,
                    "{:<20} {:<28} {:<5} {doc}",
                    f.name(),
                    f.data_type().to_string(),
                    null
                )
                .map_err(w)?;
            }
        }
        _ => writeln!(out, "unknown command {name}; \\? for help").map_err(w)?,
    }
    Ok(false)
}
