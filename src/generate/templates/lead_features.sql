-- lead_features: one row per lead with lifetime interaction counts, an example of a
-- feature relation for a model trained on closed leads (`policies/*.toml` may name it
-- as `predictive_features`). Interactions count only before the lead was closed. The
-- `conversion` model does not use it: it is trained and scored point in time on
-- lead_snapshot_features (models/conversion.sql), which answers the question asked
-- of open leads ("qualified within 90 days of now?") with what was known at the time.
SELECT l.lead_id, l.created_at, l.status, l.status = 'qualified' AS converted,
       l.seniority, l.job_function, l.industry, l.size_band, l.source, l.consent, l.company_size,
       coalesce(a.web_visits, 0) AS web_visits, coalesce(a.pricing_visits, 0) AS pricing_visits,
       coalesce(a.forms, 0) AS forms, coalesce(a.email_opens, 0) AS email_opens,
       coalesce(a.email_clicks, 0) AS email_clicks, coalesce(a.downloads, 0) AS downloads,
       coalesce(a.webinars, 0) AS webinars, coalesce(a.event_checkins, 0) AS event_checkins
FROM leads l LEFT JOIN (
  SELECT i.lead_id,
         count(*) FILTER (WHERE i.type = 'web_visit') AS web_visits,
         count(*) FILTER (WHERE i.type = 'pricing_page_visit') AS pricing_visits,
         count(*) FILTER (WHERE i.type = 'form_submit') AS forms,
         count(*) FILTER (WHERE i.type = 'email_open') AS email_opens,
         count(*) FILTER (WHERE i.type = 'email_click') AS email_clicks,
         count(*) FILTER (WHERE i.type = 'content_download') AS downloads,
         count(*) FILTER (WHERE i.type = 'webinar_attend') AS webinars,
         count(*) FILTER (WHERE i.type = 'event_checkin') AS event_checkins
  FROM interactions i JOIN leads l2 USING (lead_id)
  WHERE l2.closed_at IS NULL OR i.occurred_at < l2.closed_at
  GROUP BY i.lead_id) a USING (lead_id)
