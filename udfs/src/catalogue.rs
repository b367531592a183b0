//! The catalogue: every SQL function leadql registers and every statement it runs
//! itself, in one list ([`CATALOGUE`]), each with its name, its kind, how to build it
//! and its [`Documentation`].
//!
//! Each entry is defined in the file of its function (its `ENTRY`), next to the code
//! and the documentation it points to; this module only lists them. Registration
//! ([`crate::register_all`] and the other `register_*` functions) walks the list, so a
//! function is registered under the name its entry gives and nowhere else, and the
//! reference `docs/functions.md` is generated from it ([`markdown`]), so the reference
//! and the code cannot drift.
//!
//! Statements (`CREATE MODEL`, `SHOW MODELS`, `DROP MODEL`) are parsed by the
//! statement layer of the `leadql` crate and run through their table-function forms;
//! their entries document them and build the SQL they run.

use std::sync::Arc;

use datafusion::catalog::TableFunctionImpl;
use datafusion::logical_expr::{DocSection, Documentation, ScalarUDF};
use datafusion::prelude::SessionContext;

use crate::capture::{
    email_domain, lead_duplicate_groups, lead_duplicates, name_similarity, normalize_email,
    normalize_phone,
};
use crate::predictive::{
    PredictiveModels, drop_model, explain_prediction, model_evaluation, model_features, predict,
    predict_score, prediction_factors, show_models, top_factors, train,
};
use crate::qualification::{Policies, qualify_leads};
use crate::scoring::{
    RuleModels, decay, evaluate_scoring, lead_grade, score_breakdown, score_leads,
};
use crate::snapshots::{
    backtest, lead_snapshot_features, lead_snapshots, model_backtest, roc_curve,
};
use crate::statements;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A scalar function: one value per row.
    Scalar,
    /// A table function, used in `FROM`.
    Table,
    /// A statement leadql parses and runs itself.
    Statement,
}

impl Kind {
    /// How the reference names it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Scalar => "Scalar function",
            Kind::Table => "Table function",
            Kind::Statement => "Statement",
        }
    }
}

/// A function, built.
#[derive(Debug)]
pub enum Function {
    /// A scalar function (registered under its [`ScalarUDF::name`]).
    Scalar(Arc<ScalarUDF>),
    /// A table function.
    Table(Arc<dyn TableFunctionImpl>),
}

/// How an entry is built, by what it reads from the workspace.
#[derive(Debug, Clone, Copy)]
pub enum Build {
    /// Needs nothing: registered by [`crate::register_all`].
    Standalone(fn() -> Function),
    /// Reads the rule models: [`crate::register_scoring`].
    Rules(fn(&Arc<RuleModels>) -> Function),
    /// Reads the predictive models: [`crate::register_predictive`].
    Predictive(fn(&Arc<PredictiveModels>) -> Function),
    /// Reads the rule and the predictive models: [`crate::register_point_in_time`].
    Models(fn(&Arc<RuleModels>, &Arc<PredictiveModels>) -> Function),
    /// Reads the qualification policies and the rule models they name:
    /// [`crate::register_qualification`].
    Policies(fn(&Arc<Policies>, &Arc<RuleModels>) -> Function),
    /// A statement: not registered (the `leadql` statement layer parses it).
    Statement,
}

/// One function or statement.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Its SQL name (for a statement, its leading keywords).
    pub name: &'static str,
    /// What it is.
    pub kind: Kind,
    /// Its documentation.
    pub documentation: fn() -> &'static Documentation,
    /// How to build it.
    pub build: Build,
}

impl Entry {
    /// A scalar function's entry.
    pub const fn scalar(
        name: &'static str,
        documentation: fn() -> &'static Documentation,
        build: Build,
    ) -> Entry {
        Entry {
            name,
            kind: Kind::Scalar,
            documentation,
            build,
        }
    }

    /// A table function's entry.
    pub const fn table(
        name: &'static str,
        documentation: fn() -> &'static Documentation,
        build: Build,
    ) -> Entry {
        Entry {
            kind: Kind::Table,
            ..Entry::scalar(name, documentation, build)
        }
    }

