//! Checks of a model read from a file, before it scores anything.
//!
//! A model file is user-controlled: edited by hand, damaged, or written by another
//! tool. Scoring indexes coefficients by pipeline column and walks tree nodes by their
//! child indices, so a file whose dimensions disagree, whose nodes loop, or whose
//! numbers are not finite would panic, hang or give scores outside 0–100.
//! [`PredictiveModel::validate`] refuses such a file with the problem named;
//! [`crate::store::load`] calls it on every load.

use crate::features::Transform;
use crate::predictive::{Estimator, PredictiveModel};
use crate::train_error::TrainError;

fn finite(what: impl FnOnce() -> String, x: f64) -> Result<(), TrainError> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(TrainError::InvalidModel(format!(
            "{} is {x}, not a finite number",
            what()
        )))
    }
}

/// One finite importance per model column.
fn importances_check(importances: &[f64], width: usize) -> Result<(), TrainError> {
    if importances.len() != width {
        return Err(TrainError::InvalidModel(format!(
            "{} importances, but the feature pipeline has {width} columns",
            importances.len()
        )));
    }
    for (i, v) in importances.iter().enumerate() {
        finite(|| format!("importance {i}"), *v)?;
    }
    Ok(())
}

fn scale(name: &str, mean: f64, std: f64) -> Result<(), TrainError> {
    finite(|| format!("feature '{name}': mean"), mean)?;
    finite(|| format!("feature '{name}': standard deviation"), std)?;
    if std <= 0.0 {
        return Err(TrainError::InvalidModel(format!(
            "feature '{name}': standard deviation {std} is not positive"
        )));
    }
    Ok(())
}

