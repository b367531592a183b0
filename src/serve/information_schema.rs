//! The parts of PostgreSQL's `information_schema` that DataFusion's lacks and BI tools
//! read: Metabase's field sync joins `information_schema.columns` (for `udt_schema`,
//! `udt_name`, `is_identity`) with `table_constraints` and `key_column_usage`.
//!
//! DataFusion answers `information_schema` itself and lets no one add tables to it, so
//! a statement's references are rewritten before planning:
//!
//! - `information_schema.columns` becomes DataFusion's columns with PostgreSQL's type
//!   names beside them (`udt_schema`, `udt_name` from the `pg_catalog` emulation, the
//!   same names `\d` and DBeaver show), `data_type` in PostgreSQL's words (`bigint`,
//!   `timestamp without time zone`), `is_identity = 'NO'`, and `ordinal_position`
//!   from 1;
//! - `table_constraints`, `key_column_usage`, `referential_constraints` and
//!   `constraint_column_usage` become empty tables with PostgreSQL's columns: leadql's
//!   tables have no keys or constraints.
//!
//! A reference written with its catalog (`datafusion.information_schema.columns`) is
//! left alone; the rewrite itself reads DataFusion's tables that way.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Ident, ObjectNamePart, Query, TableAlias, TableFactor, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// DataFusion's `information_schema.columns` with PostgreSQL's type names, and
/// `ordinal_position` counted from 1 as in PostgreSQL (DataFusion counts from 0).
const COLUMNS: &str = "SELECT c.table_catalog, c.table_schema, c.table_name, c.column_name, \
     c.ordinal_position + 1 AS ordinal_position, c.column_default, c.is_nullable, \
     coalesce(t.type_name, c.data_type) AS data_type, \
     c.character_maximum_length, c.character_octet_length, c.numeric_precision, \
     c.numeric_precision_radix, c.numeric_scale, c.datetime_precision, c.interval_type, \
     'pg_catalog' AS udt_schema, coalesce(t.typname, 'text') AS udt_name, 'NO' AS is_identity \
     FROM datafusion.information_schema.columns AS c \
     LEFT JOIN (SELECT n.nspname, k.relname, a.attname, y.typname, \
       format_type(y.oid, NULL) AS type_name \
       FROM pg_catalog.pg_attribute AS a \
       JOIN pg_catalog.pg_class AS k ON a.attrelid = k.oid \
       JOIN pg_catalog.pg_namespace AS n ON k.relnamespace = n.oid \
       JOIN pg_catalog.pg_type AS y ON a.atttypid = y.oid) AS t \
     ON c.table_schema = t.nspname AND c.table_name = t.relname AND c.column_name = t.attname";

/// The always-empty views: their PostgreSQL columns, all text except where typed.
const EMPTY: &[(&str, &[&str])] = &[
    (
        "table_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "constraint_type",
            "is_deferrable",
            "initially_deferred",
            "enforced",
            "nulls_distinct",
        ],
    ),
    (
        "key_column_usage",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position int",
            "position_in_unique_constraint int",
        ],
    ),
    (
        "referential_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "unique_constraint_catalog",
            "unique_constraint_schema",
            "unique_constraint_name",
            "match_option",
            "update_rule",
            "delete_rule",
        ],
    ),
    (
        "constraint_column_usage",
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
        ],
    ),
];

/// The query that stands for `information_schema.NAME`, if leadql emulates it.
fn replacement(name: &str) -> Option<String> {
    if name == "columns" {
        return Some(COLUMNS.to_string());
    }
    let (_, columns) = EMPTY.iter().find(|(n, _)| *n == name)?;
    let list: Vec<String> = columns
        .iter()
        .map(|c| match c.split_once(' ') {
            Some((column, "int")) => format!("CAST(NULL AS INT) AS {column}"),
            _ => format!("CAST(NULL AS TEXT) AS {c}"),
        })
        .collect();
    Some(format!("SELECT {} WHERE false", list.join(", ")))
}

fn parse(sql: &str) -> Option<Box<Query>> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_query())
        .ok()
}

struct Rewrite;

impl VisitorMut for Rewrite {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name, alias, args, ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => i.value.to_ascii_lowercase(),
                other => other.to_string().to_ascii_lowercase(),
            })
            .collect();
        let [schema, table] = parts.as_slice() else {
            return ControlFlow::Continue(());
        };
        if schema != "information_schema" || args.is_some() {
            return ControlFlow::Continue(());
        }
        let Some(subquery) = replacement(table).as_deref().and_then(parse) else {
            return ControlFlow::Continue(());
        };
        let alias = alias.clone().unwrap_or_else(|| TableAlias {
            explicit: true,
            name: Ident::new(table.clone()),
            columns: vec![],
            at: None,
        });
        *factor = TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(alias),
            sample: None,
        };
        ControlFlow::Continue(())
    }
}

/// Rewrites `statement`'s references to the emulated `information_schema` views.
pub fn rewrite(statement: &mut datafusion::sql::sqlparser::ast::Statement) {
    let _ = statement.visit(&mut Rewrite);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statement = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_statement())
            .expect("parses");
        rewrite(&mut statement);
        statement.to_string()
    }

    #[test]
    fn emulated_views_become_subqueries_keeping_their_alias() {
        let sql = rewritten(
            "SELECT c.udt_name FROM information_schema.columns AS c \
             LEFT JOIN information_schema.table_constraints tc ON true",
        );
        assert!(
            sql.contains("FROM datafusion.information_schema.columns AS c"),
            "{sql}"
        );
        assert!(sql.contains(") AS c LEFT JOIN (SELECT"), "{sql}");
        assert!(sql.contains("WHERE false) tc ON true"), "{sql}");
        // Unaliased: the view's own name.
        let sql = rewritten("SELECT * FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE");
        assert!(
            sql.contains("CAST(NULL AS INT) AS ordinal_position"),
            "{sql}"
        );
        assert!(sql.ends_with("AS key_column_usage"), "{sql}");
    }

    #[test]
    fn other_tables_are_left_alone() {
        for sql in [
            "SELECT * FROM information_schema.tables",
            "SELECT * FROM datafusion.information_schema.columns",
            "SELECT * FROM columns",
            "SELECT * FROM public.table_constraints",
        ] {
            assert_eq!(rewritten(sql), sql);
        }
    }
}
