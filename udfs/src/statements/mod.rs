//! The statements leadql runs itself: `CREATE MODEL`, `SHOW MODELS` and `DROP MODEL`.
//!
//! The statement layer of the `leadql` crate parses them (DataFusion does not know
//! them) and runs each as the query over its table function that [`create_model::sql`],
//! [`show_models::sql`] or [`drop_model::sql`] builds; the files here document them
//! for the catalogue.

pub mod create_model;
pub mod drop_model;
pub mod show_models;

/// A SQL string literal of `text` (quotes doubled): the statements are rewritten into
/// SQL text over their table functions, which `leadql sql` then plans.
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
