//! User-written SQL predicates — a policy's audience, its hand-off rules' `when` and
//! `sellers`, a rule model's conditions — are one boolean expression each: parsed as
//! an expression and re-rendered from the parsed tree, never pasted into a statement
//! as text, so `true) OR (true` cannot escape the parentheses around it.
//!
//! A predicate may not query: no `SELECT` (a subquery could call the very table
//! function that evaluates the predicate, e.g. `score_leads` inside a rule of the
//! model it scores, and recurse without end).

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

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
