CREATE OR REPLACE VIEW lead_features AS
SELECT l.lead_id, l.seniority, l.job_function, l.industry, l.size_band, l.source, l.consent, l.company_size,
       coalesce(a.web_visits, 0) AS web_visits, coalesce(a.pricing_visits, 0) AS pricing_visits,
       coalesce(a.forms, 0) AS forms, coalesce(a.email_opens, 0) AS email_opens,
       l.status = 'qualified' AS converted, l.status
FROM leads l LEFT JOIN (
  SELECT i.lead_id,
         count(*) FILTER (WHERE i.type = 'web_visit') AS web_visits,
         count(*) FILTER (WHERE i.type = 'pricing_page_visit') AS pricing_visits,
         count(*) FILTER (WHERE i.type = 'form_submit') AS forms,
         count(*) FILTER (WHERE i.type = 'email_open') AS email_opens
  FROM interactions i JOIN leads l2 USING (lead_id)
  WHERE l2.closed_at IS NULL OR i.occurred_at < l2.closed_at
  GROUP BY i.lead_id) a USING (lead_id);
CREATE MODEL conversion OPTIONS (model_type = 'logistic_reg', label = 'converted', seed = 7)
AS SELECT lead_id, seniority, job_function, industry, size_band, source, consent, company_size, web_visits, pricing_visits, forms, email_opens, converted FROM lead_features WHERE status <> 'open';
SHOW MODELS;
SELECT metric, round(value, 4) AS value FROM model_evaluation('conversion') WHERE metric IN ('auc', 'log_loss', 'f1', 'accuracy', 'lift_decile_1');
SELECT feature, round(weight, 3) AS weight FROM model_features('conversion') ORDER BY abs(weight) DESC LIMIT 5;
CREATE VIEW open_leads AS SELECT * FROM lead_features WHERE status = 'open';
SELECT lead_id, round(score, 1) AS score, grade, top_factors FROM predict('conversion', 'open_leads') ORDER BY score DESC LIMIT 5;
SELECT lead_id, round(sum(contribution), 6) AS logit, round(ln(max(s.p) / (1 - max(s.p))), 6) AS expected FROM explain_prediction('conversion', 'open_leads') e JOIN (SELECT lead_id, predict_score('conversion', seniority, job_function, industry, size_band, source, consent, company_size, web_visits, pricing_visits, forms, email_opens) / 100 AS p FROM open_leads) s USING (lead_id) GROUP BY lead_id ORDER BY lead_id LIMIT 3;
