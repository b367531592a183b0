"""leadql against its peers, same Parquet files, same run.

Workloads (more arrive as leadql grows):
  rule_score  the workspace's `engagement` rule model over every lead, as of the
              workspace's end: leadql's score_leads() against DuckDB running the same
              model as plain SQL (generated below from the same TOML file).
  decayed     time-decayed engagement over all interactions: points per interaction
              type, halved every 30 days before as_of, summed per lead: leadql's
              decay() in SQL, the same arithmetic in DuckDB SQL and as Polars lazy
              expressions (POINTS below).
  fit         logistic regression training, held-out AUC and scoring against
              scikit-learn (benches/predictive/fit_1m.py), once per scale.
Every workload runs at each of --scales (0.1x, 1x, 3x of --leads by default).

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

DAY_US = 86_400_000_000


def run_timed(cmd, env=None):
    """Runs cmd under /usr/bin/time; returns (stdout, stderr, wall seconds, peak RSS MiB)."""
    full = ["/usr/bin/time", "-f", "__time %e %M"] + cmd
    p = subprocess.run(full, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    m = re.search(r"__time ([\d.]+) (\d+)", p.stderr)
    return p.stdout, p.stderr, float(m.group(1)), int(m.group(2)) / 1024


def consent_levels(minimum):
    levels = ["none", "transactional", "marketing", "full"]
    return levels[levels.index(minimum):]


def duckdb_sql(model, ws, as_of):
    """The rule model as one plain DuckDB query: the same semantics as leadql's plan."""
    T = f"TIMESTAMP '{as_of}'"
    D = f"{DAY_US}.0::DOUBLE"
    model_decay = model.get("decay", {"kind": "none"})
    where = [f"created_at <= {T}"]
    aud = model.get("audience", {})
    if "where" in aud:
        where.append(f"coalesce(({aud['where']}), false)")
    if aud.get("min_consent", "none") != "none":
        levels = ", ".join(f"'{c}'" for c in consent_levels(aud["min_consent"]))
        where.append(f"consent IN ({levels})")
    rule_cols, fit_cols = [], []
    for i, f in enumerate(model.get("fit", [])):
        fit_cols.append(f"CASE WHEN coalesce(({f['when']}), false) THEN {float(f['points'])}::DOUBLE ELSE 0.0 END AS r{i}")
        rule_cols.append(f"r{i}")
    aggs, finals = [], []
    types = sorted({b["type"] for b in model.get("behavior", [])})
    for k, b in enumerate(model.get("behavior", [])):
        p = float(b["points"])
        decay = b.get("decay", model_decay)
        window = b.get("window_days") or (decay.get("days") if decay["kind"] == "window" else None)
        cond = f"type = '{b['type']}'"
        if window:
            cond += f" AND age_us <= {int(window * DAY_US)}"
        if "where" in b:
            cond += f" AND coalesce(({b['where']}), false)"

        def factor(age):
            if decay["kind"] == "linear":
                return f"{p}::DOUBLE * greatest(0.0::DOUBLE, 1.0::DOUBLE - ({age})::DOUBLE / ({decay['days']}::DOUBLE * {D}))"
            if decay["kind"] == "exponential":
                return f"{p}::DOUBLE * pow(2.0::DOUBLE, -(({age})::DOUBLE / {D}) / {decay['days']}::DOUBLE)"
            return f"{p}::DOUBLE"

        freq = b.get("frequency", "each")
        aggs.append(f"count(CASE WHEN {cond} THEN 1 END) AS c{k}")
        i = len(model.get("fit", [])) + k
        if freq == "each":
            aggs.append(f"sum(CASE WHEN {cond} THEN {factor('age_us')} ELSE 0.0 END) AS v{k}")
            v = f"coalesce(v{k}, 0.0)"
            if "cap" in b:
                v = f"{'least' if p >= 0 else 'greatest'}({v}, {p * b['cap']}::DOUBLE)"
        elif freq == "at_least":
            aggs.append(f"max(CASE WHEN {cond} THEN occurred_at END) AS v{k}")
            v = f"CASE WHEN coalesce(c{k}, 0) >= {b['count']} THEN {factor(f'epoch_us({T}) - epoch_us(v{k})')} ELSE 0.0 END"
        else:
            v = f"CASE WHEN coalesce(c{k}, 0) = 0 THEN {p}::DOUBLE ELSE 0.0 END"
        finals.append(f"round({v}, 4) AS r{i}")
        rule_cols.append(f"r{i}")
    accounts = ""
    if any("account_" in f["when"] for f in model.get("fit", [])):
        cols = ", ".join(f"{c} AS account_{c}" for c in ["name", "domain", "industry", "employees", "size_band", "revenue_band", "country", "territory", "segment", "is_customer"])
        accounts = f" LEFT JOIN (SELECT account_id AS __account_id, {cols} FROM read_parquet('{ws}/accounts/*.parquet')) a ON a.__account_id = l.account_id"
    population = f"SELECT lead_id{''.join(', ' + c for c in fit_cols)} FROM read_parquet('{ws}/leads/*.parquet') l{accounts} WHERE {' AND '.join(where)}"
    type_list = ", ".join(f"'{t}'" for t in types)
    events = (f"SELECT lead_id, type, asset, occurred_at, epoch_us({T}) - epoch_us(occurred_at) AS age_us "
              f"FROM read_parquet('{ws}/interactions/*.parquet') WHERE occurred_at < {T} AND type IN ({type_list})")
    score = " + ".join(rule_cols) or "0"
    ready = float(model["sales_ready"])
    return (f"WITH population AS ({population}), events AS ({events}), "
            f"per_lead AS (SELECT lead_id, {', '.join(aggs)} FROM events GROUP BY lead_id), "
            f"scored AS (SELECT p.*, {', '.join(finals)} FROM population p LEFT JOIN per_lead USING (lead_id)) "
            f"SELECT count(*) AS n, round(sum(round({score}, 4)), 2) AS total, "
            f"sum(CASE WHEN round({score}, 4) >= {ready} THEN 1 ELSE 0 END) AS ready FROM scored")


