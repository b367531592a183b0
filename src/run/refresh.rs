//! The predictive model of a run: retrain it when the recipe, the data or the instant
//! changed, publish a new version only past the backtest gate, and read the active
//! version's backtest for the summary.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::logical_expr::{cast, col, lit};
use datafusion::prelude::SessionContext;
use leadql_udfs::args::instant as instant_literal;

use super::{ACTIVITIES, HISTORY, call, strings};
use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::sql;

/// The predictive model a run scores with, and what the run learnt about it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelLine {
    /// The model's name.
    pub name: String,
    /// The active version after the run.
    pub version: u32,
    /// The model type (`logistic_regression`, …).
    pub kind: String,
    /// Held-out AUC of the active version.
    pub auc: Option<f64>,
    /// Whether this run trained a version.
    pub trained: bool,
    /// Label horizon of a point-in-time model, in days.
    pub horizon_days: Option<f64>,
    /// Out-of-time backtest of the active version at its latest instant.
    pub backtest: Option<BacktestFigures>,
    /// What happened to a newly trained version (published, or kept back and why).
    pub publish: Option<String>,
}

/// One instant of a backtest: AUC and the calibration of the top 5%.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BacktestFigures {
    /// The instant.
    pub as_of: String,
    /// AUC over the leads open at the instant.
    pub auc: Option<f64>,
    /// Leads open at the instant.
    pub leads: i64,
    /// Mean predicted probability of the best-scored 5%.
    pub top5_predicted: Option<f64>,
    /// Share of the best-scored 5% qualified within the horizon.
    pub top5_actual: Option<f64>,
}

impl ModelLine {
    fn of(m: &leadql_models::predictive::PredictiveModel, trained: bool) -> Self {
        ModelLine {
            name: m.name.clone(),
            version: m.version,
            kind: m.options.model_type.as_str().into(),
            auc: m.evaluation.auc,
            trained,
            horizon_days: m.options.horizon_days,
            backtest: None,
            publish: None,
        }
    }
}

/// Trains the model from `models/NAME.sql` when it has no version yet, when the
/// recipe, the workspace's data or the run's `as_of` changed since the version it
/// produced, or when asked to. A retrained point-in-time version is published only if
/// its out-of-time backtest AUC is at least the active version's minus the model's
/// `publish_tolerance`; otherwise the active version stays pinned.
pub(super) async fn refresh_model(
    ws: &Workspace,
    ctx: &SessionContext,
    name: &str,
    retrain: bool,
) -> Result<ModelLine> {
    leadql_models::store::check_name(name).map_err(|e| Error::Query(e.to_string()))?;
    let recipe = ws.dir.join("models").join(format!("{name}.sql"));
    let stamp_file = ws.dir.join("models").join(name).join(".trained-from");
    let current = ws.predictive_models.get("run", name).ok();
    let text = match std::fs::read_to_string(&recipe) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&recipe, e)),
    };
    let Some(text) = text else {
        // No recipe: use the trained model as it is.
        return match current {
            Some(m) => {
                with_backtest(
                    ctx,
                    &mut Backtests::default(),
                    ModelLine::of(&m, false),
                    &m,
                    Stored::Stale,
                )
                .await
            }
            None => Err(Error::Query(format!(
                "the policy uses predictive model '{name}', which is not trained and has no recipe {} (a CREATE MODEL statement)",
                recipe.display()
            ))),
        };
    };
    let fingerprint = fingerprint(ws, &text);
    let recorded = std::fs::read_to_string(&stamp_file).unwrap_or_default();
    if let Some(m) = &current
        && !retrain
        && recorded.trim() == format!("{fingerprint} v{}", m.version)
    {
        // The data has not changed since the run that trained the latest version; a
        // version the gate kept instead was backtested on older data.
        let latest = ws.predictive_models.store().latest(name).ok();
        let stored = if latest.is_some_and(|l| l.version == m.version) {
            Stored::Current
        } else {
            Stored::Stale
        };
        return with_backtest(
            ctx,
            &mut Backtests::default(),
            ModelLine::of(m, false),
            m,
            stored,
        )
        .await;
    }
    let statements = sql::parse(&text).map_err(|e| match e {
        Error::SqlSyntax(m) => Error::SqlSyntax(format!("{}: {m}", recipe.display())),
        other => other,
    })?;
    let training = std::time::Instant::now();
    for statement in statements {
        sql::plan(ctx, statement)
            .await
            .map_err(|e| Error::Query(format!("{}: {e}", recipe.display())))?
            .collect()
            .await
            .map_err(|e| Error::Query(format!("{}: {e}", recipe.display())))?;
    }
    let store = ws.predictive_models.store();
    let trained = store
        .latest(name)
        .map_err(|e| Error::Query(format!("{}: {e}", recipe.display())))?;
    let mut line = ModelLine::of(&trained, true);
    let mut active = trained.clone();
    let mut backtests = Backtests::default();
    timing("  training", training);
    let gate = std::time::Instant::now();
    if let Some(previous) = current.as_ref().filter(|p| p.version != trained.version) {
        match publish_decision(ctx, &mut backtests, &trained, previous).await? {
            Publish::Yes(why) => {
                store
                    .activate(name, None)
                    .map_err(|e| Error::Query(e.to_string()))?;
                line.publish = Some(why);
            }
            Publish::No(why) => {
                store
                    .activate(name, Some(previous.version))
                    .map_err(|e| Error::Query(e.to_string()))?;
                active = (**previous).clone();
                line = ModelLine::of(previous, false);
                line.publish = Some(why);
            }
        }
    }
    crate::atomic::write(
        &stamp_file,
        format!("{fingerprint} v{}\n", active.version).as_bytes(),
    )?;
    timing("  publish gate", gate);
    // The active version is the new one (trained on this data), or the kept one that
    // the gate just backtested afresh.
    with_backtest(ctx, &mut backtests, line, &active, Stored::Current).await
}

