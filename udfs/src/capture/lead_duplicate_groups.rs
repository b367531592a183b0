//! `lead_duplicate_groups([min_similarity])`: the leads `lead_duplicates` pairs, put
//! together transitively into groups: if A and B are duplicates and so are B and C,
//! A, B and C are one group, named by its smallest lead id.
//!
//! ```sql
//! SELECT * FROM lead_duplicate_groups() WHERE group_size > 2 ORDER BY group_id, lead_id;
//! ```
//!
//! Columns: `lead_id`, `group_id` (the smallest lead id of the group), `group_size`
//! (2 or more). A lead in no pair is in no group. The pairs come from the plan of
//! `lead_duplicates` at the same `min_similarity`; the grouping (union–find,
//! [`leadql_models::matching::duplicate_groups`]) runs when the query reads the table.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::Documentation;
use leadql_models::matching::duplicate_groups;

use super::lead_duplicates::{duplicates_sql, min_similarity};
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
        "lead_duplicate_groups([min_similarity])",
    )
    .with_argument(
        "min_similarity",
        "As for `lead_duplicates`: the least `name_similarity` of the name-based rules, from 0 to 1 (default 0.9).",
    )
    .with_sql_example(
        "> SELECT group_size, count(DISTINCT group_id) AS groups, count(*) AS leads
  FROM lead_duplicate_groups() GROUP BY group_size ORDER BY group_size;
+------------+--------+-------+
| group_size | groups | leads |
+------------+--------+-------+
| 2          | 34     | 68    |
| 3          | 1      | 3     |
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
        let min = min_similarity(state, NAME, args.exprs())?;
        Ok(DeferredTable::new(
            schema(),
            Box::new(move |state| {
                Box::pin(async move {
                    let plan = state.create_logical_plan(&duplicates_sql(min)).await?;
                    let batches = DataFrame::new(state.clone(), plan)
                        .select_columns(&["lead_id", "duplicate_id"])?
                        .collect()
                        .await?;
                    let mut pairs = Vec::new();
                    for b in &batches {
                        let (a, d) = (
                            b.column(0).as_primitive::<Int64Type>(),
                            b.column(1).as_primitive::<Int64Type>(),
                        );
                        for i in 0..b.num_rows() {
                            if a.is_valid(i) && d.is_valid(i) {
                                pairs.push((a.value(i), d.value(i)));
                            }
                        }
                    }
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
