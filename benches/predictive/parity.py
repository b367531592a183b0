"""leadql's logistic regression against scikit-learn's on the same features and split.

Runs `tests/sql/train_conversion.sql`'s feature view on a workspace, holds out the leads
with lead_id % 5 = 0 in both tools (leadql: split = 'custom'), trains leadql's model,
exports the identical feature rows to Parquet, fits scikit-learn's LogisticRegression
with the same preprocessing (mean imputation + standardisation, one-hot with levels
seen fewer than 10 times grouped, NULL as a level, C = 1/l2) and compares held-out AUC.

    python benches/predictive/parity.py --leadql PATH --data WORKSPACE
"""

import argparse, os, shutil, subprocess, sys, tempfile, time

import pyarrow.parquet as pq
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CATEGORICAL = ["seniority", "job_function", "industry", "size_band", "source", "consent"]
NUMERIC = ["company_size", "web_visits", "pricing_visits", "forms", "email_opens"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leadql", required=True)
    ap.add_argument("--data", default="data/sample")
    ap.add_argument("--out", default="benches/results/parity.md")
    a = ap.parse_args()
    work = tempfile.mkdtemp()
    ws = os.path.join(work, "ws")
    shutil.copytree(a.data, ws)
    view = open("tests/sql/train_conversion.sql").read().split(";\n")[0]
    cols = ", ".join(CATEGORICAL + NUMERIC)
    feats = f"{view};\nCREATE VIEW parity_rows AS SELECT {cols}, converted, lead_id % 5 = 0 AS holdout FROM lead_features WHERE status <> 'open';\n"
    t = time.perf_counter()
    sql = feats + ("CREATE MODEL parity OPTIONS (model_type = 'logistic_reg', label = 'converted', split = 'custom', "
                   "split_column = 'holdout', l2 = 1, min_level_count = 10) AS SELECT * FROM parity_rows;\n"
                   "SELECT value FROM model_evaluation('parity') WHERE metric = 'auc';\n")
    out = subprocess.run([a.leadql, "--data", ws, "sql", "--format", "csv", "-f", "/dev/stdin"], input=sql,
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    leadql_seconds = time.perf_counter() - t
    leadql_auc = float(out.stdout.split()[-1])
    rows = os.path.join(work, "rows.parquet")
    subprocess.run([a.leadql, "--data", ws, "sql", "--format", "parquet", "--output", rows, "-f", "/dev/stdin"],
                   input=feats + "SELECT * FROM parity_rows;\n", text=True, check=True)
    df = pq.read_table(rows).to_pandas()
    df[CATEGORICAL] = df[CATEGORICAL].astype(object).where(df[CATEGORICAL].notna(), "(null)")
    train, test = df[~df.holdout], df[df.holdout]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), NUMERIC),
        ("cat", OneHotEncoder(min_frequency=10, handle_unknown="infrequent_if_exist"), CATEGORICAL),
    ])
    t = time.perf_counter()
    model = make_pipeline(pre, LogisticRegression(C=1.0, max_iter=2000)).fit(train[CATEGORICAL + NUMERIC], train.converted)
    sk_seconds = time.perf_counter() - t
    sk_auc = roc_auc_score(test.converted, model.predict_proba(test[CATEGORICAL + NUMERIC])[:, 1])
    import sklearn
    lines = [
        "# Logistic regression parity: leadql vs scikit-learn",
        "",
        f"Written by `benches/predictive/parity.py` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; "
        f"{os.cpu_count()} cores; scikit-learn {sklearn.__version__}.",
        f"Workspace `{a.data}`: {len(train)} training rows, {len(test)} held-out rows (lead_id % 5 = 0), same features.",
        "",
        "| tool | held-out AUC | time (s) |",
        "|---|---:|---:|",
        f"| leadql (`CREATE MODEL`, whole process incl. feature query) | {leadql_auc:.4f} | {leadql_seconds:.2f} |",
        f"| scikit-learn `LogisticRegression(C=1)` (fit only) | {sk_auc:.4f} | {sk_seconds:.2f} |",
        "",
        f"Difference: {abs(leadql_auc - sk_auc):.4f} (target: within 0.005).",
        "",
    ]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    open(a.out, "w").write("\n".join(lines))
    print("\n".join(lines))
    shutil.rmtree(work)
    if abs(leadql_auc - sk_auc) > 0.005:
        sys.exit("AUC differs by more than 0.005")


if __name__ == "__main__":
    main()
