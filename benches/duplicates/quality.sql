-- Precision and recall of lead_duplicates() against the duplicates planted by
-- `leadql generate --duplicates SHARE` (table planted_duplicates).
--
--   leadql --data DIR sql -f benches/duplicates/quality.sql
--
-- A true pair is two leads of the same person: a planted duplicate and its original,
-- or two duplicates of the same original. Pairs found between leads nobody planted
-- (e.g. two people who typed the same shared address) count as false positives.
CREATE VIEW truth AS
  WITH members AS (
    SELECT duplicate_of AS root, lead_id FROM planted_duplicates
    UNION ALL SELECT DISTINCT duplicate_of AS root, duplicate_of AS lead_id FROM planted_duplicates)
  SELECT least(a.lead_id, b.lead_id) AS a, greatest(a.lead_id, b.lead_id) AS b
  FROM members a JOIN members b ON a.root = b.root AND a.lead_id < b.lead_id;

CREATE VIEW found AS
  SELECT least(lead_id, duplicate_id) AS a, greatest(lead_id, duplicate_id) AS b, rule
  FROM lead_duplicates();

-- Per rule: pairs it found, how many are true, its precision.
SELECT f.rule, count(*) AS found, count(t.a) AS true_pairs,
       round(count(t.a) * 1.0 / count(*), 4) AS precision
FROM found f LEFT JOIN truth t ON t.a = f.a AND t.b = f.b
GROUP BY f.rule
UNION ALL
SELECT 'any rule', count(*), count(t.a), round(count(t.a) * 1.0 / count(*), 4)
FROM (SELECT DISTINCT a, b FROM found) f LEFT JOIN truth t ON t.a = f.a AND t.b = f.b
ORDER BY rule;

-- Precision and recall at other thresholds (the default min_score is 0.5): how the
-- default was chosen.
CREATE VIEW scored AS
  SELECT least(lead_id, duplicate_id) AS a, greatest(lead_id, duplicate_id) AS b, match_score
  FROM lead_duplicates(0.01);

SELECT th.threshold,
       count(s.a) FILTER (WHERE s.match_score >= th.threshold) AS found,
       count(t.a) FILTER (WHERE s.match_score >= th.threshold) AS true_pairs,
       round(count(t.a) FILTER (WHERE s.match_score >= th.threshold) * 1.0
             / count(s.a) FILTER (WHERE s.match_score >= th.threshold), 4) AS precision,
       round(count(t.a) FILTER (WHERE s.match_score >= th.threshold) * 1.0
             / (SELECT count(*) FROM truth), 4) AS recall
FROM (VALUES (0.05), (0.1), (0.2), (0.3), (0.4), (0.5), (0.6), (0.7), (0.8), (0.9), (0.95)) th(threshold)
CROSS JOIN scored s LEFT JOIN truth t ON t.a = s.a AND t.b = s.b
GROUP BY th.threshold ORDER BY th.threshold;

-- Recall per planted variation: share of planted (duplicate, original) pairs found by
-- any rule; and over all true pairs.
SELECT p.variation, count(*) AS planted,
       count(f.a) AS found, round(count(f.a) * 1.0 / count(*), 4) AS recall
FROM planted_duplicates p
LEFT JOIN (SELECT DISTINCT a, b FROM found) f
  ON f.a = least(p.lead_id, p.duplicate_of) AND f.b = greatest(p.lead_id, p.duplicate_of)
GROUP BY p.variation
UNION ALL
SELECT 'all true pairs', count(*), count(f.a), round(count(f.a) * 1.0 / count(*), 4)
FROM truth t LEFT JOIN (SELECT DISTINCT a, b FROM found) f ON f.a = t.a AND f.b = t.b
ORDER BY variation;
