"""leadql against its peers, same Parquet files, same run.

Workloads, each at --scales (0.1x, 1x, 3x of --leads by default):
  1. rule score   the workspace's `engagement` rule model over every lead, as of the
                  workspace's end: leadql's score_leads() against the same model in
                  DuckDB SQL and Polars expressions (rule_models.py, from the same TOML);
  2. decayed      time-decayed engagement over all interactions: points per type halved
                  every 30 days before as_of, summed per lead (leadql's decay(), DuckDB
                  SQL, Polars expressions);
  3. qualify      the `default` qualification pipeline exported to Parquet: `leadql
                  export` of qualify_leads() against DuckDB + scikit-learn
                  (qualification.py);
  4. training     logistic regression, random forest and boosted trees against
                  scikit-learn on the same rows and split (benches/predictive/training.py),
                  once per scale (forest and boosted trees up to 1x) and on Bank Marketing;
                  scoring every lead against predict_proba (benches/predictive/fit_1m.py).
                  `--training-only` runs this workload alone and replaces its section of
                  an existing --out, leaving the other workloads' figures as they were.
The peers run in their own processes (peer.py).

Each repetition runs every engine once, interleaved; the table reports medians of the
in-engine query time, of the whole process, and the peak resident memory of the
process. Results are checked to agree (lead count, sales-ready count, score total).
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tomllib

from peer import HALF_LIFE_DAYS, POINTS, points_case

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peer.py")


def run_timed(cmd, env=None):
    """Runs cmd under /usr/bin/time; returns (stdout, stderr, wall seconds, peak RSS MiB)."""
    full = ["/usr/bin/time", "-f", "__time %e %M"] + cmd
    p = subprocess.run(full, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    m = re.search(r"__time ([\d.]+) (\d+)", p.stderr)
    return p.stdout, p.stderr, float(m.group(1)), int(m.group(2)) / 1024


def leadql_sql(bin_, ws, q):
    """One leadql query, timed by leadql itself (`--timing`)."""
    out, err, wall, rss = run_timed([bin_, "--data", ws, "sql", "--timing", "--format", "json", q])
    row = json.loads(out)[0]
    seconds = float(re.search(r"time: ([\d.]+) s", err).group(1))
    return {"seconds": seconds, "wall": wall, "rss": rss, "n": row["n"], "total": float(row["total"] or 0),
            "ready": int(row.get("ready") or 0)}


def leadql_rule_score(bin_, ws, as_of):
    return leadql_sql(bin_, ws, f"SELECT count(*) AS n, round(sum(score), 2) AS total, "
                                f"sum(CASE WHEN sales_ready THEN 1 ELSE 0 END) AS ready "
                                f"FROM score_leads('engagement', TIMESTAMP '{as_of}')")


def leadql_decayed(bin_, ws, as_of):
    return leadql_sql(bin_, ws, f"SELECT count(*) AS n, round(sum(e), 2) AS total FROM ("
                                f"SELECT lead_id, sum(decay({points_case()}, occurred_at, TIMESTAMP '{as_of}', {HALF_LIFE_DAYS})) AS e "
                                f"FROM interactions WHERE occurred_at < TIMESTAMP '{as_of}' GROUP BY lead_id) t")


def qualified(path):
    """What is checked of a qualification table: rows, rule-score total, sales-ready
    leads, and the predictive scores by lead (for the mean difference)."""
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["lead_id", "rule_score", "predictive_score", "sales_ready"]).to_pandas()
    return {"n": len(t), "total": round(float(t.rule_score.sum()), 2), "ready": int(t.sales_ready.sum()),
            "scores": t.set_index("lead_id").predictive_score}


def leadql_qualify(bin_, ws, as_of, out):
    """`leadql export` of the qualification table; timed as the whole process."""
    _, _, wall, rss = run_timed([bin_, "--data", ws, "export",
                                 f"SELECT * FROM qualify_leads('default', TIMESTAMP '{as_of}')", "--out", out])
    return {"seconds": wall, "wall": wall, "rss": rss, **qualified(out)}


def peer(*args):
    """One peer run (peer.py); its JSON is read from its last line of output."""
    out, _, wall, rss = run_timed([sys.executable, PEER, *map(str, args)])
    r = json.loads(out.strip().splitlines()[-1])
    r.update(wall=wall, rss=rss)
    return r


def peer_qualify(ws, as_of, pkl, out):
    r = peer("qualify", "duckdb", ws, as_of, pkl, out)
    r.update(qualified(out))
    return r


def setup_models(bin_, ws):
    """The stored `conversion` model leadql's policy needs, and the scikit-learn one
    the peers use: trained once per workspace, outside the timed runs."""
    shown = subprocess.run([bin_, "--data", ws, "sql", "--format", "csv", "SHOW MODELS"], capture_output=True, text=True, check=True).stdout
    if "conversion" not in shown:
        subprocess.run([bin_, "--data", ws, "sql", "-f", os.path.join(ws, "models", "conversion.sql")],
                       check=True, stdout=subprocess.DEVNULL)
    pkl = ws + ".sklearn-conversion.pkl"
    if not os.path.exists(pkl) or os.path.getmtime(pkl) < os.path.getmtime(os.path.join(ws, "workspace.toml")):
        subprocess.run([sys.executable, PEER, "train", ws, pkl], check=True)
    return pkl


RULE_SCORE = "rule score (`engagement`)"
DECAYED = f"decayed engagement (half-life {HALF_LIFE_DAYS} d)"
QUALIFY = "qualification pipeline (`default`) exported to Parquet"


def agree(workload, a, b):
    """Whether two engines' results are the same. The qualification pipeline's
    predictive scores come from two different fits (leadql's, scikit-learn's), so its
    sales-ready count may differ by the leads at the grade-A boundary: 0.2 %."""
    same = a["n"] == b["n"] and abs(a["total"] - b["total"]) <= 1e-6 * max(1.0, abs(b["total"])) + 0.05
    if workload == QUALIFY:
        return same and abs(a["ready"] - b["ready"]) <= 0.002 * max(a["ready"], 1)
    return same and a["ready"] == b["ready"]


TRAINING_HEADER = "## Training and scoring: leadql against scikit-learn"


def training(a, scales):
    """Workload 4: the section's Markdown lines."""
    here = os.path.dirname(os.path.abspath(__file__))
    script = lambda name: os.path.join(here, "..", "predictive", name)
    lines = [TRAINING_HEADER, "",
             f"Written on {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M')} UTC by "
             "`benches/predictive/training.py` (fit times, AUC) and `benches/predictive/fit_1m.py` (scoring every "
             "lead), same machine. `fit` is the estimator alone on both sides; see each script's opening comment.",
             ""]
    runs = []
    for scale in scales:
        leads = int(round(a.leads * scale))
        models = "logistic_reg" if scale > 1 else "logistic_reg,random_forest,boosted_tree"
        runs.append((f"{leads:,} generated leads", ["--dataset", "generated", "--leads", str(leads)], models))
    if os.path.exists(a.bank):
        runs.append(("UCI Bank Marketing (without `duration`)", ["--dataset", "bank", "--bank", a.bank],
                     "logistic_reg,random_forest,boosted_tree"))
    for title, args, models in runs:
        md = os.path.join(a.dir, "training.md")
        subprocess.run([sys.executable, script("training.py"), "--leadql", a.leadql, *args, "--models", models,
                        "--dir", a.dir, "--out", md], check=True, stdout=subprocess.DEVNULL)
        body = open(md).read().splitlines()
        lines += [f"### Training: {title}", ""] + body[2:] + [""]
    for scale in scales:
        leads = int(round(a.leads * scale))
        md = os.path.join(a.dir, f"fit-{leads}.md")
        subprocess.run([sys.executable, script("fit_1m.py"), "--leadql", a.leadql,
                        "--leads", str(leads), "--dir", a.dir, "--out", md], check=True, stdout=subprocess.DEVNULL)
        body = open(md).read().splitlines()
        lines += [f"### Scoring: {leads:,} leads", ""] + body[2:] + [""]
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leadql", required=True)
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--scales", default="0.1,1,3", help="multiples of --leads to run every workload at")
    ap.add_argument("--no-fit", action="store_true", help="skip the scikit-learn comparison")
    ap.add_argument("--training-only", action="store_true",
                    help="run only the scikit-learn comparison and replace its section of --out")
    ap.add_argument("--bank", default=os.path.join(HERE, "..", "..", "..", "shared", "data", "bank-marketing",
                                                  "bank-additional-full.csv"),
                    help="UCI Bank Marketing CSV (skipped when absent)")
    ap.add_argument("--dir", default="/tmp/leadql-bench")
    ap.add_argument("--out", default="benches/RESULTS.md")
    a = ap.parse_args()

    scales = [float(x) for x in a.scales.split(",")]
    if a.training_only:
        old = open(a.out).read()
        cut = old.find(TRAINING_HEADER)
        if cut < 0:
            cut = old.find("## Logistic regression: leadql against scikit-learn")
        head = old[:cut] if cut >= 0 else old + "\n"
        text = head + "\n".join(training(a, scales))
        with open(a.out, "w") as f:
            f.write(text)
        print(text)
        return
    data, workloads = {}, {}
    for scale in scales:
        leads = int(round(a.leads * scale))
        ws = os.path.join(a.dir, f"ws-{leads}")
        toml_path = os.path.join(ws, "workspace.toml")
        # A workspace written by an older leadql binary is made again.
        if not os.path.exists(toml_path) or os.path.getmtime(toml_path) < os.path.getmtime(a.leadql):
            print(f"generating {leads} leads into {ws}", file=sys.stderr)
            subprocess.run([a.leadql, "generate", "--data", ws, "--leads", str(leads), "--seed", "7", "--quiet", "--force"], check=True)
        with open(toml_path, "rb") as f:
            as_of = tomllib.load(f)["workspace"]["as_of"]
        model = os.path.join(ws, "scoring", "engagement.toml")
        pkl = setup_models(a.leadql, ws)
        interactions = subprocess.run([a.leadql, "--data", ws, "sql", "--format", "csv", "SELECT count(*) FROM interactions"],
                                      capture_output=True, text=True, check=True).stdout.split()[-1]
        data[leads] = (int(interactions), as_of)
        workloads[(leads, RULE_SCORE)] = {
            "leadql": lambda ws=ws, as_of=as_of: leadql_rule_score(a.leadql, ws, as_of),
            "duckdb": lambda ws=ws, as_of=as_of, model=model: peer("rule-score", "duckdb", ws, as_of, model),
            "polars": lambda ws=ws, as_of=as_of, model=model: peer("rule-score", "polars", ws, as_of, model),
        }
        workloads[(leads, DECAYED)] = {
            "leadql": lambda ws=ws, as_of=as_of: leadql_decayed(a.leadql, ws, as_of),
            "duckdb": lambda ws=ws, as_of=as_of: peer("decayed", "duckdb", ws, as_of),
            "polars": lambda ws=ws, as_of=as_of: peer("decayed", "polars", ws, as_of),
        }
        out = os.path.join(a.dir, f"qualification-{leads}")
        workloads[(leads, QUALIFY)] = {
            "leadql": lambda ws=ws, as_of=as_of, out=out: leadql_qualify(a.leadql, ws, as_of, out + ".leadql.parquet"),
            "duckdb+sklearn": lambda ws=ws, as_of=as_of, pkl=pkl, out=out: peer_qualify(ws, as_of, pkl, out + ".duckdb.parquet"),
        }
    runs = {w: {e: [] for e in engines} for w, engines in workloads.items()}
    for rep in range(a.reps):
        # Interleaved: every engine of every workload once per repetition.
        for w, engines in workloads.items():
            for e, run in engines.items():
                r = run()
                if rep > 0:
                    r.pop("scores", None)  # the first run's predictive scores are compared
                runs[w][e].append(r)
            print(f"rep {rep + 1}, {w[0]} leads, {w[1]}: " + ", ".join(f"{e} {runs[w][e][-1]['seconds']:.3f} s" for e in engines), file=sys.stderr)

    versions = {"duckdb": subprocess.run([sys.executable, "-c", "import duckdb; print(duckdb.__version__)"], capture_output=True, text=True).stdout.strip(),
                "polars": subprocess.run([sys.executable, "-c", "import polars; print(polars.__version__)"], capture_output=True, text=True).stdout.strip(),
                "leadql": subprocess.run([a.leadql, "--version"], capture_output=True, text=True).stdout.strip()}
    mem = int(open("/proc/meminfo").read().split()[1]) // 1048576
    lines = [
        "# leadql against its peers",
        "",
        f"Written by `benches/compare/run.sh` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {os.cpu_count()} cores, {mem} GiB, {platform.platform()}; {versions['leadql']}, DuckDB {versions['duckdb']}, Polars {versions['polars']}, Python {platform.python_version()}.",
        "Data: `leadql generate --leads N --seed 7`, scored as of the workspace's end: " + "; ".join(f"{n:,} leads, {i:,} interactions" for n, (i, _) in data.items()) + ".",
        f"{a.reps} interleaved repetitions; medians. *query* = in-engine time of the statement; *process* = whole process (start, catalog, query, output); *peak RSS* = the process's maximum resident memory.",
        "",
        "| leads | workload | engine | query (s) | process (s) | peak RSS (MiB) | leadql / fastest peer (query) |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    disagree = []
    for w, engines in runs.items():
        med = {e: {k: statistics.median(r[k] for r in rs) for k in ("seconds", "wall", "rss")} for e, rs in engines.items()}
        fastest = min(med[e]["seconds"] for e in med if e != "leadql")
        for e, m in med.items():
            ratio = f"{med['leadql']['seconds'] / fastest:.2f}×" if e == "leadql" else ""
            lines.append(f"| {w[0]:,} | {w[1]} | {e} | {m['seconds']:.3f} | {m['wall']:.2f} | {m['rss']:.0f} | {ratio} |")
        first = {e: rs[0] for e, rs in engines.items()}
        for e, r in first.items():
            if e != "leadql" and not agree(w[1], first["leadql"], r):
                disagree.append(f"{w[0]} leads, {w[1]}: leadql {first['leadql']} vs {e} {r}")
    lines += [""]
    for w, engines in runs.items():
        summary = "; ".join(f"{e}: {rs[0]['n']} leads, total {rs[0]['total']}" + (f", {rs[0]['ready']} sales-ready" if rs[0]['ready'] else "") for e, rs in engines.items())
        if w[1] == QUALIFY:
            (e, r), = [(e, rs[0]) for e, rs in engines.items() if e != "leadql"]
            diff = (engines["leadql"][0]["scores"] - r["scores"]).abs()
            summary += f"; predictive score |leadql − {e}| mean {diff.mean():.3f}, max {diff.max():.3f} points"
        tag = f"{w[0]} leads, {w[1]}"
        lines.append(f"- {tag} — results {'agree' if not any(d.startswith(tag) for d in disagree) else 'DISAGREE'}: {summary}.")
    lines += [
        "",
        "Peers' programs: `benches/compare/peer.py`. The rule models are translated from the workspace's own "
        "`scoring/*.toml` by `benches/compare/rule_models.py` (DuckDB: one SQL query; Polars: lazy expressions, the "
        "models' SQL predicates parsed by `polars.sql_expr`). The decayed-engagement workload uses `POINTS` in "
        "`peer.py`. The qualification pipeline (`benches/compare/qualification.py`) is the `default` policy: "
        "`engagement` and `fit` rule scores, `conversion` predictions over the `lead_features` view (leadql: its stored "
        "model; peer: a scikit-learn pipeline trained beforehand on the same recipe rows), criteria and reasons "
        "over the leads open at as_of, one Parquet file written aside and renamed. leadql's time there is the whole "
        "`leadql export` process; the peer's excludes Python's start and imports.",
        "",
        "Where leadql is slower and why: `benches/PROFILES.md`.",
        "",
    ]
    if not a.no_fit:
        lines += training(a, scales)
    with open(a.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    if disagree:
        sys.exit("engines disagree: " + "; ".join(disagree))


if __name__ == "__main__":
    main()
