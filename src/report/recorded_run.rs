//! The run a report describes: the policy's latest run recorded by `leadql run` in the
//! workspace (`qualification_history/` and `sales_activities/`, one file each per
//! run), and what it decided: leads per grade, the sales-ready funnel and the best
//! sales-ready leads with their reasons.
//!
//! A report never recomputes a qualification: the figures are those of the recorded
//! run, whose activities were created and assigned, so what the page says is what
//! sales was handed. Without a recorded run the report is refused (run `leadql run`).

use std::path::{Path, PathBuf};

use datafusion::common::JoinType;
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions_aggregate::count::count_all;
use datafusion::logical_expr::{col, lit};
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};

use super::values::Rows;
use crate::error::{Error, Result};
use crate::run::{ACTIVITIES, HISTORY, best_first, best_sales_ready};

/// A run recorded in the workspace.
#[derive(Debug, Clone)]
pub struct RecordedRun {
    /// Its qualification file.
    pub history: PathBuf,
    /// Its activities file (absent when the run recorded none).
    pub activities: Option<PathBuf>,
    /// The run's instant (µs since the epoch).
    pub as_of: i64,
    /// The models the run used, as its files' metadata names them
    /// (`engagement (rule model), conversion v3 (logistic_reg)`).
    pub models: String,
}

impl RecordedRun {
    /// The predictive model version the run scored with, as `name@N`.
    pub fn predictive_model(&self) -> Option<String> {
        self.models.split(", ").find_map(|m| {
            let (name, rest) = m.split_once(" v")?;
            let (version, kind) = rest.split_once(' ')?;
            (kind != "(rule model)" && version.parse::<u32>().is_ok())
                .then(|| format!("{name}@{version}"))
        })
    }
}

fn metadata(file: &Path) -> Option<Vec<(String, String)>> {
    let f = std::fs::File::open(file).ok()?;
    let reader = SerializedFileReader::new(f).ok()?;
    let kv = reader.metadata().file_metadata().key_value_metadata()?;
    Some(
        kv.iter()
            .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
            .collect(),
    )
}

fn parse_instant(text: &str) -> Option<i64> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_micros())
}

/// The latest run of `policy` recorded in the workspace `dir` at or before `until`
/// (any time when `None`).
pub fn latest(dir: &Path, policy: &str, until: Option<i64>) -> Result<RecordedRun> {
    let folder = dir.join(HISTORY);
    let mut best: Option<RecordedRun> = None;
    let entries = match std::fs::read_dir(&folder) {
        Ok(e) => e.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(&folder, e)),
    };
    for path in entries {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if name.starts_with('.') || !name.ends_with(".parquet") {
            continue;
        }
        let Some(meta) = metadata(&path) else {
            continue;
        };
        let value = |k: &str| {
            meta.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        if value("leadql.policy").as_deref() != Some(policy) {
            continue;
        }
        let Some(as_of) = value("leadql.as_of").as_deref().and_then(parse_instant) else {
            continue;
        };
        if until.is_some_and(|u| as_of > u) || best.as_ref().is_some_and(|b| b.as_of >= as_of) {
            continue;
        }
        let activities = dir.join(ACTIVITIES).join(&name);
        best = Some(RecordedRun {
            history: path,
            activities: activities.is_file().then_some(activities),
            as_of,
            models: value("leadql.models").unwrap_or_default(),
        });
    }
    best.ok_or_else(|| Error::Argument {
        arg: "--policy".into(),
        reason: format!(
            "the workspace has no run of policy '{policy}' recorded{} in {}: run `leadql run --policy {policy}` first (the report shows what a run decided)",
            until.map_or(String::new(), |u| format!(
                " at or before {}",
                super::page::instant_text(u)
            )),
            folder.display()
        ),
    })
}

/// The run's qualification: its open leads in the policy's audience.
pub async fn qualification(ctx: &SessionContext, run: &RecordedRun) -> Result<DataFrame> {
    let path = run.history.to_string_lossy().into_owned();
    Ok(ctx
        .read_parquet(path, ParquetReadOptions::default())
        .await?)
}

/// Leads per grade of one grade column.
#[derive(Debug, Clone, Default)]
pub struct GradeCounts {
    /// `(grade, leads)`; `(none)` for leads without a grade.
    pub counts: Vec<(String, i64)>,
}

/// The sales-ready funnel of a run.
#[derive(Debug, Clone, Default)]
pub struct Funnel {
    /// Open leads in the policy's audience (the qualification's rows).
    pub open: i64,
    /// Sales-ready leads (including those kept sales-ready from earlier runs).
    pub sales_ready: i64,
    /// Leads sales-ready for the first time at this run.
    pub newly: i64,
    /// Activities the run created.
    pub activities: i64,
    /// Of which assigned to a seller.
    pub assigned: i64,
    /// Unassigned activities by reason.
    pub unassigned: Vec<(String, i64)>,
}

/// A sales-ready lead of the run.
#[derive(Debug, Clone)]
pub struct TopLead {
    /// Lead id.
    pub lead_id: i64,
    /// First and last name.
    pub name: String,
    /// Company as entered.
    pub company: String,
    /// The policy's rule score and grade.
    pub rule: (Option<f64>, Option<String>),
    /// The predictive score (%) and grade.
    pub predictive: (Option<f64>, Option<String>),
    /// Since when it is sales-ready.
    pub since: Option<i64>,
    /// Why it is sales-ready.
    pub reasons: String,
}

/// What a recorded run decided.
#[derive(Debug, Clone, Default)]
pub struct RunFigures {
    /// Leads per rule grade.
    pub rule_grades: GradeCounts,
    /// Leads per predictive grade.
    pub predictive_grades: GradeCounts,
    /// The funnel.
    pub funnel: Funnel,
    /// The best sales-ready leads.
    pub top: Vec<TopLead>,
}

