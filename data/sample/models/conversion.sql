-- How `leadql run` trains the `conversion` model: "will a lead open at an instant be
-- qualified within 90 days?". Rows are monthly snapshots of the leads open at each
-- instant over the two years before the run, with the features known at that instant
-- (lead_snapshot_features(NULL, NULL, …): the latest instant is the run's as_of minus
-- the horizon, so every label is known when the run trains). The latest snapshots are
-- held out, with a 90-day gap before them so no training outcome falls in them.
-- Past 300,000 snapshots (about 350k leads), a deterministic sample of 300,000 is
-- trained on (the fifth argument), so training time stays bounded as data grows.
-- `leadql run` retrains when this recipe, the data or the run's as_of changed.
CREATE MODEL conversion OPTIONS (
  model_type = 'logistic_reg', label = 'label', horizon_days = 90,
  grade_cutoffs = '40/20/10'
) AS
SELECT * FROM lead_snapshot_features(NULL, NULL, 30, 90, 300000)
WHERE label IS NOT NULL
