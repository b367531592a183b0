-- Real conversion data: the UCI Bank Marketing campaigns (../shared/data/bank-marketing),
-- trained with leadql's logistic regression. `duration` is left out: it is only known
-- after the call (see the dataset's README). Published reference: AUC ≈ 0.79–0.80.
CREATE EXTERNAL TABLE bank STORED AS CSV LOCATION '../shared/data/bank-marketing/bank-additional-full.csv'
OPTIONS ('format.delimiter' ';', 'format.has_header' 'true', 'format.schema_infer_max_rec' '50000');
CREATE MODEL bank_marketing OPTIONS (model_type = 'logistic_reg', label = 'y', positive = 'yes', seed = 1, test_fraction = 0.2)
AS SELECT age, job, marital, education, "default", housing, loan, contact, month, day_of_week,
          campaign, pdays, previous, poutcome, "emp.var.rate", "cons.price.idx", "cons.conf.idx",
          euribor3m, "nr.employed", y
   FROM bank;
SELECT metric, round(value, 4) AS value FROM model_evaluation('bank_marketing')
WHERE metric IN ('rows', 'positives', 'auc', 'log_loss', 'f1', 'lift_decile_1');
-- The same rows and split with a decision tree and a random forest.
CREATE MODEL bank_tree OPTIONS (model_type = 'decision_tree', label = 'y', positive = 'yes', seed = 1, test_fraction = 0.2, max_depth = 6)
AS SELECT age, job, marital, education, "default", housing, loan, contact, month, day_of_week,
          campaign, pdays, previous, poutcome, "emp.var.rate", "cons.price.idx", "cons.conf.idx",
          euribor3m, "nr.employed", y
   FROM bank;
CREATE MODEL bank_forest OPTIONS (model_type = 'random_forest', label = 'y', positive = 'yes', seed = 1, test_fraction = 0.2, num_trees = 50, max_depth = 10)
AS SELECT age, job, marital, education, "default", housing, loan, contact, month, day_of_week,
          campaign, pdays, previous, poutcome, "emp.var.rate", "cons.price.idx", "cons.conf.idx",
          euribor3m, "nr.employed", y
   FROM bank;
SELECT model, version, model_type, training_rows, round(auc, 4) AS auc FROM show_models()
WHERE model LIKE 'bank%' ORDER BY model;
