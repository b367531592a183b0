//! `lead_grade(score, model)`: the grade a rule model gives to a score.
//!
//! ```sql
//! SELECT lead_id, lead_grade(score * 1.1, 'engagement') FROM score_leads('engagement');
//! ```

use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::registry::RuleModels;
use crate::catalogue::{Build, Entry, Function, RULE_SCORING};

/// The SQL name.
pub const NAME: &str = "lead_grade";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::scalar(
    NAME,
    || &DOC,
    Build::Rules(|models| Function::Scalar(lead_grade_udf(models.clone()))),
);

/// The `lead_grade` function over a set of models.
#[derive(Debug)]
pub struct LeadGrade {
    models: Arc<RuleModels>,
    signature: Signature,
}

// Two instances are the same function when they grade with the same model set.
impl PartialEq for LeadGrade {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.models, &other.models)
    }
}

impl Eq for LeadGrade {}

impl Hash for LeadGrade {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.models) as usize).hash(state);
    }
}

impl LeadGrade {
    /// The models it grades with.
    pub fn models(&self) -> &Arc<RuleModels> {
        &self.models
    }
}

/// A [`ScalarUDF`] for `lead_grade` over `models`.
pub fn lead_grade_udf(models: Arc<RuleModels>) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(LeadGrade {
        models,
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        RULE_SCORING,
        "The grade that the rule model `model` gives to `score`, by the model's `[[grade]]` ranges (a range includes its `min` and excludes its `max`); NULL for a NULL or NaN score or a score no range holds. An unknown or invalid model is an error naming the models (or the file and line).",
        "lead_grade(score, model)",
    )
    .with_argument("score", "A score (a number).")
    .with_argument("model", "Name of a rule model of the workspace (a constant string).")
    .with_sql_example(
        "> SELECT lead_grade(10, 'engagement') AS low, lead_grade(20, 'engagement') AS middle,
    lead_grade(40, 'engagement') AS high, lead_grade(NULL, 'engagement') AS no_score;
+------+--------+------+----------+
| low  | middle | high | no_score |
+------+--------+------+----------+
| Cold | Warm   | Hot  |          |
+------+--------+------+----------+",
    )
    .with_related_udf("score_leads")
    .with_related_udf("decay")
    .build()
});

impl ScalarUDFImpl for LeadGrade {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return plan_err!(
                "lead_grade expects 2 arguments (score, model), got {}",
                arg_types.len()
            );
        }
        if !(arg_types[0].is_numeric() || arg_types[0].is_null()) {
            return plan_err!(
                "lead_grade argument 1 (score) must be a number, got {}",
                arg_types[0]
            );
        }
        if !matches!(
            arg_types[1],
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        ) {
            return plan_err!(
                "lead_grade argument 2 (model) must be a string, got {}",
                arg_types[1]
            );
        }
        Ok(vec![DataType::Float64, DataType::Utf8])
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = match &args.args[1] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(n))) => n.clone(),
            _ => return exec_err!("{NAME}: argument 2 (model) must be a constant model name"),
        };
        let model = self.models.get(NAME, &name)?;
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let scores: ArrayRef = args.args[0].to_array(args.number_rows)?;
        let scores = scores.as_primitive::<Float64Type>();
        let grades: StringArray = (0..scores.len())
            .map(|i| {
                if scores.is_null(i) {
                    None
                } else {
                    model.grade(scores.value(i))
                }
            })
            .collect();
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &grades, 0,
            )?));
        }
        Ok(ColumnarValue::Array(Arc::new(grades)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
