"""1M rows of `score_leads` into pandas, three ways, on the same Parquet workspace:

- `leadql.open(ws).sql(q).to_pandas()`: the Python package (Arrow C stream, in process);
- `leadql sql --format arrow q` read by pyarrow from the pipe (the command line);
- DuckDB computing the same rule scores on the same Parquet files, `.df()`.

Each way runs in a fresh Python process per repetition (interleaved), so its peak memory
(ru_maxrss of that process, plus the leadql child for the CLI way) is its own. Prints a
Markdown table; run by benches/python/run.sh.

    python to_pandas.py --leadql BIN --ws DIR [--reps 5] [--model engagement]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))


def one(way, leadql, ws, model, as_of):
    """Runs one way in this process; prints a JSON line: seconds, rows, checksum."""
    query = f"SELECT lead_id, score, grade, sales_ready FROM score_leads('{model}')"
    started = time.perf_counter()
    if way == "python":
        import leadql as lq

        df = lq.open(ws).sql(query).to_pandas()
    elif way == "cli":
        import pyarrow as pa

        proc = subprocess.Popen([leadql, "--data", ws, "sql", "--format", "arrow", query], stdout=subprocess.PIPE)
        df = pa.ipc.open_stream(proc.stdout).read_all().to_pandas()
        if proc.wait() != 0:
            raise SystemExit("leadql sql failed")
    elif way == "duckdb":
        import duckdb

        sys.path.insert(0, os.path.join(HERE, "..", "compare"))
        from rule_models import duckdb_scores

        with open(os.path.join(ws, "scoring", f"{model}.toml"), "rb") as f:
            spec = tomllib.load(f)
        con = duckdb.connect()
        df = con.sql(duckdb_scores(spec, ws, as_of)).df()
    else:
        raise SystemExit(f"unknown way {way}")
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "rows": len(df), "score_sum": round(float(df["score"].sum()), 2),
                      "rss_mib": max(rss, child) / 1024}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--leadql", required=True)
    p.add_argument("--ws", required=True)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--model", default="engagement")
    p.add_argument("--one")
    a = p.parse_args()
    with open(os.path.join(a.ws, "workspace.toml"), "rb") as f:
        as_of = tomllib.load(f)["workspace"]["as_of"]
    if a.one:
        return one(a.one, a.leadql, a.ws, a.model, as_of)
    ways = ["python", "cli", "duckdb"]
    results = {w: [] for w in ways}
    for _ in range(a.reps):
        for w in ways:
            out = subprocess.run([sys.executable, __file__, "--leadql", a.leadql, "--ws", a.ws, "--model", a.model,
                                  "--one", w], check=True, capture_output=True, text=True).stdout
            results[w].append(json.loads(out.strip().splitlines()[-1]))
    rows = {w: {r["rows"] for r in rs} for w, rs in results.items()}
    sums = {w: {r["score_sum"] for r in rs} for w, rs in results.items()}
    print(f"| way | rows | median s | min s | peak RSS MiB (median) |")
    print(f"|---|---:|---:|---:|---:|")
    label = {"python": "`leadql.open().sql(q).to_pandas()`", "cli": "`leadql sql --format arrow` + pyarrow",
             "duckdb": "DuckDB same scoring SQL, `.df()`"}
    for w in ways:
        s = [r["seconds"] for r in results[w]]
        m = [r["rss_mib"] for r in results[w]]
        print(f"| {label[w]} | {results[w][0]['rows']:,} | {statistics.median(s):.3f} | {min(s):.3f} | {statistics.median(m):.0f} |")
    print()
    print(f"Rows per way: {rows}; score sums per way: {sums} (must agree).")


if __name__ == "__main__":
    main()