async fn grades(qualification: &DataFrame, column: &str, order: &[String]) -> Result<GradeCounts> {
    let rows = Rows::of(
        qualification
            .clone()
            .aggregate(
                vec![coalesce(vec![col(column), lit("(none)")]).alias("grade")],
                vec![count_all().alias("leads")],
            )?
            .sort(vec![col("grade").sort(true, false)])?,
    )
    .await?;
    let mut counts: Vec<(String, i64)> = rows
        .strings("grade")?
        .into_iter()
        .zip(rows.ints("leads")?)
        .map(|(g, n)| (g.unwrap_or_default(), n.unwrap_or(0)))
        .collect();
    // Best grade first, as the model lists them; others after, by name.
    let rank = |g: &str| order.iter().position(|o| o == g).unwrap_or(order.len());
    counts.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then(a.0.cmp(&b.0)));
    Ok(GradeCounts { counts })
}

/// The figures of `run`, read in `ctx` (the workspace as known at the run);
/// `rule_order` lists the policy's rule grades best first; `top` leads are listed.
pub async fn figures(
    ctx: &SessionContext,
    run: &RecordedRun,
    rule_order: &[String],
    top: usize,
) -> Result<RunFigures> {
    let qualification = qualification(ctx, run).await?.cache().await?;
    let predictive_order: Vec<String> = ["A", "B", "C", "D"].map(String::from).to_vec();
    let rule_grades = grades(&qualification, "rule_grade", rule_order).await?;
    let predictive_grades = grades(&qualification, "predictive_grade", &predictive_order).await?;

    let counts = Rows::of(qualification.clone().aggregate(
        vec![],
        vec![
            count_all().alias("open"),
            datafusion::functions_aggregate::expr_fn::sum(
                datafusion::logical_expr::when(col("sales_ready"), lit(1i64)).otherwise(lit(0i64))?,
            )
            .alias("sales_ready"),
            datafusion::functions_aggregate::expr_fn::sum(
                datafusion::logical_expr::when(
                    col("sales_ready").and(col("sales_ready_since").eq(col("as_of"))),
                    lit(1i64),
                )
                .otherwise(lit(0i64))?,
            )
            .alias("newly"),
        ],
    )?)
    .await?;
    let first = |v: Vec<Option<i64>>| v.first().copied().flatten().unwrap_or(0);
    let mut funnel = Funnel {
        open: first(counts.ints("open")?),
        sales_ready: first(counts.ints("sales_ready")?),
        newly: first(counts.ints("newly")?),
        ..Funnel::default()
    };
    if let Some(file) = &run.activities {
        let activities = ctx
            .read_parquet(
                file.to_string_lossy().into_owned(),
                ParquetReadOptions::default(),
            )
            .await?;
        let rows = Rows::of(
            activities
                .aggregate(
                    vec![
                        col("seller_id").is_not_null().alias("assigned"),
                        coalesce(vec![col("unassigned_reason"), lit("no reason given")])
                            .alias("reason"),
                    ],
                    vec![count_all().alias("n")],
                )?
                .sort(vec![
                    col("assigned").sort(false, false),
                    col("reason").sort(true, false),
                ])?,
        )
        .await?;
        let assigned = rows.bools("assigned")?;
        let reasons = rows.strings("reason")?;
        for ((a, r), n) in assigned.into_iter().zip(reasons).zip(rows.ints("n")?) {
            let n = n.unwrap_or(0);
            funnel.activities += n;
            if a == Some(true) {
                funnel.assigned += n;
            } else {
                funnel.unassigned.push((r.unwrap_or_default(), n));
            }
        }
    }

    let leads = ctx.table("leads").await?.select(vec![
        col("lead_id").alias("__lead"),
        col("first_name"),
        col("last_name"),
        col("company"),
    ])?;
    let best = Rows::of(
        best_sales_ready(qualification, top)?
            .join(leads, JoinType::Left, &["lead_id"], &["__lead"], None)?
            .sort(best_first())?,
    )
    .await?;
    let ids = best.ints("lead_id")?;
    let (first_names, last_names) = (best.strings("first_name")?, best.strings("last_name")?);
    let company = best.strings("company")?;
    let (rule_score, rule_grade) = (best.floats("rule_score")?, best.strings("rule_grade")?);
    let (p_score, p_grade) = (
        best.floats("predictive_score")?,
        best.strings("predictive_grade")?,
    );
    let since = best.instants("sales_ready_since")?;
    let reasons = best.strings("reasons")?;
    let mut top_leads = Vec::new();
    for i in 0..best.len() {
        let name = [first_names[i].as_deref(), last_names[i].as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        top_leads.push(TopLead {
            lead_id: ids[i].unwrap_or(0),
            name,
            company: company[i].clone().unwrap_or_default(),
            rule: (rule_score[i], rule_grade[i].clone()),
            predictive: (p_score[i], p_grade[i].clone()),
            since: since[i],
            reasons: reasons[i].clone().unwrap_or_default(),
        });
    }
    Ok(RunFigures {
        rule_grades,
        predictive_grades,
        funnel,
        top: top_leads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_predictive_model_version_comes_from_the_metadata() {
        let run = |models: &str| RecordedRun {
            history: PathBuf::new(),
            activities: None,
            as_of: 0,
            models: models.into(),
        };
        assert_eq!(
            run("engagement (rule model), fit (rule model), conversion v3 (logistic_reg)")
                .predictive_model()
                .as_deref(),
            Some("conversion@3")
        );
        assert_eq!(run("engagement (rule model)").predictive_model(), None);
        assert_eq!(run("").predictive_model(), None);
    }
}
