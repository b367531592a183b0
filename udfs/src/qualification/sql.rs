//! The SQL of a qualification: the policy's scores joined on the leads open at
//! `as_of`, its criteria, the reasons, and the sales-ready marks of earlier runs.
//!
//! Generated as text so that `EXPLAIN SELECT * FROM qualify_leads('default')` shows a
//! plan a reader can follow, and so that every piece is an ordinary SQL function.

use datafusion::common::{Result, plan_datafusion_err, plan_err};
use leadql_models::domain::ConsentLevel;
use leadql_models::policy::{Combine, Policy};
use leadql_models::rules::RuleModel;

/// A string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A timestamp literal of µs since the epoch.
pub fn timestamp(micros: i64) -> String {
    let t = chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        .unwrap_or_else(|| "1970-01-01 00:00:00".into());
    format!("TIMESTAMP '{t}'")
}

/// The lead's most recent key interaction as text ("last pricing visit 3 days ago"),
/// from the recency features of a point-in-time model's input.
fn recency() -> String {
    use crate::snapshots::plan::{NEVER_DAYS, RECENCY_TYPES};
    let label = |t: &'static str| -> &'static str {
        match t {
            "pricing_page_visit" => "pricing visit",
            "form_submit" => "form",
            "email_click" => "email click",
            "web_visit" => "web visit",
            "webinar_attend" => "webinar",
            "event_checkin" => "event check-in",
            other => other,
        }
    };
    let columns: Vec<String> = RECENCY_TYPES
        .iter()
        .map(|t| format!("days_since_{t}"))
        .collect();
    let least = format!("least({})", columns.join(", "));
    let which: Vec<String> = RECENCY_TYPES
        .iter()
        .zip(&columns)
        .map(|(t, c)| format!("WHEN {c} = {least} THEN '{}'", label(t)))
        .collect();
    format!(
        "CASE WHEN {least} >= {NEVER_DAYS:?} THEN NULL \
         WHEN {least} < 1 THEN 'last ' || CASE {w} END || ' today' \
         ELSE 'last ' || CASE {w} END || ' ' || CAST(CAST(floor({least}) AS BIGINT) AS VARCHAR) || \
         CASE WHEN floor({least}) = 1 THEN ' day ago' ELSE ' days ago' END END",
        w = which.join(" ")
    )
}

/// The workspace table holding earlier runs' qualifications (written by `leadql run`).
pub const HISTORY: &str = "qualification_history";

