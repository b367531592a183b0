//! `lead_duplicates([min_similarity])`: pairs of leads that are probably the same
//! person, by the Dynamics 365 duplicate rules.
//!
//! ```sql
//! SELECT * FROM lead_duplicates() ORDER BY similarity DESC;
//! ```
//!
//! Columns: `lead_id` and `duplicate_id` (`lead_id < duplicate_id`), `rule`,
//! `similarity` (0–1). Rules, in order (a pair found by several keeps the first):
//! 1. `same_email`: equal [`normalize_email`](super::normalize_email);
//! 2. `same_phone`: equal [`normalize_phone`](super::normalize_phone) (8 digits or more);
//! 3. `similar_name_and_company`: [`name_similarity`](super::name_similarity) of the
//!    names and of the companies both at least `min_similarity` (default 0.9);
//! 4. `similar_name_same_domain`: names at least `min_similarity` alike and the same
//!    email domain (not a free-mail domain such as gmail.com).
//!
//! Blocking keeps it far from all-pairs: rules 1–2 are equality joins; rules 3–4
//! compare only leads that share the first six letters of the company (rule 3) or the
//! email domain (rule 4), and either the same last name and first initial or the same
//! first name and last initial — so a typo in one of the two names is found, typos in
//! both are not. Leads without a name are left to rules 1–2.

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::Documentation;
use datafusion::logical_expr::Expr;

use leadql_models::matching::FREE_MAIL;

use crate::args;
use crate::catalogue::{Build, CAPTURE, Entry, Function};
use crate::relation;
use crate::scoring::common::state;

/// The SQL name.
pub const NAME: &str = "lead_duplicates";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Standalone(|| Function::Table(Arc::new(LeadDuplicates))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CAPTURE,
        "Pairs of leads of the `leads` table that are probably the same person, by the Dynamics 365 duplicate rules, each pair once (`lead_id < duplicate_id`) under the first rule that finds it: `same_email` (equal `normalize_email`), `same_phone` (equal `normalize_phone`, 8 digits or more), `similar_name_and_company` (`name_similarity` of the names and of the companies both at least `min_similarity`; `similarity` is the smaller), `similar_name_same_domain` (names at least `min_similarity` alike and the same email domain, free-mail domains such as gmail.com excepted). Blocking keeps it far from comparing all pairs: names are compared only between leads sharing the first six letters of the company (or the email domain) and either the last name and first initial or the first name and last initial, so a typo in one of the two names is found, typos in both are not. Columns: `lead_id, duplicate_id, rule, similarity` (0–1).",
        "lead_duplicates([min_similarity])",
    )
    .with_argument("min_similarity", "The least `name_similarity` of the name-based rules, from 0 to 1 (default 0.9).")
    .with_sql_example(
        "> SELECT rule, count(*) AS pairs, round(min(similarity), 3) AS least_similar
  FROM lead_duplicates() GROUP BY rule ORDER BY rule;
+--------------------------+-------+---------------+
| rule                     | pairs | least_similar |
+--------------------------+-------+---------------+
| same_email               | 11    | 1.0           |
| similar_name_and_company | 23    | 0.9           |
| similar_name_same_domain | 3     | 0.916         |
+--------------------------+-------+---------------+
> SELECT count(*) AS pairs FROM lead_duplicates(0.97);
+-------+
| pairs |
+-------+
| 29    |
+-------+",
    )
    .with_related_udf("name_similarity")
    .with_related_udf("normalize_email")
    .with_related_udf("normalize_phone")
    .build()
});

/// The `lead_duplicates` table function.
#[derive(Debug, Default)]
pub struct LeadDuplicates;

