//! Lead-scoring domain logic for leadql, free of DataFusion and of the command line.
//!
//! This crate holds what a scoring model *means*: the vocabulary of the lead domain
//! (interaction types, consent levels, lifecycle statuses and reasons) that model files
//! are validated against, and — as the project grows — rule specifications, predictive
//! training and evaluation metrics. The `leadql-udfs` crate turns these into SQL
//! functions; the `leadql` crate wires everything to a workspace and a command line.

pub mod assignment;
pub mod bins;
pub mod boost;
pub mod domain;
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
