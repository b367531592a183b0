//! Qualification: turning scores into sales-ready decisions under a policy
//! (`policies/NAME.toml`, see [`leadql_models::policy`]): `qualify_leads`.

pub mod plan;
pub mod policies;
pub mod qualify_leads;

pub use policies::Policies;
