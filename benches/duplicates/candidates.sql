-- Every candidate pair of lead_duplicates(), grouped by its evidence (`reasons`), with
-- how many are true pairs of the planted ground truth: the table
-- benches/duplicates/calibrate.py fits and the weights in
-- models/src/duplicates/evidence.rs were adjusted on.
--
--   leadql --data DIR sql --format csv -f benches/duplicates/candidates.sql > pairs.csv
CREATE VIEW truth AS
  WITH members AS (
    SELECT duplicate_of AS root, lead_id FROM planted_duplicates
    UNION ALL SELECT DISTINCT duplicate_of AS root, duplicate_of AS lead_id FROM planted_duplicates)
  SELECT least(a.lead_id, b.lead_id) AS a, greatest(a.lead_id, b.lead_id) AS b
  FROM members a JOIN members b ON a.root = b.root AND a.lead_id < b.lead_id;
SELECT d.reasons, count(*) AS n, count(t.a) AS true_pairs, round(avg(d.match_score), 3) AS score
FROM lead_duplicates(0) d LEFT JOIN truth t ON t.a = d.lead_id AND t.b = d.duplicate_id
GROUP BY d.reasons ORDER BY n DESC;