/// The qualification query of `policy` at `as_of`. `rules` are the policy's rule
/// models in order; `history` tells whether [`HISTORY`] exists.
pub fn qualification(
    policy: &Policy,
    rules: &[std::sync::Arc<RuleModel>],
    as_of: i64,
    history: bool,
) -> Result<String> {
    let t = timestamp(as_of);
    let mut ctes = vec![format!(
        "status_at AS (SELECT lead_id, last_value(status ORDER BY occurred_at, event_id) AS status \
         FROM lead_status_events WHERE occurred_at <= {t} GROUP BY lead_id)"
    )];
    let mut columns = Vec::new();
    let mut joins = Vec::new();
    for (i, model) in rules.iter().enumerate() {
        ctes.push(format!(
            "r{i} AS (SELECT lead_id, score, grade FROM score_leads({}, {t}))",
            literal(&model.name)
        ));
        columns.push(format!("r{i}.score AS s{i}, r{i}.grade AS g{i}"));
        joins.push(format!("LEFT JOIN r{i} ON r{i}.lead_id = l.lead_id"));
    }
    if let Some(model) = &policy.predictive_model {
        // A feature relation, or the point-in-time model's own features at `as_of`
        // (which carry the recency the reasons name).
        let (features, recency) = match &policy.predictive_features {
            Some(f) => (literal(f), "CAST(NULL AS VARCHAR)".to_string()),
            None => (t.clone(), recency()),
        };
        ctes.push(format!(
            "p AS (SELECT lead_id, score, grade, {recency} AS recency FROM predict({}, {features}))",
            literal(model),
        ));
        columns.push("p.score AS ps, p.grade AS pg, p.recency AS pr".into());
        joins.push("LEFT JOIN p ON p.lead_id = l.lead_id".into());
    } else {
        columns.push(
            "CAST(NULL AS DOUBLE) AS ps, CAST(NULL AS VARCHAR) AS pg, CAST(NULL AS VARCHAR) AS pr"
                .into(),
        );
    }
    if history {
        ctes.push(format!(
            "prior AS (SELECT lead_id, min(sales_ready_since) AS since FROM {HISTORY} \
             WHERE policy = {} AND sales_ready AND as_of < {t} GROUP BY lead_id)",
            literal(&policy.name)
        ));
        columns.push("prior.since AS since".into());
        joins.push("LEFT JOIN prior ON prior.lead_id = l.lead_id".into());
    } else {
        columns.push("CAST(NULL AS TIMESTAMP) AS since".into());
    }
    let mut filters = vec![
        format!("l.created_at <= {t}"),
        "coalesce(st.status, l.status) = 'open'".to_string(),
    ];
    if let Some(c) = policy.min_consent {
        let allowed: Vec<String> = ConsentLevel::ALL
            .iter()
            .filter(|l| **l >= c)
            .map(|l| literal(l.as_str()))
            .collect();
        filters.push(format!("l.consent IN ({})", allowed.join(", ")));
    }
    if let Some(w) = &policy.audience_where {
        let w = crate::predicate::expression(w)
            .map_err(|e| plan_datafusion_err!("{}: [audience] where: {e}", policy.file))?;
        filters.push(w);
    }

    // Criteria: (condition, text when met, text when not met).
    let mut met = Vec::new();
    let mut texts_met = Vec::new();
    let mut texts_unmet = Vec::new();
    for (k, c) in policy.criteria.iter().enumerate() {
        let (score, grade) = match rules.iter().position(|m| m.name == c.model) {
            Some(i) => (format!("s{i}"), format!("g{i}")),
            None => ("ps".to_string(), "pg".to_string()),
        };
        let shown = format!("coalesce(CAST(round({score}, 1) AS VARCHAR), 'unscored')");
        let name = literal(&c.model);
        let (condition, yes, no) = match (&c.min_score, &c.min_grade) {
            (Some(min), _) => (
                format!("{score} >= {min:?}"),
                format!("{name} || ' ' || {shown} || ' >= {min}'"),
                format!("{name} || ' ' || {shown} || ' < {min}'"),
            ),
            (None, Some(g)) => {
                let condition = match rules.iter().find(|m| m.name == c.model) {
                    Some(model) => {
                        let Some(grade) = model.grades.iter().find(|x| &x.name == g) else {
                            let names: Vec<&str> =
                                model.grades.iter().map(|x| x.name.as_str()).collect();
                            return plan_err!(
                                "{}",
                                policy.error_at(
                                    c.line,
                                    format!(
                                        "min_grade '{g}' is not a grade of rule model '{}' (grades: {})",
                                        model.name,
                                        names.join(", ")
                                    )
                                )
                            );
                        };
                        match grade.min {
                            Some(min) => format!("{score} >= {min:?}"),
                            None => format!("{score} IS NOT NULL"),
                        }
                    }
                    // Predictive grades: A is best, so "B or better" is grade <= 'B'.
                    None => format!("{grade} <= {}", literal(g)),
                };
                let g = g.replace('\'', "''");
                (
                    condition,
                    format!(
                        "{name} || ' ' || {shown} || ', grade ' || coalesce({grade}, 'none') || ' ({g} or better)'{}",
                        if score == "ps" {
                            " || coalesce(', ' || pr, '')"
                        } else {
                            ""
                        }
                    ),
                    format!(
                        "{name} || ' ' || {shown} || ', grade ' || coalesce({grade}, 'none') || ' (needs {g})'"
                    ),
                )
            }
            (None, None) => return plan_err!("criterion on '{}' has no threshold", c.model),
        };
        met.push(format!("coalesce({condition}, false) AS c{k}"));
        texts_met.push(format!("CASE WHEN c{k} THEN {yes} END"));
        texts_unmet.push(format!("CASE WHEN NOT c{k} THEN {no} END"));
    }
    let joiner = match policy.combine {
        Combine::Any => " OR ",
        Combine::All => " AND ",
    };
    let ready_now = if policy.criteria.is_empty() {
        "false".to_string()
    } else {
        (0..policy.criteria.len())
            .map(|k| format!("c{k}"))
            .collect::<Vec<_>>()
            .join(joiner)
    };
    let texts_met = if texts_met.is_empty() {
        vec!["'no criteria'".to_string()]
    } else {
        texts_met
    };
    let texts_unmet = if texts_unmet.is_empty() {
        vec!["'no criteria'".to_string()]
    } else {
        texts_unmet
    };
    let met = if met.is_empty() {
        vec!["true AS no_criteria".to_string()]
    } else {
        met
    };
    let (rule_score, rule_grade) = if rules.is_empty() {
        ("CAST(NULL AS DOUBLE)", "CAST(NULL AS VARCHAR)")
    } else {
        ("s0", "g0")
    };
    Ok(format!(
        "WITH {ctes},\n\
         base AS (SELECT l.lead_id, {columns} FROM leads l LEFT JOIN status_at st ON st.lead_id = l.lead_id {joins} WHERE {filters}),\n\
         judged AS (SELECT *, {met} FROM base)\n\
         SELECT lead_id, {rule_score} AS rule_score, {rule_grade} AS rule_grade, ps AS predictive_score, pg AS predictive_grade, \
         ({ready_now}) OR since IS NOT NULL AS sales_ready, \
         CASE WHEN {ready_now} THEN concat_ws('; ', {texts_met}) \
              WHEN since IS NOT NULL THEN 'sales-ready since ' || CAST(since AS VARCHAR) || ' (kept although now: ' || concat_ws('; ', {texts_unmet}) || ')' \
              ELSE 'not sales-ready: ' || concat_ws('; ', {texts_unmet}) END AS reasons, \
         CASE WHEN since IS NOT NULL THEN since WHEN {ready_now} THEN {t} END AS sales_ready_since, \
         {policy_name} AS policy, {t} AS as_of \
         FROM judged",
        ctes = ctes.join(",\n"),
        columns = columns.join(", "),
        joins = joins.join(" "),
        filters = filters.join(" AND "),
        met = met.join(", "),
        texts_met = texts_met.join(", "),
        texts_unmet = texts_unmet.join(", "),
        policy_name = literal(&policy.name),
    ))
}