impl PredictiveModel {
    /// Checks that the model can score: the pipeline's numbers are finite (means,
    /// positive standard deviations, sorted distinct levels); a logistic model has one
    /// finite coefficient per pipeline output column and a finite intercept; a tree
    /// model's trees are trees over the pipeline's columns ([`crate::trees::Forest::check`])
    /// with one finite importance per column; the grade cut-offs are finite and
    /// decreasing. The error says what is wrong (the caller adds the file).
    pub fn validate(&self) -> Result<(), TrainError> {
        for f in &self.pipeline.features {
            match &f.transform {
                Transform::Numeric { mean, std }
                | Transform::Boolean { mean, std }
                | Transform::Timestamp { mean, std, .. } => scale(&f.name, *mean, *std)?,
                Transform::Categorical { levels } => {
                    if let Some(w) = levels.windows(2).find(|w| w[0] >= w[1]) {
                        return Err(TrainError::InvalidModel(format!(
                            "feature '{}': levels are not sorted and distinct ('{}' before '{}')",
                            f.name, w[0], w[1]
                        )));
                    }
                }
            }
        }
        let width = self.pipeline.width();
        match &self.estimator {
            Estimator::Logistic {
                intercept,
                coefficients,
            } => {
                if coefficients.len() != width {
                    return Err(TrainError::InvalidModel(format!(
                        "{} coefficients, but the feature pipeline has {width} columns",
                        coefficients.len()
                    )));
                }
                finite(|| "the intercept".into(), *intercept)?;
                for (i, c) in coefficients.iter().enumerate() {
                    finite(|| format!("coefficient {i}"), *c)?;
                }
            }
            Estimator::Trees {
                forest,
                importances,
            } => {
                forest.check(width).map_err(TrainError::InvalidModel)?;
                importances_check(importances, width)?;
            }
            Estimator::Boosted { model, importances } => {
                model.check(width).map_err(TrainError::InvalidModel)?;
                importances_check(importances, width)?;
            }
        }
        let [a, b, c] = self.options.grade_cutoffs;
        for x in [a, b, c] {
            finite(|| "a grade cut-off".into(), x)?;
        }
        if !(a > b && b > c) {
            return Err(TrainError::InvalidModel(format!(
                "grade cut-offs {a}/{b}/{c} are not decreasing (A > B > C)"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::features::{Feature, Pipeline, Transform};
    use crate::predictive::{
        Estimator, Evaluation, FORMAT_VERSION, ModelType, PredictiveModel, TrainOptions,
    };
    use crate::trees::{Forest, Node, Tree};

    fn pipeline() -> Pipeline {
        Pipeline {
            features: vec![
                Feature {
                    name: "x".into(),
                    transform: Transform::Numeric {
                        mean: 1.0,
                        std: 2.0,
                    },
                },
                Feature {
                    name: "c".into(),
                    transform: Transform::Categorical {
                        levels: vec!["a".into(), "b".into()],
                    },
                },
            ],
        }
    }

    fn model(estimator: Estimator) -> PredictiveModel {
        PredictiveModel {
            format_version: FORMAT_VERSION,
            name: "m".into(),
            version: 1,
            created_at: "t".into(),
            query: "q".into(),
            options: TrainOptions::new(ModelType::DecisionTree, "y"),
            pipeline: pipeline(),
            estimator,
            training_rows: 10,
            evaluation: Evaluation::default(),
            warnings: Vec::new(),
            known_until: None,
            features: None,
            trained_through: None,
            backtest: Vec::new(),
        }
    }

    fn node(column: u32, left: u32, right: u32, rate: f64) -> Node {
        Node {
            column,
            threshold: 0.5,
            left,
            right,
            rate,
            rows: 1,
        }
    }

    fn trees(nodes: Vec<Node>) -> PredictiveModel {
        model(Estimator::Trees {
            forest: Forest {
                trees: vec![Tree { nodes }],
            },
            importances: vec![0.5, 0.5, 0.0, 0.0],
        })
    }

    fn logistic(coefficients: Vec<f64>) -> PredictiveModel {
        model(Estimator::Logistic {
            intercept: 0.1,
            coefficients,
        })
    }

    fn error(m: &PredictiveModel) -> String {
        m.validate().expect_err("invalid").to_string()
    }

    #[test]
    fn well_formed_models_pass() {
        let ok = trees(vec![
            node(0, 1, 2, 0.3),
            node(0, 0, 0, 0.1),
            node(3, 3, 4, 0.6),
            node(0, 0, 0, 0.2),
            node(0, 0, 0, 1.0),
        ]);
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(logistic(vec![0.1, -0.2, 0.0, 3.0]).validate(), Ok(()));
    }

    #[test]
    fn a_node_pointing_back_to_itself_is_refused() {
        let e = error(&trees(vec![
            node(0, 1, 2, 0.3),
            node(0, 1, 2, 0.2),
            node(0, 0, 0, 0.4),
        ]));
        assert!(e.contains("node 1: child 1 is reached twice"), "{e}");
        let e = error(&trees(vec![node(0, 0, 1, 0.3), node(0, 0, 0, 0.2)]));
        assert!(
            e.contains("node 0: a leaf (left = 0) with right child 1"),
            "{e}"
        );
        let e = error(&trees(vec![node(0, 1, 0, 0.3), node(0, 0, 0, 0.2)]));
        assert!(e.contains("node 0: child 0 is reached twice"), "{e}");
    }

    #[test]
    fn out_of_range_children_and_columns_are_refused() {
        let e = error(&trees(vec![node(0, 1, 7, 0.3), node(0, 0, 0, 0.2)]));
        assert!(
            e.contains("node 0: child 7 out of range (the tree has 2 nodes)"),
            "{e}"
        );
        let e = error(&trees(vec![
            node(4, 1, 2, 0.3),
            node(0, 0, 0, 0.2),
            node(0, 0, 0, 0.2),
        ]));
        assert!(e.contains("node 0: split column 4 out of range"), "{e}");
        let e = error(&trees(vec![
            node(0, 1, 2, 0.3),
            node(0, 0, 0, 0.2),
            node(0, 0, 0, 0.2),
            node(0, 0, 0, 0.2),
        ]));
        assert!(e.contains("node 3 is not reachable from the root"), "{e}");
    }

    #[test]
    fn empty_trees_and_forests_are_refused() {
        let e = error(&trees(vec![]));
        assert!(e.contains("tree 0: empty tree"), "{e}");
        let e = error(&model(Estimator::Trees {
            forest: Forest { trees: vec![] },
            importances: vec![0.0; 4],
        }));
        assert_eq!(e, "no trees");
    }

    #[test]
    fn leaf_rates_outside_zero_one_are_refused() {
        let e = error(&trees(vec![
            node(0, 1, 2, 0.3),
            node(0, 0, 0, 5.0),
            node(0, 0, 0, 0.2),
        ]));
        assert!(
            e.contains("node 1: share of positives 5 is not in [0, 1]"),
            "{e}"
        );
        let e = error(&trees(vec![node(0, 0, 0, f64::NAN)]));
        assert!(e.contains("share of positives NaN"), "{e}");
    }

    #[test]
    fn short_coefficient_vectors_are_refused() {
        let e = error(&logistic(vec![0.1, 0.2]));
        assert_eq!(e, "2 coefficients, but the feature pipeline has 4 columns");
    }

    #[test]
    fn non_finite_numbers_are_refused() {
        let e = error(&logistic(vec![0.1, f64::NAN, 0.0, 0.0]));
        assert_eq!(e, "coefficient 1 is NaN, not a finite number");
        let mut m = logistic(vec![0.0; 4]);
        m.estimator = Estimator::Logistic {
            intercept: f64::INFINITY,
            coefficients: vec![0.0; 4],
        };
        assert_eq!(error(&m), "the intercept is inf, not a finite number");
        let mut m = logistic(vec![0.0; 4]);
        m.pipeline.features[0].transform = Transform::Numeric {
            mean: 0.0,
            std: 0.0,
        };
        assert!(error(&m).contains("standard deviation 0 is not positive"));
    }

    #[test]
    fn grade_cutoffs_must_decrease() {
        let mut m = logistic(vec![0.0; 4]);
        m.options.grade_cutoffs = [50.0, 75.0, 25.0];
        assert_eq!(
            error(&m),
            "grade cut-offs 50/75/25 are not decreasing (A > B > C)"
        );
    }

    #[test]
    fn loading_an_invalid_file_is_an_error_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("leadql-validate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("v1.json");
        let ok = trees(vec![node(0, 0, 0, 0.2)]);
        std::fs::write(&path, serde_json::to_string(&ok).expect("json")).expect("write");
        assert_eq!(crate::store::load(&path).expect("valid"), ok);
        // Node 1 points back to itself: scoring would loop forever.
        let looping = trees(vec![
            node(0, 1, 2, 0.3),
            node(0, 1, 1, 0.2),
            node(0, 0, 0, 0.1),
        ]);
        std::fs::write(&path, serde_json::to_string(&looping).expect("json")).expect("write");
        let e = crate::store::load(&path)
            .expect_err("self loop")
            .to_string();
        assert!(
            e.starts_with(&format!(
                "{}: invalid model file: tree 0: node 1",
                path.display()
            )),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
