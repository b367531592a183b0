//! Rule-based lead scoring in SQL: the table functions `score_leads`,
//! `score_breakdown` and `evaluate_scoring` and the scalar `lead_grade` read the
//! workspace's rule models ([`RuleModels`]); `decay` is a building block that needs none.

pub mod decay;
pub mod evaluate_scoring;
pub mod lead_grade;
pub mod plan;
pub mod registry;
pub mod score_breakdown;
pub mod score_leads;

pub(crate) mod common;

pub use registry::RuleModels;
