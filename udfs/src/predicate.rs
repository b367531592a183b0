//! User-written SQL predicates — a policy's audience, its hand-off rules' `when` and
//! `sellers`, a rule model's conditions — are one boolean expression each: parsed as
//! an expression and re-rendered from the parsed tree, never pasted into a statement
//! as text, so `true) OR (true` cannot escape the parentheses around it.
//!
//! A predicate may not query: no `SELECT` (a subquery could call the very table
//! function that evaluates the predicate, e.g. `score_leads` inside a rule of the
//! model it scores, and recurse without end).
//!
//! Every predicate of a policy or rule model is checked when the workspace loads
//! ([`check_policy`], [`check_rule_model`]): a file with a malformed one is invalid,
//! and using it reports `file:line` and the predicate. Plans then turn the checked text
//! into a DataFusion [`Expr`] over the relation it filters ([`condition`]).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::TreeNode;
use datafusion::common::{DataFusionError, Result, plan_datafusion_err};
use datafusion::dataframe::DataFrame;
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::logical_expr::{Expr, ExprSchemable, lit};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use leadql_models::policy::Policy;
use leadql_models::rules::{Located, ModelError, RuleModel};

/// The predicate `text` as one parenthesised SQL expression, or why it is not one.
pub fn expression(text: &str) -> Result<String, String> {
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize()
        .map_err(|e| format!("not a SQL expression ({e})"))?;
    if tokens.iter().any(|t| {
        matches!(t, Token::Word(w) if w.quote_style.is_none()
            && matches!(w.keyword, Keyword::SELECT | Keyword::WITH | Keyword::FROM))
    }) {
        return Err(
            "a predicate may not contain a query (SELECT): it is evaluated per lead, and a subquery could call the function evaluating it".into(),
        );
    }
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| format!("not a SQL expression ({e})"))?;
    let expr = parser
        .parse_expr()
        .map_err(|e| format!("not a SQL expression ({e})"))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(format!(
            "not a single SQL expression: unexpected '{}' after '{expr}'",
            next.token
        ));
    }
    Ok(format!("({expr})"))
}

/// Where a predicate was written, for its errors: `file:line: … in {what} ({text})`.
pub struct Place<'a> {
    /// The policy or rule model file.
    pub file: &'a str,
    /// What the predicate is, e.g. `fit rule 'vp'` or `[audience] where`.
    pub what: &'a str,
}

impl Place<'_> {
    fn invalid(&self, p: &Located<String>, why: impl std::fmt::Display) -> String {
        format!(
            "{}:{}: invalid SQL predicate in {} ({}): {why}",
            self.file, p.line, self.what, p.value
        )
    }
}

/// The predicate `p` as a condition over `frame`'s columns, NULL counting as false,
/// or an error naming its file, line and text (a syntax error, an unknown column, or
/// an expression that is not boolean).
pub fn condition(frame: &DataFrame, place: &Place<'_>, p: &Located<String>) -> Result<Expr> {
    let text = expression(&p.value).map_err(|e| plan_datafusion_err!("{}", place.invalid(p, e)))?;
    let invalid = |e: DataFusionError| plan_datafusion_err!("{}", place.invalid(p, first_line(&e)));
    let expr = frame.parse_sql_expr(&text).map_err(invalid)?;
    // Evaluated per row: no aggregate (`count(*) > 0`), window function or parameter.
    let per_row = !expr
        .exists(|e| {
            Ok(matches!(
                e,
                Expr::AggregateFunction(_) | Expr::WindowFunction(_) | Expr::Placeholder(_)
            ))
        })
        .unwrap_or(true);
    if !per_row {
        return Err(plan_datafusion_err!(
            "{}",
            place.invalid(
                p,
                "a predicate is evaluated per row: no aggregate or window function, no $ parameter"
            )
        ));
    }
    let t = expr.get_type(frame.schema()).map_err(invalid)?;
    if t != DataType::Boolean && t != DataType::Null {
        return Err(plan_datafusion_err!(
            "{}:{}: the predicate in {} ({}) is {t}, not a condition",
            place.file,
            p.line,
            place.what,
            p.value
        ));
    }
    Ok(coalesce(vec![expr, lit(false)]))
}

/// The first line of an error's root cause, without DataFusion's prefix.
pub fn first_line(e: &DataFusionError) -> String {
    let root = e.find_root().to_string();
    let msg = root.lines().next().unwrap_or("").to_string();
    msg.strip_prefix("Error during planning: ")
        .unwrap_or(&msg)
        .to_string()
}

fn check(file: &str, what: &str, p: &Located<String>) -> Result<(), ModelError> {
    expression(&p.value).map(|_| ()).map_err(|e| ModelError {
        file: file.to_string(),
        line: Some(p.line),
        message: format!("invalid SQL predicate in {what} ({}): {e}", p.value),
    })
}

/// Checks that every predicate of `policy` is one SQL expression (at load).
pub fn check_policy(policy: &Policy) -> Result<(), ModelError> {
    if let Some(w) = &policy.audience_where {
        check(&policy.file, "[audience] where", w)?;
    }
    for r in &policy.handoff.rules {
        for (key, p) in [("when", &r.when), ("sellers", &r.sellers)] {
            if let Some(p) = p {
                check(&policy.file, &hand_off_place(key, &r.name), p)?;
            }
        }
    }
    Ok(())
}

/// What a hand-off rule's `when` or `sellers` predicate is called in errors.
pub fn hand_off_place(key: &str, rule: &str) -> String {
    format!("{key} of hand-off rule '{rule}'")
}

/// Checks that every predicate of `model` is one SQL expression (at load).
pub fn check_rule_model(model: &RuleModel) -> Result<(), ModelError> {
    if let Some(a) = &model.audience {
        check(&model.file, "[audience] where", a)?;
    }
    for f in &model.fit {
        check(&model.file, &format!("fit rule '{}'", f.name), &f.predicate)?;
    }
    for b in &model.behavior {
        if let Some(p) = &b.predicate {
            check(&model.file, &format!("behavior rule '{}'", b.name), p)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::expression;

    #[test]
    fn a_predicate_is_one_expression() {
        assert_eq!(
            expression("seniority IN ('vp', 'c_level') AND company_size >= 200").as_deref(),
            Ok("(seniority IN ('vp', 'c_level') AND company_size >= 200)")
        );
        // Strings that look like SQL stay strings.
        assert!(expression("source = 'select from'").is_ok());
    }

    #[test]
    fn injection_and_queries_are_refused() {
        let e = expression("true) OR (true").expect_err("unbalanced");
        assert!(e.contains("not a single SQL expression"), "{e}");
        let e = expression("lead_id IN (SELECT lead_id FROM score_leads('t'))").expect_err("query");
        assert!(e.contains("may not contain a query"), "{e}");
        assert!(expression("").is_err());
        assert!(expression("a = 1; DROP MODEL x").is_err());
    }
}