    /// A statement's entry.
    pub const fn statement(
        name: &'static str,
        documentation: fn() -> &'static Documentation,
    ) -> Entry {
        Entry {
            kind: Kind::Statement,
            ..Entry::scalar(name, documentation, Build::Statement)
        }
    }
}

/// A section of the reference, with its introduction.
const fn section(label: &'static str, description: &'static str) -> DocSection {
    DocSection {
        include: true,
        label,
        description: Some(description),
    }
}

/// Rule scoring.
pub const RULE_SCORING: DocSection = section(
    "Rule scoring",
    "Rule models are TOML files in the workspace's `scoring/` folder (format in [`data/README.md`](../data/README.md#rule-scoring-models-scoringtoml)); the sample ships `engagement` (behaviour, decayed) and `fit` (person and company). Every score is computed as of an instant, by default the workspace's `as_of` (`[workspace] as_of` in `workspace.toml`), and reads only what happened before it.",
);

/// Predictive models.
pub const PREDICTIVE: DocSection = section(
    "Predictive models",
    "Logistic regression, decision trees, random forests and gradient-boosted trees trained on past conversions (`CREATE MODEL`, `train_model`), each training stored as a new version under `models/NAME/vN.json` with its feature pipeline. A model argument `'conversion'` names the active version (pinned with `leadql model activate`, else the latest), `'conversion@3'` version 3. Scores are the probability of the positive label × 100.",
);

/// Point in time.
pub const POINT_IN_TIME: DocSection = section(
    "Point in time",
    "Every score is a statement about an instant. These functions look at the leads open at a series of past instants: from `from` to `to` every `every_days` (counting back from `to`, so `to` is always one), labelled with whether each lead was qualified within `horizon_days` after the instant (a lead disqualified within it is a negative; the label is NULL when the horizon ends after the workspace's `as_of`). `from` and `to` may be NULL: `to` is then the workspace's `as_of` minus the horizon (the latest instant whose outcome is known) and `from` two years before `to`. At most 1,000 instants per call.",
);

/// Qualification.
pub const QUALIFICATION: DocSection = section(
    "Qualification",
    "Policies are TOML files in the workspace's `policies/` folder (format in [`data/README.md`](../data/README.md#qualification-policies-policiestoml)); the sample ships `default`.",
);

/// Lead capture and matching.
pub const CAPTURE: DocSection = section(
    "Lead capture and matching",
    "The building blocks of imports and duplicate detection. The pure logic is in `leadql_models::matching`.",
);

/// Statements.
pub const STATEMENTS: DocSection = section(
    "Statements",
    "Statements leadql parses itself before DataFusion plans the rest (in `leadql sql`, `leadql shell`, `leadql export` and the Python `ws.sql`). Each runs through a table function, which is also callable where custom statements cannot go.",
);

/// Every function and statement, in the order of the reference.
pub const CATALOGUE: &[Entry] = &[
    score_leads::ENTRY,
    score_breakdown::ENTRY,
    evaluate_scoring::ENTRY,
    lead_grade::ENTRY,
    decay::ENTRY,
    train::ENTRY,
    predict::ENTRY,
    predict_score::ENTRY,
    explain_prediction::ENTRY,
    prediction_factors::ENTRY,
    top_factors::ENTRY,
    model_evaluation::ENTRY,
    model_features::ENTRY,
    show_models::ENTRY,
    drop_model::ENTRY,
    lead_snapshots::ENTRY,
    lead_snapshot_features::ENTRY,
    backtest::ENTRY,
    roc_curve::ENTRY,
    model_backtest::ENTRY,
    qualify_leads::ENTRY,
    normalize_email::ENTRY,
    email_domain::ENTRY,
    normalize_phone::ENTRY,
    name_similarity::ENTRY,
    lead_duplicates::ENTRY,
    lead_duplicate_groups::ENTRY,
    statements::create_model::ENTRY,
    statements::show_models::ENTRY,
    statements::drop_model::ENTRY,
];

/// The entry called `name`.
pub fn entry(name: &str) -> Option<&'static Entry> {
    CATALOGUE.iter().find(|e| e.name == name)
}

