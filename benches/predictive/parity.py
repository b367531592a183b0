"""leadql's predictive models against scikit-learn's on the same features and split.

Runs `tests/sql/train_conversion.sql`'s feature view on a workspace, holds out the leads
with lead_id % 5 = 0 in both tools (leadql: split = 'custom'), trains leadql's models
(logistic_reg, decision_tree, random_forest, boosted_tree), exports the identical
feature rows to Parquet, fits scikit-learn's counterparts with the same preprocessing
(mean imputation + standardisation, one-hot with levels seen fewer than 10 times
grouped, NULL as a level) and settings, and compares held-out AUC.

For logistic regression it also compares the coefficients: scikit-learn is given
exactly leadql's matrix (numbers standardised with the mean and population standard
deviation of their non-NULL training values, as leadql's pipeline does) and run to
convergence (tol = 1e-10); every coefficient and the intercept must agree to 1e-3.

    python benches/predictive/parity.py --leadql PATH --data WORKSPACE
"""

import argparse, os, shutil, subprocess, sys, tempfile, time

import pyarrow.parquet as pq
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MODELS = [
    ("logistic_reg", ", l2 = 1", LogisticRegression(C=1.0, max_iter=2000), "LogisticRegression(C=1)"),
    ("decision_tree", ", max_depth = 6, min_leaf_rows = 20",
     DecisionTreeClassifier(max_depth=6, min_samples_leaf=20, class_weight="balanced", random_state=7),
     "DecisionTreeClassifier(max_depth=6, min_samples_leaf=20, class_weight='balanced')"),
    ("random_forest", ", num_trees = 50, max_depth = 10, min_leaf_rows = 20, feature_fraction = 0.5",
     RandomForestClassifier(n_estimators=50, max_depth=10, min_samples_leaf=20, max_features=0.5,
                            class_weight="balanced", random_state=7, n_jobs=-1),
     "RandomForestClassifier(50, max_depth=10, min_samples_leaf=20, max_features=0.5, class_weight='balanced')"),
    ("boosted_tree", ", max_iterations = 200, learn_rate = 0.1, max_tree_depth = 6, l2_reg = 1, min_leaf_rows = 20, early_stop = false",
     HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_depth=6, max_leaf_nodes=None,
                                    l2_regularization=1.0, min_samples_leaf=20, early_stopping=False, random_state=7),
     "HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_depth=6, max_leaf_nodes=None, l2_regularization=1, min_samples_leaf=20, early_stopping=False)"),
]

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
    rows = os.path.join(work, "rows.parquet")
    subprocess.run([a.leadql, "--data", ws, "sql", "--format", "parquet", "--output", rows, "-f", "/dev/stdin"],
                   input=feats + "SELECT * FROM parity_rows;\n", text=True, check=True)
    df = pq.read_table(rows).to_pandas()
    df[CATEGORICAL] = df[CATEGORICAL].astype(object).where(df[CATEGORICAL].notna(), "(null)")
    train, test = df[~df.holdout], df[df.holdout]
    results = []
    for model_type, options, estimator, label in MODELS:
        t = time.perf_counter()
        sql = feats + (f"CREATE MODEL parity OPTIONS (model_type = '{model_type}', label = 'converted', split = 'custom', "
                       f"split_column = 'holdout', min_level_count = 10{options}) AS SELECT * FROM parity_rows;\n"
                       "SELECT value FROM model_evaluation('parity') WHERE metric = 'auc';\n")
        out = subprocess.run([a.leadql, "--data", ws, "sql", "--format", "csv", "-f", "/dev/stdin"], input=sql,
                             capture_output=True, text=True)
        if out.returncode:
            sys.exit(out.stderr)
        leadql_seconds = time.perf_counter() - t
        leadql_auc = float(out.stdout.split()[-1])
        pre = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), NUMERIC),
            ("cat", OneHotEncoder(min_frequency=10, handle_unknown="infrequent_if_exist"), CATEGORICAL),
        ], sparse_threshold=0.0)
        t = time.perf_counter()
        model = make_pipeline(pre, estimator).fit(train[CATEGORICAL + NUMERIC], train.converted)
        sk_seconds = time.perf_counter() - t
        sk_auc = roc_auc_score(test.converted, model.predict_proba(test[CATEGORICAL + NUMERIC])[:, 1])
        results.append((model_type, options, label, leadql_auc, leadql_seconds, sk_auc, sk_seconds))
        if model_type == "logistic_reg":
            coefficients = compare_coefficients(a.leadql, ws, feats, train)
    import sklearn
    lines = [
        "# Predictive parity: leadql vs scikit-learn",
        "",
        f"Written by `benches/predictive/parity.py` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; "
        f"{os.cpu_count()} cores; scikit-learn {sklearn.__version__}.",
        f"Workspace `{a.data}`: {len(train)} training rows, {len(test)} held-out rows (lead_id % 5 = 0), same features.",
        "leadql times are whole processes (feature query + training + evaluation); scikit-learn times are fits only.",
        "",
        "| model_type | leadql AUC | scikit-learn AUC | difference | leadql (s) | scikit-learn estimator | fit (s) |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for model_type, options, label, la, ls, sa, ss in results:
        lines.append(f"| `{model_type}`{options.replace(', ', ' ')} | {la:.4f} | {sa:.4f} | {la - sa:+.4f} | {ls:.2f} | `{label}` | {ss:.2f} |")
    worst, worst_name, worst_default, n_coef = coefficients
    lines += ["", "Target: logistic regression within 0.005 of scikit-learn (the script fails otherwise). Trees",
              "are not held to it: leadql's trees split on at most 255 quantile bins per column (scikit-learn's",
              "decision tree and forest on every distinct value; its HistGradientBoosting on 255 bins too).", "",
              f"Logistic coefficients ({n_coef} and the intercept) against scikit-learn on leadql's own matrix: largest",
              f"difference {worst:.2e} (`{worst_name}`) against `LogisticRegression(C=1, tol=1e-10)`; {worst_default:.2e}",
              "against its default `tol=1e-4`, which stops before the optimum on the rarely seen levels (little",
              "curvature; see `benches/PROFILES.md`). Target 1e-3 against the converged fit (the script fails otherwise).", ""]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    open(a.out, "w").write("\n".join(lines))
    print("\n".join(lines))
    shutil.rmtree(work)
    logistic = results[0]
    if abs(logistic[3] - logistic[5]) > 0.005:
        sys.exit("logistic regression AUC differs by more than 0.005")
    if worst > 1e-3:
        sys.exit(f"logistic regression coefficient {worst_name} differs by {worst:.2e} (> 1e-3)")


def compare_coefficients(leadql, ws, feats, train):
    """leadql's logistic coefficients (the model `parity` trained last) against
    scikit-learn's on the identical matrix: (largest difference, its column, largest
    difference at scikit-learn's default tolerance, number of coefficients)."""
    out = subprocess.run([leadql, "--data", ws, "sql", "--format", "csv", "-f", "/dev/stdin"],
                         input="SELECT feature, weight FROM model_features('parity');\n",
                         capture_output=True, text=True, check=True)
    theirs = {}
    for line in out.stdout.splitlines()[1:]:
        name, weight = line.rsplit(",", 1)
        theirs[name.strip('"')] = float(weight)
    columns = {}
    for c in NUMERIC:
        v = train[c].astype(float)
        mean, std = v.mean(), v.std(ddof=0)
        columns[c] = ((v.fillna(mean) - mean) / (std if std > 1e-12 else 1.0)).to_numpy()
    for c in CATEGORICAL:
        counts = train[c].value_counts()
        levels = sorted(counts[counts >= 10].index)
        for level in levels:
            columns[f"{c}={level}"] = (train[c] == level).to_numpy(dtype=float)
        columns[f"{c}=(other)"] = (~train[c].isin(levels)).to_numpy(dtype=float)
    names = list(columns)
    missing = [n for n in names if n not in theirs]
    if missing:
        sys.exit(f"leadql's model has no column {missing[0]} (its columns: {sorted(theirs)})")
    import numpy as np
    x = np.column_stack([columns[n] for n in names])
    worst = (0.0, "")
    default_worst = 0.0
    for tol in (1e-10, 1e-4):
        sk = LogisticRegression(C=1.0, tol=tol, max_iter=100000).fit(x, train.converted)
        ours = dict(zip(names, sk.coef_[0]))
        ours["(intercept)"] = sk.intercept_[0]
        diffs = sorted(((abs(theirs[n] - v), n) for n, v in ours.items()), reverse=True)
        if tol < 1e-5:
            worst = diffs[0]
        else:
            default_worst = diffs[0][0]
    return worst[0], worst[1], default_worst, len(names)


if __name__ == "__main__":
    main()
