"""Fit and score at scale: leadql's logistic regression against scikit-learn on the same
feature rows (1M leads by default, 20 features), in the same run.

    python benches/predictive/fit_1m.py --leadql target/release/leadql [--leads 1000000]

leadql: `CREATE MODEL` (feature query + training + held-out evaluation) and
`predict_score` over every lead, each timed by `leadql sql --timing`.
scikit-learn: the same rows exported to Parquet, the same preprocessing, `fit` and
`predict_proba` timed. Writes benches/results/fit_1m.md.
"""

import argparse, os, re, subprocess, sys, time

import pyarrow.parquet as pq
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CAT = ["seniority", "job_function", "industry", "size_band", "revenue_band", "source", "channel", "consent", "country"]
NUM = ["company_size", "web_visits", "pricing_visits", "forms", "email_opens", "email_clicks", "downloads",
       "event_checkins", "webinars", "unsubscribes", "emails_sent"]

VIEW = """CREATE VIEW f AS SELECT l.lead_id, {cat}, l.company_size,
  coalesce(a.web_visits, 0) AS web_visits, coalesce(a.pricing_visits, 0) AS pricing_visits, coalesce(a.forms, 0) AS forms,
  coalesce(a.email_opens, 0) AS email_opens, coalesce(a.email_clicks, 0) AS email_clicks, coalesce(a.downloads, 0) AS downloads,
  coalesce(a.event_checkins, 0) AS event_checkins, coalesce(a.webinars, 0) AS webinars, coalesce(a.unsubscribes, 0) AS unsubscribes,
  coalesce(a.emails_sent, 0) AS emails_sent, l.status = 'qualified' AS converted, l.lead_id % 5 = 0 AS holdout, l.status
FROM leads l LEFT JOIN (SELECT i.lead_id,
  count(*) FILTER (WHERE type = 'web_visit') AS web_visits, count(*) FILTER (WHERE type = 'pricing_page_visit') AS pricing_visits,
  count(*) FILTER (WHERE type = 'form_submit') AS forms, count(*) FILTER (WHERE type = 'email_open') AS email_opens,
  count(*) FILTER (WHERE type = 'email_click') AS email_clicks, count(*) FILTER (WHERE type = 'content_download') AS downloads,
  count(*) FILTER (WHERE type = 'event_checkin') AS event_checkins, count(*) FILTER (WHERE type = 'webinar_attend') AS webinars,
  count(*) FILTER (WHERE type = 'unsubscribe') AS unsubscribes, count(*) FILTER (WHERE type = 'email_sent') AS emails_sent
  FROM interactions i JOIN leads l2 USING (lead_id) WHERE l2.closed_at IS NULL OR i.occurred_at < l2.closed_at GROUP BY i.lead_id) a
USING (lead_id)""".format(cat=", ".join(f"l.{c}" for c in CAT))


def leadql(bin_, ws, sql, *extra):
    p = subprocess.run([bin_, "--data", ws, "sql", "--timing", *extra, "-f", "/dev/stdin"], input=sql,
                       capture_output=True, text=True)
    if p.returncode:
        sys.exit(p.stderr)
    return p.stdout, [float(t) for t in re.findall(r"time: ([\d.]+) s", p.stderr)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leadql", required=True)
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--dir", default="/tmp/leadql-bench")
    ap.add_argument("--out", default="benches/results/fit_1m.md")
    a = ap.parse_args()
    ws = os.path.join(a.dir, f"fit-{a.leads}")
    toml_path = os.path.join(ws, "workspace.toml")
    # A workspace written by an older leadql binary is made again.
    if not os.path.exists(toml_path) or os.path.getmtime(toml_path) < os.path.getmtime(a.leadql):
        subprocess.run([a.leadql, "generate", "--data", ws, "--leads", str(a.leads), "--seed", "11", "--quiet", "--force"], check=True)
    cols = ", ".join(CAT + NUM)
    subprocess.run([a.leadql, "--data", ws, "sql", "-f", "/dev/stdin"], input="DROP MODEL IF EXISTS fit_bench;", text=True, check=True)
    out, times = leadql(a.leadql, ws, VIEW + ";\nCREATE MODEL fit_bench OPTIONS (model_type = 'logistic_reg', label = 'converted', "
                        f"split = 'custom', split_column = 'holdout') AS SELECT {cols}, converted, holdout FROM f WHERE status <> 'open';\n"
                        "SELECT value FROM model_evaluation('fit_bench') WHERE metric = 'auc';\n", "--format", "csv")
    lq_fit, lq_auc = times[1], float(out.split()[-1])
    _, times = leadql(a.leadql, ws, VIEW + f";\nSELECT sum(predict_score('fit_bench', {cols})) FROM f;\n", "--format", "csv")
    lq_predict = times[1]
    _, times = leadql(a.leadql, ws, VIEW + ";\nSELECT sum(web_visits + pricing_visits + forms + email_opens + emails_sent), count(DISTINCT seniority) FROM f;\n", "--format", "csv")
    lq_features = times[1]
    rows = os.path.join(a.dir, "fit_rows.parquet")
    subprocess.run([a.leadql, "--data", ws, "sql", "--format", "parquet", "--output", rows, "-f", "/dev/stdin"],
                   input=VIEW + f";\nSELECT {cols}, converted, holdout, status FROM f;\n", text=True, check=True)
    df = pq.read_table(rows).to_pandas()
    df[CAT] = df[CAT].astype(object).where(df[CAT].notna(), "(null)")
    closed = df[df.status != "open"]
    train, test = closed[~closed.holdout], closed[closed.holdout]
    pre = ColumnTransformer([("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), NUM),
                             ("cat", OneHotEncoder(min_frequency=10, handle_unknown="infrequent_if_exist"), CAT)])
    model = make_pipeline(pre, LogisticRegression(C=1.0, max_iter=1000))
    t = time.perf_counter(); model.fit(train[CAT + NUM], train.converted); sk_fit = time.perf_counter() - t
    sk_auc = roc_auc_score(test.converted, model.predict_proba(test[CAT + NUM])[:, 1])
    t = time.perf_counter(); model.predict_proba(df[CAT + NUM]); sk_predict = time.perf_counter() - t
    import sklearn
    lines = [
        "# Fit and score at scale: leadql vs scikit-learn",
        "",
        f"Written by `benches/predictive/fit_1m.py` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; {os.cpu_count()} cores; "
        f"scikit-learn {sklearn.__version__}.",
        f"{a.leads:,} generated leads (seed 11); {len(train):,} training rows and {len(test):,} held-out rows of closed leads; "
        f"{len(CAT)} categorical + {len(NUM)} numeric features; scoring over all {len(df):,} leads.",
        "",
        "| step | leadql (s) | scikit-learn (s) |",
        "|---|---:|---:|",
        f"| feature query alone (leadql SQL; both tools need it) | {lq_features:.2f} | |",
        f"| training (leadql: feature query + pipeline + fit + evaluation; sklearn: fit only) | {lq_fit:.2f} | {sk_fit:.2f} |",
        f"| scoring every lead (leadql: feature query + predict_score; sklearn: predict_proba only) | {lq_predict:.2f} | {sk_predict:.2f} |",
        f"| held-out AUC | {lq_auc:.4f} | {sk_auc:.4f} |",
        "",
    ]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    open(a.out, "w").write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
