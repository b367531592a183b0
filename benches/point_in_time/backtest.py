"""Point-in-time backtest: leadql's `conversion` model, the `engagement` rules and a
scikit-learn peer trained on leadql's own snapshot features, at instants T where
training used only what was known before T (`leadql --as-of T run`).

For each T:
1. `leadql --as-of T run` trains a `conversion` version on the snapshots known at T.
2. In a session that knows the whole workspace, `backtest('conversion@N', T, T, 1)` and
   `backtest('engagement', T, T, 1, 90)` score the leads open at T against whether they
   were qualified within 90 days.
3. The peer reads the same training rows (`lead_snapshot_features(NULL, NULL, 30, 90)`
   known at T), applies the same split (latest whole instants held out, a 90-day gap
   before them), the same kind of pipeline (mean imputation, standardisation, one-hot
   levels seen at least 10 times) and the same L2 strength (C = 1), and scores the same
   open leads at T.
"""

import argparse
import datetime as dt
import glob
import io
import json
import os
import platform
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HORIZON_DAYS = 90
TEST_FRACTION = 0.2


def leadql(binary, ws, *args, as_of=None):
    cmd = [binary, "--data", ws]
    if as_of:
        cmd += ["--as-of", as_of]
    cmd += list(args)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return done.stdout


def sql_frame(binary, ws, query, as_of=None):
    return pd.read_csv(io.StringIO(leadql(binary, ws, "sql", "--format", "csv", "--max-rows", "0", query, as_of=as_of)))


def micros(instant):
    t = dt.datetime.strptime(instant, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp() * 1_000_000)


def version_trained_at(ws, instant):
    for path in sorted(glob.glob(os.path.join(ws, "models", "conversion", "v*.json"))):
        with open(path) as f:
            model = json.load(f)
        if model.get("known_until") == micros(instant):
            return model
    sys.exit(f"no conversion version trained at {instant}")


def split(as_of, horizon_days):
    """leadql's snapshot split: the latest whole instants holding >= 20% of the rows are
    held out; training keeps instants at least one horizon before them."""
    times = np.sort(as_of.to_numpy())
    want = max(1, int(np.ceil(len(times) * TEST_FRACTION)))
    start = times[-want]
    gap = np.timedelta64(int(horizon_days * 86400 * 1_000_000), "us")
    return as_of <= start - gap, as_of >= start


def peer_model(train):
    features = [c for c in train.columns if c not in ("lead_id", "as_of", "label")]
    categorical = [c for c in features
                   if pd.api.types.is_string_dtype(train[c]) or pd.api.types.is_object_dtype(train[c])]
    numeric = [c for c in features if c not in categorical]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="(null)"),
                              OneHotEncoder(min_frequency=10, handle_unknown="infrequent_if_exist")), categorical),
    ])
    model = make_pipeline(pre, LogisticRegression(C=1.0, max_iter=5000))
    model.fit(prepare(train, features, numeric), train["label"].astype(bool))
    return model, features, numeric


def prepare(frame, features, numeric):
    x = frame[features].copy()
    for c in numeric:
        x[c] = pd.to_numeric(x[c].astype("Float64"), errors="coerce").astype(float)
    return x


