-- How `leadql run` trains the `conversion` model: on closed leads, holding out the
-- most recent 20% by creation time (as Dynamics 365 does). `leadql run` retrains only
-- when this recipe or its training rows changed since the latest version.
CREATE MODEL conversion OPTIONS (
  model_type = 'logistic_reg', label = 'converted', split = 'time', time_column = 'created_at'
) AS
SELECT created_at, seniority, job_function, industry, size_band, source, consent, company_size,
       web_visits, pricing_visits, forms, email_opens, email_clicks, downloads, webinars,
       event_checkins, converted
FROM lead_features
WHERE status <> 'open'