DUCKDB_RUNNER = r"""
import duckdb, json, sys, time
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
sql = open(sys.argv[1]).read()
t = time.perf_counter()
n, total, ready = con.execute(sql).fetchone()
print(json.dumps({"seconds": time.perf_counter() - t, "n": n, "total": float(total or 0), "ready": int(ready or 0)}))
"""


def leadql_rule_score(bin_, ws, as_of):
    q = (f"SELECT count(*) AS n, round(sum(score), 2) AS total, sum(CASE WHEN sales_ready THEN 1 ELSE 0 END) AS ready "
         f"FROM score_leads('engagement', TIMESTAMP '{as_of}')")
    out, err, wall, rss = run_timed([bin_, "--data", ws, "sql", "--timing", "--format", "json", q])
    row = json.loads(out)[0]
    seconds = float(re.search(r"time: ([\d.]+) s", err).group(1))
    return {"seconds": seconds, "wall": wall, "rss": rss, "n": row["n"], "total": float(row["total"] or 0), "ready": int(row["ready"] or 0)}


def duckdb_rule_score(sql_file):
    out, _, wall, rss = run_timed([sys.executable, "-c", DUCKDB_RUNNER, sql_file])
    r = json.loads(out.strip().splitlines()[-1])  # the last line: peers may print progress
    r.update(wall=wall, rss=rss)
    return r


# Points per interaction type for the decayed-engagement workload.
POINTS = {"email_open": 1.0, "email_click": 3.0, "web_visit": 1.0, "pricing_page_visit": 8.0,
          "form_submit": 10.0, "content_download": 5.0, "event_checkin": 10.0,
          "webinar_attend": 8.0, "unsubscribe": -10.0}
HALF_LIFE_DAYS = 30


def points_case():
    return "CASE type " + " ".join(f"WHEN '{t}' THEN {p}" for t, p in POINTS.items()) + " ELSE 0.0 END"