def top_share(scores, labels, share):
    order = np.argsort(-scores, kind="stable")
    k = max(1, int(np.ceil(len(scores) * share)))
    top = order[:k]
    return float(np.mean(scores[top])), float(np.mean(labels[top]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leadql", required=True)
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/leadql-pit")
    ap.add_argument("--workspace", help="backtest a copy of this workspace instead of generating one")
    ap.add_argument("--instants", default="2025-12-31 00:00:00,2026-03-31 00:00:00")
    ap.add_argument("--out", default="benches/results/point_in_time.md")
    args = ap.parse_args()
    binary = os.path.abspath(args.leadql)
    os.makedirs(args.dir, exist_ok=True)
    if args.workspace:
        ws = os.path.join(args.dir, "workspace-copy")
        shutil.rmtree(ws, ignore_errors=True)
        shutil.copytree(args.workspace, ws)
        label = f"a copy of `{args.workspace}`"
    else:
        ws = os.path.join(args.dir, f"w{args.leads}-s{args.seed}")
        if not os.path.isdir(os.path.join(ws, "leads")):
            leadql(binary, ws, "generate", "--leads", str(args.leads), "--seed", str(args.seed), "-q", "--force")
        label = f"`leadql generate --leads {args.leads} --seed {args.seed}`"
    # Start from no trained model and no recorded run.
    for d in ("models/conversion", "qualification_history", "sales_activities"):
        shutil.rmtree(os.path.join(ws, d), ignore_errors=True)

    rows = []
    for instant in args.instants.split(","):
        run = leadql(binary, ws, "run", "--out", os.path.join(args.dir, "out"), as_of=instant)
        model = version_trained_at(ws, instant)
        v = model["version"]
        q = lambda m, h="": (
            f"SELECT '{m}' AS model, segment, leads, converted, conversion_rate, mean_predicted, auc, in_training_period "
            f"FROM backtest('{m}', TIMESTAMP '{instant}', TIMESTAMP '{instant}', 1{h}) "
            f"WHERE segment IN ('all', 'top 5%', 'top 10%')")
        bt = sql_frame(binary, ws, q(f"conversion@{v}") + " UNION ALL " + q("engagement", f", {HORIZON_DAYS}"))
        get = lambda m, s, c: bt[(bt.model == m) & (bt.segment == s)][c].iloc[0]
        conv = f"conversion@{v}"

        train_path = os.path.join(args.dir, "train.parquet")
        test_path = os.path.join(args.dir, "test.parquet")
        leadql(binary, ws, "sql", "--format", "parquet", "--output", train_path,
               f"SELECT * FROM lead_snapshot_features(NULL, NULL, 30, {HORIZON_DAYS}) WHERE label IS NOT NULL",
               as_of=instant)
        leadql(binary, ws, "sql", "--format", "parquet", "--output", test_path,
               f"SELECT * FROM lead_snapshot_features(TIMESTAMP '{instant}', TIMESTAMP '{instant}', 1, {HORIZON_DAYS})")
        data = pq.read_table(train_path).to_pandas()
        test = pq.read_table(test_path).to_pandas()
        test = test[test["label"].notna()]
        fit_rows, held = split(data["as_of"], HORIZON_DAYS)
        peer, features, numeric = peer_model(data[fit_rows])
        held_auc = roc_auc_score(data[held]["label"].astype(bool), peer.predict_proba(prepare(data[held], features, numeric))[:, 1])
        p = peer.predict_proba(prepare(test, features, numeric))[:, 1]
        y = test["label"].astype(bool).to_numpy()
        peer_auc = roc_auc_score(y, p)
        peer_top5 = top_share(p, y, 0.05)
        rows.append({
            "instant": instant[:10],
            "open": int(get(conv, "all", "leads")),
            "converted": int(get(conv, "all", "converted")),
            "version": v,
            "training_rows": model["training_rows"],
            "peer_training_rows": int(fit_rows.sum()),
            "held_out_auc": model["evaluation"]["auc"],
            "peer_held_out_auc": held_auc,
            "auc": float(get(conv, "all", "auc")),
            "in_training": bool(get(conv, "all", "in_training_period")),
            "engagement_auc": float(get("engagement", "all", "auc")),
            "peer_auc": peer_auc,
            "top5_pred": float(get(conv, "top 5%", "mean_predicted")),
            "top5_actual": float(get(conv, "top 5%", "conversion_rate")),
            "eng_top5_actual": float(get("engagement", "top 5%", "conversion_rate")),
            "peer_top5_pred": peer_top5[0],
            "peer_top5_actual": peer_top5[1],
            "summary": run.splitlines()[:5],
        })
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "summary"}), flush=True)

    with open(args.out, "w") as f:
        f.write("# Point-in-time backtest\n\n")
        f.write(f"Written by `benches/point_in_time/run.sh` on {dt.date.today()} ({platform.machine()}, "
                f"{os.cpu_count()} cores; scikit-learn {sklearn.__version__}). Workspace: {label}. "
                f"At each instant T, `leadql --as-of T run` trained `conversion` on monthly snapshots known at T "
                f"(labels: qualified within {HORIZON_DAYS} days; the latest instants held out after a {HORIZON_DAYS}-day gap); "
                "the backtest then scores the leads open at T on interactions before T against what happened in the "
                f"{HORIZON_DAYS} days after it. The peer is scikit-learn's LogisticRegression (C = 1, lbfgs) on the same "
                "training rows and features (mean imputation, standardisation, one-hot levels seen >= 10 times).\n\n")
        f.write("| T | open leads | converted | conversion AUC | engagement AUC | scikit-learn AUC | top 5%: predicted / actual | top 5% engagement: actual | scikit-learn top 5%: predicted / actual | training rows (leadql / peer) | held-out AUC (leadql / peer) |\n")
        f.write("|---|---|---|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['instant']} | {r['open']} | {r['converted']} | **{r['auc']:.4f}** (v{r['version']}{', in training period' if r['in_training'] else ''}) | {r['engagement_auc']:.4f} | {r['peer_auc']:.4f} | "
                    f"{100*r['top5_pred']:.1f}% / {100*r['top5_actual']:.1f}% | {100*r['eng_top5_actual']:.1f}% | "
                    f"{100*r['peer_top5_pred']:.1f}% / {100*r['peer_top5_actual']:.1f}% | {r['training_rows']} / {r['peer_training_rows']} | "
                    f"{r['held_out_auc']:.4f} / {r['peer_held_out_auc']:.4f} |\n")
        f.write("\nChecks (issue 14): conversion AUC >= 0.84 and >= engagement + 0.05; top-5% predicted within ±25% "
                "(relative) of actual; |leadql - scikit-learn| AUC <= 0.01.\n\n")
        for r in rows:
            ok = [r["auc"] >= 0.84, r["auc"] >= r["engagement_auc"] + 0.05,
                  abs(r["top5_pred"] - r["top5_actual"]) <= 0.25 * r["top5_actual"],
                  abs(r["auc"] - r["peer_auc"]) <= 0.01]
            f.write(f"- {r['instant']}: " + ", ".join(
                f"{name} {'yes' if good else 'NO'}" for name, good in zip(
                    ["AUC >= 0.84", "beats engagement by 0.05", "top 5% calibrated", "within 0.01 of scikit-learn"], ok)) + "\n")
        f.write("\n`leadql run` summaries at each T:\n\n```\n")
        for r in rows:
            f.write("\n".join(r["summary"]) + "\n\n")
        f.write("```\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