/// The query of the duplicate rules at `min` similarity.
pub fn duplicates_sql(min: f64) -> String {
    let free = FREE_MAIL
        .iter()
        .map(|d| format!("'{d}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH n AS (SELECT lead_id, normalize_email(email) AS e, email_domain(email) AS d, normalize_phone(phone) AS p, \
           trim(concat_ws(' ', first_name, last_name)) AS name, company, \
           lower(trim(last_name)) AS ln, lower(trim(first_name)) AS fn, \
           lower(substr(trim(last_name), 1, 1)) AS li, lower(substr(trim(first_name), 1, 1)) AS fi, \
           lower(substr(regexp_replace(company, '[^[:alnum:]]', '', 'g'), 1, 6)) AS company_key FROM leads), \
         by_company AS ( \
           SELECT a.lead_id, b.lead_id AS duplicate_id FROM n a JOIN n b \
             ON a.company_key = b.company_key AND a.ln = b.ln AND a.fi = b.fi AND a.lead_id < b.lead_id WHERE a.company_key <> '' \
           UNION \
           SELECT a.lead_id, b.lead_id FROM n a JOIN n b \
             ON a.company_key = b.company_key AND a.fn = b.fn AND a.li = b.li AND a.lead_id < b.lead_id WHERE a.company_key <> ''), \
         by_domain AS ( \
           SELECT a.lead_id, b.lead_id AS duplicate_id FROM n a JOIN n b \
             ON a.d = b.d AND a.ln = b.ln AND a.fi = b.fi AND a.lead_id < b.lead_id WHERE a.d NOT IN ({free}) \
           UNION \
           SELECT a.lead_id, b.lead_id FROM n a JOIN n b \
             ON a.d = b.d AND a.fn = b.fn AND a.li = b.li AND a.lead_id < b.lead_id WHERE a.d NOT IN ({free})), \
         pairs AS ( \
           SELECT a.lead_id, b.lead_id AS duplicate_id, 1 AS rank, 'same_email' AS rule, 1.0 AS similarity \
             FROM n a JOIN n b ON a.e = b.e AND a.lead_id < b.lead_id \
           UNION ALL \
           SELECT a.lead_id, b.lead_id, 2, 'same_phone', 1.0 \
             FROM n a JOIN n b ON a.p = b.p AND a.lead_id < b.lead_id WHERE length(a.p) >= 8 \
           UNION ALL \
           SELECT lead_id, duplicate_id, 3, 'similar_name_and_company', least(s_name, s_company) FROM ( \
             SELECT c.lead_id, c.duplicate_id, name_similarity(a.name, b.name) AS s_name, \
                    name_similarity(a.company, b.company) AS s_company \
             FROM by_company c JOIN n a ON a.lead_id = c.lead_id JOIN n b ON b.lead_id = c.duplicate_id) x \
           WHERE s_name >= {min:?} AND s_company >= {min:?} \
           UNION ALL \
           SELECT lead_id, duplicate_id, 4, 'similar_name_same_domain', s_name FROM ( \
             SELECT c.lead_id, c.duplicate_id, name_similarity(a.name, b.name) AS s_name \
             FROM by_domain c JOIN n a ON a.lead_id = c.lead_id JOIN n b ON b.lead_id = c.duplicate_id) y \
           WHERE s_name >= {min:?}) \
         SELECT lead_id, duplicate_id, rule, similarity FROM ( \
           SELECT *, row_number() OVER (PARTITION BY lead_id, duplicate_id ORDER BY rank) AS k FROM pairs) z \
         WHERE k = 1"
    )
}

/// The `[min_similarity]` argument of `function` (default 0.9), checked to be a
/// number from 0 to 1.
pub(crate) fn min_similarity(state: &SessionState, function: &str, exprs: &[Expr]) -> Result<f64> {
    let min = match exprs {
        [] => 0.9,
        [e] => match args::constant(state, e)? {
            ScalarValue::Float64(Some(v)) => v,
            ScalarValue::Float32(Some(v)) => f64::from(v),
            ScalarValue::Int64(Some(v)) => v as f64,
            ScalarValue::Decimal128(Some(v), _, scale) => v as f64 / 10f64.powi(i32::from(scale)),
            other => {
                return plan_err!(
                    "{function}: min_similarity must be a number between 0 and 1, got {other}"
                );
            }
        },
        _ => {
            return plan_err!(
                "{function} expects ([min_similarity]), got {} arguments",
                exprs.len()
            );
        }
    };
    if !(0.0..=1.0).contains(&min) {
        return plan_err!("{function}: min_similarity must be between 0 and 1, got {min}");
    }
    Ok(min)
}

impl TableFunctionImpl for LeadDuplicates {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(args.session())?;
        let min = min_similarity(state, NAME, args.exprs())?;
        let plan = relation::plan_sql(state, NAME, &duplicates_sql(min))?;
        Ok(DataFrame::new(state.clone(), plan).into_view())
    }
}
