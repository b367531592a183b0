"""The peers' side of every workload, one process per run (started by compare.py):

    python peer.py rule-score duckdb|polars WS AS_OF MODEL.toml
    python peer.py decayed duckdb|polars WS AS_OF
    python peer.py qualify duckdb WS AS_OF SKLEARN.pkl OUT.parquet
    python peer.py train WS SKLEARN.pkl          (setup, not timed)

Each timed run prints one JSON line: the in-engine seconds (after imports) and the
figures compare.py checks against leadql's (leads, score total, sales-ready count).
"""

import datetime as dt
import json
import sys
import time
import tomllib

import qualification
from rule_models import DAY_US, duckdb_scores, polars_scores

# Points per interaction type for the decayed-engagement workload.
POINTS = {"email_open": 1.0, "email_click": 3.0, "web_visit": 1.0, "pricing_page_visit": 8.0,
          "form_submit": 10.0, "content_download": 5.0, "event_checkin": 10.0,
          "webinar_attend": 8.0, "unsubscribe": -10.0}
HALF_LIFE_DAYS = 30


def points_case():
    """POINTS as one SQL CASE over the interaction type (leadql and DuckDB)."""
    return "CASE type " + " ".join(f"WHEN '{t}' THEN {p}" for t, p in POINTS.items()) + " ELSE 0.0 END"


def rule_score(engine, ws, as_of, model_file):
    with open(model_file, "rb") as f:
        model = tomllib.load(f)
    ready = float(model["sales_ready"])
    t = time.perf_counter()
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        con.execute("CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)")
        n, total, k = con.execute(f"SELECT count(*), round(sum(score), 2), count(*) FILTER (WHERE score >= {ready}) "
                                  f"FROM ({duckdb_scores(model, ws, as_of)})").fetchone()
    else:
        import polars as pl

        r = polars_scores(model, ws, as_of).select(
            pl.len().alias("n"), pl.col("score").sum().round(2).alias("total"),
            (pl.col("score") >= ready).sum().alias("ready")).collect()
        n, total, k = int(r["n"][0]), float(r["total"][0]), int(r["ready"][0])
    return {"seconds": time.perf_counter() - t, "n": n, "total": float(total or 0), "ready": int(k or 0)}


def decayed(engine, ws, as_of):
    t = time.perf_counter()
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        n, total = con.execute(
            f"SELECT count(*), round(sum(e), 2) FROM (SELECT lead_id, sum(({points_case()}) * "
            f"pow(2.0, -((epoch_us(TIMESTAMP '{as_of}') - epoch_us(occurred_at)) / {DAY_US}.0) / {HALF_LIFE_DAYS})) AS e "
            f"FROM read_parquet('{ws}/interactions/*.parquet') WHERE occurred_at < TIMESTAMP '{as_of}' GROUP BY lead_id) t").fetchone()
    else:
        import polars as pl

        cut = dt.datetime.fromisoformat(as_of)
        age_days = (pl.lit(cut) - pl.col("occurred_at")).dt.total_microseconds() / float(DAY_US)
        per_lead = (pl.scan_parquet(f"{ws}/interactions/*.parquet")
                    .filter(pl.col("occurred_at") < cut)
                    .with_columns(p=pl.col("type").cast(pl.String).replace_strict(POINTS, default=0.0, return_dtype=pl.Float64))
                    .group_by("lead_id")
                    .agg((pl.col("p") * (2.0 ** (-age_days / HALF_LIFE_DAYS))).sum().alias("e")))
        r = per_lead.select(pl.len().alias("n"), pl.col("e").sum().round(2).alias("total")).collect()
        n, total = int(r["n"][0]), float(r["total"][0])
    return {"seconds": time.perf_counter() - t, "n": n, "total": float(total or 0), "ready": 0}


def qualify(engine, ws, as_of, model_path, out):
    assert engine == "duckdb", "the qualification pipeline is written for DuckDB + scikit-learn"
    # Imports are not part of the timed work (unpickling the model would import these).
    import duckdb  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    import sklearn.compose  # noqa: F401
    import sklearn.impute  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401

    t = time.perf_counter()
    qualification.run(ws, as_of, model_path, out)
    return {"seconds": time.perf_counter() - t}


def main():
    workload, args = sys.argv[1], sys.argv[2:]
    if workload == "train":
        qualification.train(*args)
        return
    r = {"rule-score": rule_score, "decayed": decayed, "qualify": qualify}[workload](*args)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
