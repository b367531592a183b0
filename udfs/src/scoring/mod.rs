//! Building blocks of rule-based lead scores.

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

pub mod decay;

/// The scoring functions.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![decay::decay_udf()]
}
