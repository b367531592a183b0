//! Lead capture and matching: normalising emails and phone numbers, comparing names,
//! finding duplicate leads. The pure logic lives in [`leadql_models::matching`]; these
//! are its SQL faces.

pub mod email_domain;
pub mod lead_duplicate_groups;
pub mod lead_duplicates;
pub mod name_similarity;
pub mod normalize_email;
pub mod normalize_phone;
mod text;