def leadql_decayed(bin_, ws, as_of):
    q = (f"SELECT count(*) AS n, round(sum(e), 2) AS total FROM ("
         f"SELECT lead_id, sum(decay({points_case()}, occurred_at, TIMESTAMP '{as_of}', {HALF_LIFE_DAYS})) AS e "
         f"FROM interactions WHERE occurred_at < TIMESTAMP '{as_of}' GROUP BY lead_id) t")
    out, err, wall, rss = run_timed([bin_, "--data", ws, "sql", "--timing", "--format", "json", q])
    row = json.loads(out)[0]
    seconds = float(re.search(r"time: ([\d.]+) s", err).group(1))
    return {"seconds": seconds, "wall": wall, "rss": rss, "n": row["n"], "total": float(row["total"] or 0), "ready": 0}


DUCKDB_DECAYED = r"""
import duckdb, json, sys, time
ws, as_of, case, half = sys.argv[1:5]
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
sql = (f"SELECT count(*), round(sum(e), 2) FROM (SELECT lead_id, sum(({case}) * pow(2.0, -((epoch_us(TIMESTAMP '{as_of}') - epoch_us(occurred_at)) / 86400000000.0) / {half})) AS e "
       f"FROM read_parquet('{ws}/interactions/*.parquet') WHERE occurred_at < TIMESTAMP '{as_of}' GROUP BY lead_id) t")
t = time.perf_counter()
n, total = con.execute(sql).fetchone()
print(json.dumps({"seconds": time.perf_counter() - t, "n": n, "total": float(total or 0), "ready": 0}))
"""

POLARS_DECAYED = r"""
import datetime as dt, json, sys, time
import polars as pl
ws, as_of, points, half = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4])
t = time.perf_counter()
cut = dt.datetime.fromisoformat(as_of)
age_days = (pl.lit(cut) - pl.col("occurred_at")).dt.total_microseconds() / 86_400_000_000.0
per_lead = (pl.scan_parquet(f"{ws}/interactions/*.parquet")
            .filter(pl.col("occurred_at") < cut)
            .with_columns(p=pl.col("type").cast(pl.Utf8).replace_strict(points, default=0.0, return_dtype=pl.Float64))
            .group_by("lead_id")
            .agg((pl.col("p") * (2.0 ** (-age_days / half))).sum().alias("e")))
r = per_lead.select(pl.len().alias("n"), pl.col("e").sum().round(2).alias("total")).collect()
print(json.dumps({"seconds": time.perf_counter() - t, "n": int(r["n"][0]), "total": float(r["total"][0]), "ready": 0}))
"""


def peer(script, *args):
    out, _, wall, rss = run_timed([sys.executable, "-c", script, *map(str, args)])
    r = json.loads(out.strip().splitlines()[-1])  # the last line: peers may print progress
    r.update(wall=wall, rss=rss)
    return r