fn timing(stage: &str, since: std::time::Instant) {
    if std::env::var_os("LEADQL_TIMINGS").is_some() {
        eprintln!(
            "timing: {stage:<20} {:>7.2} s",
            since.elapsed().as_secs_f64()
        );
    }
}

enum Publish {
    Yes(String),
    No(String),
}

/// Compares a newly trained point-in-time version with the active one on the same
/// out-of-time instants: those after the new version's training outcomes.
async fn publish_decision(
    ctx: &SessionContext,
    backtests: &mut Backtests,
    new: &leadql_models::predictive::PredictiveModel,
    active: &leadql_models::predictive::PredictiveModel,
) -> Result<Publish> {
    let Some(instant) = new.honest_instant() else {
        return Ok(Publish::Yes(format!(
            "v{} published (not a point-in-time model: no backtest gate)",
            new.version
        )));
    };
    // Both versions at the latest instant whose outcome is known: after the new
    // version's training outcomes, so an out-of-time check for it.
    let new_auc = backtests
        .at(ctx, new, instant, Stored::Current)
        .await?
        .and_then(|b| b.auc);
    let old_auc = if active.options.horizon_days.is_some() {
        backtests
            // Its stored backtest may be of other data (the fingerprint changed).
            .at(ctx, active, instant, Stored::Stale)
            .await
            .ok()
            .flatten()
            .and_then(|b| b.auc)
    } else {
        // A model of the old kind cannot be scored at past instants: nothing to keep.
        None
    };
    let tolerance = new.options.publish_tolerance;
    Ok(match (new_auc, old_auc) {
        (Some(n), Some(o)) if n + tolerance < o => Publish::No(format!(
            "v{} not published: its backtest AUC {n:.3} is below active v{}'s {o:.3} by more than publish_tolerance {tolerance}; v{} stays active",
            new.version, active.version, active.version
        )),
        (Some(n), Some(o)) => Publish::Yes(format!(
            "v{} published: backtest AUC {n:.3} against active v{}'s {o:.3} (publish_tolerance {tolerance})",
            new.version, active.version
        )),
        _ => Publish::Yes(format!(
            "v{} published (v{} could not be backtested on the same instants)",
            new.version, active.version
        )),
    })
}

