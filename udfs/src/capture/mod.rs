//! Lead capture and matching: normalising emails and phone numbers, comparing names.
//! The pure logic lives in [`leadql_models::matching`]; these are its SQL faces.

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

pub mod email_domain;
pub mod lead_duplicates;
pub mod name_similarity;
pub mod normalize_email;
pub mod normalize_phone;
mod text;

/// Every capture function.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        normalize_email::normalize_email_udf(),
        email_domain::email_domain_udf(),
        normalize_phone::normalize_phone_udf(),
        name_similarity::name_similarity_udf(),
    ]
}
