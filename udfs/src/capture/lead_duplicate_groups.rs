//! `lead_duplicate_groups([min_score [, max_block]])`: the leads `lead_duplicates` pairs, put
//! together transitively into groups: if A and B are duplicates and so are B and C,
//! A, B and C are one group, named by its smallest lead id.
//!
//! ```sql
//! SELECT * FROM lead_duplicate_groups() WHERE group_size > 2 ORDER BY group_id, lead_id;
//! ```
//!
//! Columns: `lead_id`, `group_id` (the smallest lead id of the group), `group_size`
//! (2 or more). A lead in no pair is in no group. The pairs are `lead_duplicates`'
//! at the same `min_score` and `max_block`; the grouping (union–find,
//! [`leadql_models::matching::duplicate_groups`]) runs when the query reads the table.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;
use leadql_models::matching::duplicate_groups;

use super::lead_duplicates::{duplicates, settings};
use crate::catalogue::{Build, CAPTURE, Entry, Function};
use crate::deferred::DeferredTable;
use crate::scoring::common::state;

/// The SQL name.
pub const NAME: &str = "lead_duplicate_groups";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Standalone(|| Function::Table(Arc::new(LeadDuplicateGroups))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CAPTURE,
        "The duplicate pairs of `lead_duplicates`, joined transitively into groups: when A and B are duplicates and so are B and C, A, B and C form one group, named by its smallest lead id. One row per lead in a group; a lead in no pair is in no group. Columns: `lead_id, group_id, group_size` (2 or more), ordered by group and lead.",
        "lead_duplicate_groups([min_score [, max_block]])",
    )
    .with_argument(
        "min_score",
        "As for `lead_duplicates`: the least match score of a pair, from 0 to 1 (default 0.5).",
    )
    .with_argument(
        "max_block",
        "As for `lead_duplicates`: the most leads one blocking key may pair in full (default 100).",
    )
    .with_sql_example(
        "> SELECT group_size, count(DISTINCT group_id) AS groups, count(*) AS leads
  FROM lead_duplicate_groups(0.01) GROUP BY group_size ORDER BY group_size;
+------------+--------+-------+
| group_size | groups | leads |
+------------+--------+-------+
| 2          | 8      | 16    |
+------------+--------+-------+",
    )
    .with_related_udf("lead_duplicates")
    .build()
});

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("lead_id", DataType::Int64, false),
        Field::new("group_id", DataType::Int64, false),
        Field::new("group_size", DataType::Int64, false),
    ]))
}

/// The `lead_duplicate_groups` table function.
#[derive(Debug, Default)]
pub struct LeadDuplicateGroups;

impl TableFunctionImpl for LeadDuplicateGroups {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(args.session())?;
        let settings = settings(state, NAME, args.exprs())?;
        Ok(DeferredTable::new(
            schema(),
            Box::new(move |state| {
                Box::pin(async move {
                    let found = duplicates(state, settings).await?;
                    let pairs: Vec<(i64, i64)> = found
                        .matches
                        .iter()
                        .map(|m| (m.lead_id, m.duplicate_id))
                        .collect();
                    let groups = duplicate_groups(&pairs);
                    Ok(RecordBatch::try_new(
                        schema(),
                        vec![
                            Arc::new(Int64Array::from_iter_values(
                                groups.iter().map(|m| m.lead_id),
                            )),
                            Arc::new(Int64Array::from_iter_values(
                                groups.iter().map(|m| m.group_id),
                            )),
                            Arc::new(Int64Array::from_iter_values(
                                groups.iter().map(|m| m.group_size as i64),
                            )),
                        ],
                    )?)
                })
            }),
        ))
    }
}
