"""Training against scikit-learn: the same rows, the same split, the same preprocessing,
the same settings, in the same run.

    python benches/predictive/training.py --leadql PATH --dataset generated --leads 1000000
    python benches/predictive/training.py --leadql PATH --dataset bank \
        --bank ../shared/data/bank-marketing/bank-additional-full.csv
    (--models logistic_reg,random_forest,boosted_tree chooses the model types)

Datasets:
- `generated`: `leadql generate --leads N --seed 11`; the closed leads' features
  (9 categorical, 11 numeric, as of each lead's decision), label `outcome` (qualified), held out
  where lead_id % 5 = 0.
- `bank`: the UCI Bank Marketing campaigns without `duration` (known only after the
  call); rows numbered in file order, held out where the number % 5 = 0.

leadql: `CREATE MODEL … split = 'custom'` with `LEADQL_TIMINGS=1`, which prints the
training stages: `fit` is the estimator alone (what the peer's `fit` does); the
whole statement adds the feature query, the pipeline and the held-out evaluation.
scikit-learn: the identical rows exported by leadql to Parquet; mean imputation and
standardisation of numbers and one-hot of strings (levels seen fewer than 10 times
grouped, NULL a level) timed apart from the estimator's `fit`.

Writes a Markdown table to --out.
"""

import argparse, os, re, subprocess, sys, tempfile, time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import fit_1m

# (leadql OPTIONS, scikit-learn estimator, its description, whether it wants a dense matrix)
MODELS = {
    "logistic_reg": (
        "l2 = 1",
        lambda: LogisticRegression(C=1.0, max_iter=1000),
        "LogisticRegression(C=1, lbfgs)",
        False,
    ),
    "random_forest": (
        "num_trees = 50, max_depth = 10, min_leaf_rows = 20, feature_fraction = 0.5",
        lambda: RandomForestClassifier(n_estimators=50, max_depth=10, min_samples_leaf=20, max_features=0.5,
                                       class_weight="balanced", n_jobs=2, random_state=7),
        "RandomForestClassifier(50, max_depth=10, min_samples_leaf=20, max_features=0.5, class_weight='balanced', n_jobs=2)",
        True,
    ),
    "boosted_tree": (
        "max_iterations = 200, learn_rate = 0.1, max_tree_depth = 6, l2_reg = 1, min_leaf_rows = 20, early_stop = false",
        lambda: HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_depth=6, max_leaf_nodes=None,
                                               l2_regularization=1.0, min_samples_leaf=20, early_stopping=False,
                                               random_state=7),
        "HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_depth=6, max_leaf_nodes=None, "
        "l2_regularization=1, min_samples_leaf=20, early_stopping=False)",
        True,
    ),
}

# The generated leads' features: fit_1m.py's view `f` (the same rows it scores).
GEN_CAT, GEN_NUM = fit_1m.CAT, fit_1m.NUM
GEN_VIEW = fit_1m.VIEW + """;
CREATE VIEW rows AS SELECT *, converted AS outcome FROM f WHERE status <> 'open'"""

BANK_CAT = ["job", "marital", "education", "default", "housing", "loan", "contact", "month", "day_of_week", "poutcome"]
BANK_NUM = ["age", "campaign", "pdays", "previous", "emp.var.rate", "cons.price.idx", "cons.conf.idx", "euribor3m",
            "nr.employed"]


def quoted(c):
    return '"' + c.replace('"', '""') + '"'


def leadql(bin_, ws, sql, *extra):
    """Runs SQL; returns stdout, the per-statement times and the training stage times."""
    env = dict(os.environ, LEADQL_TIMINGS="1")
    p = subprocess.run([bin_, "--data", ws, "sql", "--timing", *extra, "-f", "/dev/stdin"], input=sql,
                       capture_output=True, text=True, env=env)
    if p.returncode:
        sys.exit(p.stderr)
    stages = {m[0]: float(m[1]) for m in re.findall(r"timing: training (\w+)\s+([\d.]+) s", p.stderr)}
    return p.stdout, [float(t) for t in re.findall(r"time: ([\d.]+) s", p.stderr)], stages