/// Registers in `ctx` the entries that `build` builds (it returns `None` for the
/// others).
pub(crate) fn register(ctx: &SessionContext, build: impl Fn(&Build) -> Option<Function>) {
    for entry in CATALOGUE {
        match build(&entry.build) {
            Some(Function::Scalar(f)) => ctx.register_udf(f.as_ref().clone()),
            Some(Function::Table(f)) => ctx.register_udtf(entry.name, f),
            None => {}
        }
    }
}

/// The heading anchor GitHub gives `### \`name\``.
fn anchor(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// A Markdown table cell: no line breaks, `|` escaped.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

/// The reference of every entry, grouped by section: `docs/functions.md`.
pub fn markdown() -> String {
    let mut sections: Vec<&DocSection> = Vec::new();
    for e in CATALOGUE {
        let section = &(e.documentation)().doc_section;
        if !sections.contains(&section) {
            sections.push(section);
        }
    }
    let mut out = String::from(
        "<!-- Generated from the catalogue (udfs/src/catalogue.rs and the files it lists); do not edit.\n     Regenerate: cargo run -q -p leadql-udfs --example functions_md > docs/functions.md -->\n\n\
         # SQL functions and statements\n\n\
         What leadql adds to [DataFusion's SQL](https://datafusion.apache.org/user-guide/sql/index.html), \
         in every session over a workspace (`leadql sql`, `leadql shell`, `leadql export`, Python's `ws.sql`). \
         The functions that need no workspace are registered into any DataFusion `SessionContext` by \
         `leadql_udfs::register_all`.\n\n\
         Every example runs on a copy of the bundled sample (`data/sample`) in which the `conversion` model \
         has been trained by its recipe (`models/conversion.sql`, as `leadql run` does), and prints what is \
         shown here: `tests/slt.rs` checks it.\n\n",
    );
    for section in &sections {
        out.push_str(&format!(
            "- [{}](#{})\n",
            section.label,
            anchor(section.label)
        ));
        for e in CATALOGUE
            .iter()
            .filter(|e| (e.documentation)().doc_section == **section)
        {
            out.push_str(&format!("  - [`{}`](#{})\n", e.name, anchor(e.name)));
        }
    }
    for section in sections {
        out.push_str(&format!("\n## {}\n", section.label));
        if let Some(d) = section.description {
            out.push_str(&format!("\n{d}\n"));
        }
        for e in CATALOGUE
            .iter()
            .filter(|e| (e.documentation)().doc_section == *section)
        {
            let doc = (e.documentation)();
            out.push_str(&format!("\n### `{}`\n\n", e.name));
            out.push_str(&format!("*{}.* {}\n\n", e.kind.label(), doc.description));
            out.push_str(&format!("```sql\n{}\n```\n", doc.syntax_example));
            for alternative in doc.alternative_syntax.iter().flatten() {
                out.push_str(&format!("\n```sql\n{alternative}\n```\n"));
            }
            if let Some(arguments) = &doc.arguments {
                out.push_str("\n| argument | meaning |\n|---|---|\n");
                for (name, meaning) in arguments {
                    out.push_str(&format!("| `{}` | {} |\n", cell(name), cell(meaning)));
                }
            }
            if let Some(example) = &doc.sql_example {
                out.push_str(&format!("\n**Example**\n\n```sql\n{example}\n```\n"));
            }
            if let Some(related) = &doc.related_udfs {
                let links: Vec<String> = related
                    .iter()
                    .map(|r| format!("[`{r}`](#{})", anchor(r)))
                    .collect();
                out.push_str(&format!("\n**Related:** {}\n", links.join(", ")));
            }
        }
    }
    out
}

/// The statements of an example (`sql_example`), each with the output it shows: a
/// statement starts with `> ` and continues on the lines starting with two spaces; the
/// lines up to the next statement are its output (none: not shown).
pub fn example_statements(example: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut in_statement = false;
    for line in example.lines() {
        if let Some(sql) = line.strip_prefix("> ") {
            out.push((sql.to_string(), String::new()));
            in_statement = true;
        } else if let Some(last) = out.last_mut() {
            if in_statement && let Some(more) = line.strip_prefix("  ") {
                last.0.push('\n');
                last.0.push_str(more);
            } else {
                in_statement = false;
                last.1.push_str(line);
                last.1.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_entry_is_documented() {
        let mut names: Vec<&str> = CATALOGUE.iter().map(|e| e.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "two entries share a name");
        for e in CATALOGUE {
            let doc = (e.documentation)();
            assert!(
                doc.syntax_example.starts_with(e.name),
                "{}: the syntax starts with the name: {}",
                e.name,
                doc.syntax_example
            );
            assert!(doc.description.ends_with('.'), "{}: a sentence", e.name);
            let example = doc.sql_example.as_deref().unwrap_or_default();
            assert!(
                !example_statements(example).is_empty(),
                "{} has no example",
                e.name
            );
            if e.kind != Kind::Statement {
                // Every argument is in the syntax (options of statements are not).
                let syntax = std::iter::once(&doc.syntax_example)
                    .chain(doc.alternative_syntax.iter().flatten())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ");
                for (name, _) in doc.arguments.iter().flatten() {
                    assert!(
                        syntax.contains(name.as_str()),
                        "{}: argument {name}",
                        e.name
                    );
                }
            }
            for related in doc.related_udfs.iter().flatten() {
                assert!(
                    entry(related).is_some(),
                    "{}: related '{related}' is not in the catalogue",
                    e.name
                );
            }
            assert_eq!(
                e.kind == Kind::Statement,
                matches!(e.build, Build::Statement),
                "{}",
                e.name
            );
        }
    }

    #[test]
    fn registration_registers_exactly_the_catalogued_functions() {
        let ctx = SessionContext::new();
        let udfs_before = ctx.state().scalar_functions().clone();
        let tables_before = ctx.state().table_functions().clone();
        crate::register_all(&ctx).expect("registers");
        let rules = Arc::new(RuleModels::new(None));
        let store = leadql_models::store::ModelStore::new(std::env::temp_dir().join("none"));
        let predictive = Arc::new(PredictiveModels::new(store));
        crate::register_scoring(&ctx, rules.clone());
        crate::register_predictive(&ctx, predictive.clone());
        crate::register_qualification(&ctx, Arc::new(Policies::new()), rules.clone());
        crate::register_point_in_time(&ctx, rules, predictive);
        let state = ctx.state();
        let mut scalars: Vec<&str> = state
            .scalar_functions()
            .iter()
            .filter(|(name, _)| !udfs_before.contains_key(*name))
            .map(|(name, udf)| {
                let entry = entry(name).expect("a catalogued name");
                assert_eq!(entry.kind, Kind::Scalar, "{name}");
                assert_eq!(
                    udf.documentation(),
                    Some((entry.documentation)()),
                    "{name}: documentation() is its entry's"
                );
                name.as_str()
            })
            .collect();
        let mut tables: Vec<&str> = state
            .table_functions()
            .keys()
            .filter(|name| !tables_before.contains_key(*name))
            .map(String::as_str)
            .collect();
        scalars.sort_unstable();
        tables.sort_unstable();
        let expected = |kind: Kind| {
            let mut names: Vec<&str> = CATALOGUE
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.name)
                .collect();
            names.sort_unstable();
            names
        };
        assert_eq!(scalars, expected(Kind::Scalar));
        assert_eq!(tables, expected(Kind::Table));
    }

    #[test]
    fn examples_split_into_statements_and_their_output() {
        let example = "> SELECT 1 AS a,\n    2 AS b;\n+---+\n| a |\n> DROP MODEL m;";
        assert_eq!(
            example_statements(example),
            [
                (
                    "SELECT 1 AS a,\n  2 AS b;".to_string(),
                    "+---+\n| a |\n".to_string()
                ),
                ("DROP MODEL m;".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn docs_functions_md_is_the_generated_reference() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/functions.md");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == markdown(),
            "docs/functions.md is out of date: regenerate it with `cargo run -q -p leadql-udfs --example functions_md > docs/functions.md`"
        );
    }
}