def agree(a, b):
    return a["n"] == b["n"] and a["ready"] == b["ready"] and abs(a["total"] - b["total"]) <= 1e-6 * max(1.0, abs(b["total"])) + 0.05


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leadql", required=True)
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--scales", default="0.1,1,3", help="multiples of --leads to run every workload at")
    ap.add_argument("--no-fit", action="store_true", help="skip the scikit-learn comparison")
    ap.add_argument("--dir", default="/tmp/leadql-bench")
    ap.add_argument("--out", default="benches/RESULTS.md")
    a = ap.parse_args()

    scales = [float(x) for x in a.scales.split(",")]
    points = json.dumps(POINTS)
    data, workloads = {}, {}
    for scale in scales:
        leads = int(round(a.leads * scale))
        ws = os.path.join(a.dir, f"ws-{leads}")
        toml_path = os.path.join(ws, "workspace.toml")
        # A workspace written by an older leadql binary is made again.
        if not os.path.exists(toml_path) or os.path.getmtime(toml_path) < os.path.getmtime(a.leadql):
            print(f"generating {leads} leads into {ws}", file=sys.stderr)
            subprocess.run([a.leadql, "generate", "--data", ws, "--leads", str(leads), "--seed", "7", "--quiet"], check=True)
        with open(toml_path, "rb") as f:
            as_of = tomllib.load(f)["workspace"]["as_of"]
        with open(os.path.join(ws, "scoring", "engagement.toml"), "rb") as f:
            model = tomllib.load(f)
        sql_file = os.path.join(a.dir, f"engagement-{leads}.duckdb.sql")
        with open(sql_file, "w") as f:
            f.write(duckdb_sql(model, ws, as_of))
        interactions = subprocess.run([a.leadql, "--data", ws, "sql", "--format", "csv", "SELECT count(*) FROM interactions"],
                                      capture_output=True, text=True, check=True).stdout.split()[-1]
        data[leads] = (int(interactions), as_of)
        workloads[(leads, "rule score (`engagement`)")] = {
            "leadql": lambda ws=ws, as_of=as_of: leadql_rule_score(a.leadql, ws, as_of),
            "duckdb": lambda sql_file=sql_file: duckdb_rule_score(sql_file),
        }
        workloads[(leads, f"decayed engagement (half-life {HALF_LIFE_DAYS} d)")] = {
            "leadql": lambda ws=ws, as_of=as_of: leadql_decayed(a.leadql, ws, as_of),
            "duckdb": lambda ws=ws, as_of=as_of: peer(DUCKDB_DECAYED, ws, as_of, points_case(), HALF_LIFE_DAYS),
            "polars": lambda ws=ws, as_of=as_of: peer(POLARS_DECAYED, ws, as_of, points, HALF_LIFE_DAYS),
        }
    runs = {w: {e: [] for e in engines} for w, engines in workloads.items()}
    for rep in range(a.reps):
        # Interleaved: every engine of every workload once per repetition.
        for w, engines in workloads.items():
            for e, run in engines.items():
                runs[w][e].append(run())
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
            if e != "leadql" and not agree(first["leadql"], r):
                disagree.append(f"{w[0]} leads, {w[1]}: leadql {first['leadql']} vs {e} {r}")
    lines += [""]
    for w, engines in runs.items():
        summary = "; ".join(f"{e}: {rs[0]['n']} leads, total {rs[0]['total']}" + (f", {rs[0]['ready']} sales-ready" if rs[0]['ready'] else "") for e, rs in engines.items())
        tag = f"{w[0]} leads, {w[1]}"
        lines.append(f"- {tag} — results {'agree' if not any(d.startswith(tag) for d in disagree) else 'DISAGREE'}: {summary}.")
    lines += [
        "",
        f"The DuckDB rule-score query is generated from the same `scoring/engagement.toml` (see `duckdb_sql` in `benches/compare/compare.py`; the queries run are kept in `{a.dir}/engagement-N.duckdb.sql`). "
        "The decayed-engagement workload uses the points of `POINTS` in the same file.",
        "",
    ]
    if not a.no_fit:
        # Workload 4: logistic regression training and scoring against scikit-learn, once
        # per scale (benches/predictive/fit_1m.py: same rows, same preprocessing).
        lines += ["## Logistic regression: leadql against scikit-learn", ""]
        here = os.path.dirname(os.path.abspath(__file__))
        for scale in scales:
            leads = int(round(a.leads * scale))
            md = os.path.join(a.dir, f"fit-{leads}.md")
            subprocess.run([sys.executable, os.path.join(here, "..", "predictive", "fit_1m.py"), "--leadql", a.leadql,
                            "--leads", str(leads), "--dir", a.dir, "--out", md], check=True, stdout=subprocess.DEVNULL)
            body = open(md).read().splitlines()
            lines += [f"### {leads:,} leads", ""] + [l for l in body[2:]] + [""]
    with open(a.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    if disagree:
        sys.exit("engines disagree: " + "; ".join(disagree))


if __name__ == "__main__":
    main()