/// Adds the active version's latest out-of-time backtest to `line`.
async fn with_backtest(
    ctx: &SessionContext,
    backtests: &mut Backtests,
    mut line: ModelLine,
    model: &leadql_models::predictive::PredictiveModel,
    stored: Stored,
) -> Result<ModelLine> {
    if let Some(instant) = model.honest_instant() {
        // The workspace's as_of may leave no instant with a known outcome yet.
        line.backtest = backtests
            .at(ctx, model, instant, stored)
            .await
            .ok()
            .flatten();
    }
    Ok(line)
}

/// Whether a version's stored backtest describes the workspace's current data: it does
/// for a version trained on it (in this run, or with the same data fingerprint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    Current,
    Stale,
}

/// The backtests a run computed, by model version and instant: the publish gate and
/// the summary look at the same instant, and each backtest scores every open lead.
#[derive(Default)]
struct Backtests(HashMap<(String, u32, i64), Option<BacktestFigures>>);

impl Backtests {
    /// `backtest('NAME@VERSION', t, t, 1)`: the figures of all open leads and the top
    /// 5%, from the backtest stored with the version when it was taken at `instant` on
    /// the current data.
    async fn at(
        &mut self,
        ctx: &SessionContext,
        model: &leadql_models::predictive::PredictiveModel,
        instant: i64,
        stored: Stored,
    ) -> Result<Option<BacktestFigures>> {
        let (name, version) = (model.name.as_str(), model.version);
        let key = (name.to_string(), version, instant);
        if let Some(known) = self.0.get(&key) {
            return Ok(known.clone());
        }
        if let (Stored::Current, Some(all), Some(top)) = (
            stored,
            model.stored_backtest(instant, "all"),
            model.stored_backtest(instant, "top 5%"),
        ) {
            let figures = BacktestFigures {
                as_of: chrono::DateTime::from_timestamp_micros(instant)
                    .map(|d| d.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
                    .unwrap_or_default(),
                auc: all.auc,
                leads: all.leads,
                top5_predicted: top.mean_predicted,
                top5_actual: top.conversion_rate,
            };
            self.0.insert(key, Some(figures.clone()));
            return Ok(Some(figures));
        }
        let at = instant_literal(instant);
        let batches = call(
            ctx,
            "backtest",
            &[lit(format!("{name}@{version}")), at.clone(), at, lit(1i64)],
        )?
        .filter(col("segment").in_list(vec![lit("all"), lit("top 5%")], false))?
        .sort(vec![col("segment").sort(true, false)])?
        .limit(0, Some(2))?
        .select(vec![
            cast(col("as_of"), DataType::Utf8).alias("instant"),
            col("auc"),
            col("leads"),
            col("mean_predicted"),
            col("conversion_rate"),
            col("segment"),
        ])?
        .collect()
        .await?;
        let figures = batches.iter().find(|b| b.num_rows() == 2).map(|b| {
            let f = |c: usize| {
                datafusion::arrow::compute::cast(b.column(c), &DataType::Float64)
                    .ok()
                    .map(|a| {
                        let a = a.as_primitive::<Float64Type>().clone();
                        (0..a.len())
                            .map(|i| (!a.is_null(i)).then(|| a.value(i)))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            };
            let (auc, leads, predicted, actual) = (f(1), f(2), f(3), f(4));
            BacktestFigures {
                as_of: strings(b, 0)[0].clone().unwrap_or_default(),
                auc: auc.first().copied().flatten(),
                leads: leads.first().copied().flatten().unwrap_or(0.0) as i64,
                top5_predicted: predicted.get(1).copied().flatten(),
                top5_actual: actual.get(1).copied().flatten(),
            }
        });
        self.0.insert(key, figures.clone());
        Ok(figures)
    }
}

/// FNV-1a over the recipe, the run's instant, the workspace's views and every table
/// file's name and size.
fn fingerprint(ws: &Workspace, recipe: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(recipe.as_bytes());
    eat(&ws.known_at.unwrap_or(0).to_le_bytes());
    for (name, _, text) in &ws.views {
        eat(name.as_bytes());
        eat(text.as_bytes());
    }
    for t in &ws.tables {
        if t.name == HISTORY || t.name == ACTIVITIES {
            continue;
        }
        for f in &t.files {
            eat(t.name.as_bytes());
            eat(f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
                .as_bytes());
            let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
            eat(&size.to_le_bytes());
        }
    }
    format!("{h:016x}")
}