def prepare(a, work):
    """The workspace, the SQL defining the view `rows`, and the feature columns."""
    if a.dataset == "generated":
        ws = os.path.join(a.dir, f"fit-{a.leads}")
        toml_path = os.path.join(ws, "workspace.toml")
        # A workspace written by an older leadql binary is made again.
        if not os.path.exists(toml_path) or os.path.getmtime(toml_path) < os.path.getmtime(a.leadql):
            subprocess.run([a.leadql, "generate", "--data", ws, "--leads", str(a.leads), "--seed", "11", "--quiet",
                            "--force"], check=True)
        view = GEN_VIEW.format(cat=", ".join(f"l.{c}" for c in GEN_CAT))
        return ws, view, GEN_CAT, GEN_NUM, f"{a.leads:,} generated leads (seed 11), closed leads"
    df = pd.read_csv(a.bank, sep=";")
    df = df.drop(columns=["duration"])
    df["outcome"] = df.pop("y") == "yes"
    df["holdout"] = np.arange(len(df)) % 5 == 0
    ws = os.path.join(work, "bank-ws")
    # A small workspace to keep the models in; the rows come from the Parquet file.
    subprocess.run([a.leadql, "generate", "--data", ws, "--leads", "1000", "--seed", "1", "--quiet"], check=True)
    path = os.path.join(work, "bank.parquet")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    view = (f"CREATE EXTERNAL TABLE bank STORED AS PARQUET LOCATION '{path}';\n"
            f"CREATE VIEW rows AS SELECT * FROM bank")
    return ws, view, BANK_CAT, BANK_NUM, "UCI Bank Marketing without `duration`"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leadql", required=True)
    ap.add_argument("--dataset", choices=["generated", "bank"], default="generated")
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--bank", default="../shared/data/bank-marketing/bank-additional-full.csv")
    ap.add_argument("--models", default="logistic_reg,random_forest,boosted_tree")
    ap.add_argument("--dir", default="/tmp/leadql-bench")
    ap.add_argument("--out", default="benches/results/training.md")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    work = tempfile.mkdtemp(dir=a.dir)
    ws, view, cat, num, what = prepare(a, work)
    cols = ", ".join(quoted(c) for c in cat + num)

    rows_path = os.path.join(work, "rows.parquet")
    subprocess.run([a.leadql, "--data", ws, "sql", "--format", "parquet", "--output", rows_path, "-f", "/dev/stdin"],
                   input=view + f";\nSELECT {cols}, outcome, holdout FROM rows;\n", text=True, check=True)
    df = pq.read_table(rows_path).to_pandas()
    df[cat] = df[cat].astype(object).where(df[cat].notna(), "(null)")
    train, test = df[~df.holdout], df[df.holdout]

    import sklearn
    results = []
    for model_type in a.models.split(","):
        options, estimator, description, dense = MODELS[model_type]
        name = f"bench_{model_type}"
        subprocess.run([a.leadql, "--data", ws, "sql", "-f", "/dev/stdin"], input=f"DROP MODEL IF EXISTS {name};",
                       text=True, check=True, capture_output=True)
        out, times, stages = leadql(
            a.leadql, ws,
            view + f";\nCREATE MODEL {name} OPTIONS (model_type = '{model_type}', label = 'outcome', {options}, "
            f"split = 'custom', split_column = 'holdout') AS SELECT {cols}, outcome, holdout FROM rows;\n"
            f"SELECT value FROM model_evaluation('{name}') WHERE metric = 'auc';\n", "--format", "csv")
        lq_total, lq_fit, lq_auc = times[-2], stages["fit"], float(out.split()[-1])

        pre = ColumnTransformer([("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), num),
                                 ("cat", OneHotEncoder(min_frequency=10, handle_unknown="infrequent_if_exist"), cat)],
                                sparse_threshold=0.0 if dense else 0.3)
        t = time.perf_counter()
        x_train = pre.fit_transform(train[cat + num])
        sk_pre = time.perf_counter() - t
        model = estimator()
        t = time.perf_counter()
        model.fit(x_train, train.outcome)
        sk_fit = time.perf_counter() - t
        sk_auc = roc_auc_score(test.outcome, model.predict_proba(pre.transform(test[cat + num]))[:, 1])
        results.append((model_type, options, description, lq_fit, lq_total, sk_fit, sk_pre, lq_auc, sk_auc))
        print(f"{model_type}: leadql fit {lq_fit:.2f} s (statement {lq_total:.2f} s) AUC {lq_auc:.4f}; "
              f"scikit-learn fit {sk_fit:.2f} s (+ preprocessing {sk_pre:.2f} s) AUC {sk_auc:.4f}", file=sys.stderr)

    lines = [
        "# Training: leadql vs scikit-learn",
        "",
        f"Written by `benches/predictive/training.py` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; "
        f"{os.cpu_count()} cores; scikit-learn {sklearn.__version__}.",
        f"{what}: {len(train):,} training rows and {len(test):,} held-out rows; {len(cat)} categorical + "
        f"{len(num)} numeric features. `fit` is the estimator alone on both sides; leadql's statement adds the "
        "feature query, the pipeline and the evaluation, scikit-learn's preprocessing is shown apart.",
        "",
        "| model | leadql fit (s) | scikit-learn fit (s) | ratio | leadql statement (s) | scikit-learn preprocessing (s) | leadql AUC | scikit-learn AUC | scikit-learn estimator |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for model_type, options, description, lq_fit, lq_total, sk_fit, sk_pre, lq_auc, sk_auc in results:
        lines.append(f"| `{model_type}` {options} | {lq_fit:.2f} | {sk_fit:.2f} | {lq_fit / sk_fit:.2f}× | "
                     f"{lq_total:.2f} | {sk_pre:.2f} | {lq_auc:.4f} | {sk_auc:.4f} | `{description}` |")
    lines.append("")
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    open(a.out, "w").write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
