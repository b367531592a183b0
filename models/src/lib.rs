//! Lead-scoring domain logic for leadql, free of DataFusion and of the command line.
//!
//! This crate holds what a scoring model *means*:
//!
//! - the lead domain: its closed vocabularies (interaction types, consent levels,
//!   lifecycle statuses and reasons, seniorities), countries and lead sources
//!   ([`domain`]); what job titles say ([`titles`]); normalising and matching emails,
//!   phones and names ([`matching`]);
//! - rule-based scoring models ([`rules`]), qualification policies ([`policy`]) and
//!   the assignment of sales-ready leads to sellers ([`assignment`]);
//! - predictive models ([`predictive`]): the feature pipeline ([`features`]), the
//!   estimators — logistic regression by a Newton–Cholesky solver ([`logistic`]),
//!   histogram decision trees and random forests ([`trees`], on the bins of [`bins`]),
//!   gradient-boosted trees ([`boost`]) — their error ([`train_error`]), the model
//!   registry ([`store`]) and the checks of a loaded model file ([`validate`]);
//! - evaluation metrics shared by both kinds of model ([`metrics`]), and the injected
//!   failures of the crash tests ([`fault`]).
//!
//! The `leadql-udfs` crate turns these into SQL functions; the `leadql` crate wires
//! everything to a workspace and a command line.

pub mod assignment;
pub mod bins;
pub mod boost;
pub mod domain;
pub mod duplicates;
pub mod fault;
pub mod features;
pub mod logistic;
pub mod matching;
pub mod metrics;
pub mod policy;
pub mod predictive;
pub mod rules;
pub mod store;
pub mod titles;
pub mod train_error;
pub mod trees;
pub mod validate;

pub use domain::{ConsentLevel, DisqualifyReason, InteractionType, LeadStatus, Seniority};
pub use rules::{ModelError, RuleModel};
