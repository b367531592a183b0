//! `drop_model(name [, if_exists])`: removes every version of a model (the table form
//! of `DROP MODEL`). Runs when the result is read; returns the versions removed.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::Documentation;
use leadql_models::store::check_name;

use super::registry::PredictiveModels;
use crate::args;
use crate::catalogue::{Build, Entry, Function, PREDICTIVE};
use crate::deferred::DeferredTable;
use crate::scoring::common::state;

/// The SQL name.
pub const NAME: &str = "drop_model";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Predictive(|models| Function::Table(Arc::new(DropModel::new(models.clone())))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PREDICTIVE,
        "Removes every version of a model: `DROP MODEL` as a table function. The model is removed when the result is read, in one step (its folder is moved aside, then deleted), and the result is one row: `model, versions_removed`. An unknown model is an error, unless `if_exists` is true (0 versions removed). The name is checked first, `if_exists` or not: it is never a path.",
        "drop_model(name [, if_exists])",
    )
    .with_argument("name", "The model's name (a constant string; no `@N`: every version goes).")
    .with_argument("if_exists", "`true`: a missing model is not an error (default `false`).")
    .with_sql_example(
        "> SELECT * FROM drop_model('conversion');
+------------+------------------+
| model      | versions_removed |
+------------+------------------+
| conversion | 1                |
+------------+------------------+
> SELECT * FROM drop_model('conversion', true);
+------------+------------------+
| model      | versions_removed |
+------------+------------------+
| conversion | 0                |
+------------+------------------+",
    )
    .with_related_udf("DROP MODEL")
    .with_related_udf("show_models")
    .build()
});

/// The `drop_model` table function.
#[derive(Debug)]
pub struct DropModel {
    models: Arc<PredictiveModels>,
}

impl DropModel {
    /// Drops from `models`.
    pub fn new(models: Arc<PredictiveModels>) -> Self {
        DropModel { models }
    }
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("versions_removed", DataType::Int64, false),
    ]))
}

impl TableFunctionImpl for DropModel {
    fn call_with_args(&self, fargs: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(fargs.session())?;
        let exprs = fargs.exprs();
        if exprs.is_empty() || exprs.len() > 2 {
            return plan_err!(
                "{NAME} expects (name [, if_exists]), got {} arguments",
                exprs.len()
            );
        }
        let name = args::string(state, NAME, "name", &exprs[0])?;
        // Checked before anything else, IF EXISTS included: a name is never a path.
        if let Err(e) = check_name(&name) {
            return plan_err!("{NAME}: argument name: {e}");
        }
        let if_exists = match exprs.get(1).map(|e| args::constant(state, e)) {
            None => false,
            Some(Ok(ScalarValue::Boolean(Some(b)))) => b,
            Some(_) => return plan_err!("{NAME}: argument if_exists must be true or false"),
        };
        let models = self.models.clone();
        Ok(DeferredTable::new(
            schema(),
            Box::new(move |_state| {
                let (models, name) = (models.clone(), name.clone());
                Box::pin(async move {
                    let removed = match models.drop_model(&name) {
                        Ok(n) => n,
                        Err(_) if if_exists => 0,
                        Err(e) => return Err(e),
                    };
                    Ok(RecordBatch::try_new(
                        schema(),
                        vec![
                            Arc::new(StringArray::from(vec![name])),
                            Arc::new(Int64Array::from(vec![removed as i64])),
                        ],
                    )?)
                })
            }),
        ))
    }
}
