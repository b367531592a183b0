//! `import … --on-duplicate keep|flag|skip`: incoming rows checked against the
//! workspace's leads with the matcher of `lead_duplicates`
//! ([`leadql_models::duplicates`]), at its default threshold.
//!
//! - `flag` (default): every row is imported; the pairs (incoming line, new lead,
//!   existing lead, match score, reasons) are written to the import's duplicates file
//!   beside its rejects (`_rejects/import-…-duplicates.csv`) and counted.
//! - `skip`: rows that match an existing lead are not imported; they are listed in the
//!   same file.
//! - `keep`: no check.
//!
//! Only incoming-to-existing pairs count: two rows of the same file are the file's
//! business (identical rows are skipped by their row key already).

use std::path::Path;

use datafusion::prelude::SessionContext;

use leadql_models::duplicates::{self, Lead as Candidate, Settings};

use super::rows::Lead;
use crate::error::{Error, Result};

/// What to do with incoming rows that match an existing lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OnDuplicate {
    /// Import them without checking.
    Keep,
    /// Import them and list the pairs.
    #[default]
    Flag,
    /// Do not import them; list them.
    Skip,
}

/// An incoming row that matches an existing lead.
#[derive(Debug, Clone, PartialEq)]
pub struct Flagged {
    /// Index of the row among the incoming leads.
    pub row: usize,
    /// Its line in the file.
    pub line: u64,
    /// The existing lead it matches best.
    pub existing: i64,
    /// The match score.
    pub score: f64,
    /// The evidence.
    pub reasons: String,
}

/// The incoming leads that match an existing lead of `ctx`'s `leads` table, best match
/// each, in row order.
pub async fn check(ctx: &SessionContext, incoming: &[Lead]) -> Result<Vec<Flagged>> {
    if incoming.is_empty() {
        return Ok(Vec::new());
    }
    let state = ctx.state();
    let mut leads = leadql_udfs::capture::lead_duplicates::read_leads(&state)
        .await
        .map_err(Error::from)?;
    // Incoming rows take ids below every existing one: -1, -2, …
    leads.extend(incoming.iter().enumerate().map(|(i, l)| Candidate {
        id: -(i as i64) - 1,
        first_name: l.first_name.clone(),
        last_name: l.last_name.clone(),
        email: l.email.clone(),
        phone: l.phone.clone(),
        company: l.company.clone(),
        country: l.country.clone(),
        created_at: l.created_at,
    }));
    let found = tokio::task::spawn_blocking(move || duplicates::find(leads, &Settings::default()))
        .await
        .map_err(|e| Error::Query(format!("internal: duplicate check: {e}")))?;
    let mut best: Vec<Option<Flagged>> = vec![None; incoming.len()];
    for m in &found.matches {
        // Pairs are ordered by id: an incoming (negative) id comes first.
        if m.lead_id >= 0 || m.duplicate_id < 0 {
            continue;
        }
        let row = (-m.lead_id - 1) as usize;
        if best[row].as_ref().is_none_or(|b| m.score > b.score) {
            best[row] = Some(Flagged {
                row,
                line: incoming[row].line,
                existing: m.duplicate_id,
                score: m.score,
                reasons: m.reasons.join(","),
            });
        }
    }
    Ok(best.into_iter().flatten().collect())
}

/// Writes the duplicates file: line, the new lead (empty when skipped), the existing
/// lead, the score and reasons, and what was done.
pub fn write(
    path: &Path,
    flagged: &[Flagged],
    new_ids: Option<&[i64]>,
    action: &str,
) -> Result<()> {
    let bad = |e: csv::Error| Error::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "line",
        "lead_id",
        "duplicate_of",
        "match_score",
        "reasons",
        "action",
    ])
    .map_err(bad)?;
    for f in flagged {
        let lead = new_ids
            .and_then(|ids| ids.get(f.row))
            .map(|id| id.to_string())
            .unwrap_or_default();
        w.write_record([
            f.line.to_string(),
            lead,
            f.existing.to_string(),
            format!("{:.4}", f.score),
            f.reasons.clone(),
            action.to_string(),
        ])
        .map_err(bad)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    crate::atomic::write(path, &bytes)
}
