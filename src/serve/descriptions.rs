//! `col_description(table_oid, column_number)`, `obj_description(oid [, catalog])` and
//! `shobj_description(oid, catalog)`: PostgreSQL's comments on columns and objects,
//! which BI tools read beside names and types (Metabase's field sync, `psql`'s `\d+`).
//!
//! leadql keeps no comments (there is no `COMMENT ON`), so each call is NULL, as
//! PostgreSQL answers for an object without one. The calls are replaced by a text NULL
//! before planning, arguments and all: Metabase passes
//! `CAST(format('%I.%I', schema, table) AS regclass)`, a name-to-oid cast of a column
//! that DataFusion cannot plan, and whose value could not change the answer.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    CastKind, DataType, Expr, ObjectNamePart, Statement, Value, visit_expressions_mut,
};

const NAMES: &[&str] = &["col_description", "obj_description", "shobj_description"];

/// Replaces `statement`'s description calls with a text NULL.
pub fn rewrite(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        if let Expr::Function(f) = expr {
            let last = f.name.0.last().map(|p| match p {
                ObjectNamePart::Identifier(i) => i.value.to_ascii_lowercase(),
                other => other.to_string().to_ascii_lowercase(),
            });
            if last.is_some_and(|n| NAMES.contains(&n.as_str())) {
                *expr = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(Expr::value(Value::Null)),
                    data_type: DataType::Text,
                    array: false,
                    format: None,
                };
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    #[test]
    fn description_calls_become_null_text() {
        let mut statement = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(
                "SELECT col_description(CAST(CAST(format('%I.%I', s, t) AS REGCLASS) AS OID), n) AS c, \
                 pg_catalog.obj_description(o, 'pg_class'), lower(x) FROM y",
            )
            .and_then(|mut p| p.parse_statement())
            .expect("parses");
        rewrite(&mut statement);
        assert_eq!(
            statement.to_string(),
            "SELECT CAST(NULL AS TEXT) AS c, CAST(NULL AS TEXT), lower(x) FROM y"
        );
    }
}
