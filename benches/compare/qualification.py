"""The `default` qualification pipeline in DuckDB + scikit-learn: what leadql's
`leadql export "SELECT * FROM qualify_leads('default', as_of)"` does, in the peers' terms.

1. the policy's rule models as DuckDB SQL (rule_models.duckdb_scores);
2. its predictive model: the workspace's `lead_features` view run by DuckDB, a
   scikit-learn pipeline (trained beforehand on the recipe's rows, like leadql's stored
   model) predicting every lead, graded with leadql's default cut-offs;
3. the criteria, reasons and sales-ready flag over the leads open at as_of (status from
   `lead_status_events`), written to Parquet aside and renamed into place.
"""

import os
import pickle
import re
import tomllib

from rule_models import consent_levels, duckdb_scores

TABLES = ["leads", "interactions", "accounts", "lead_status_events"]
GRADE_CUTOFFS = (75.0, 50.0, 25.0)  # leadql's default A/B/C cut-offs


def load(ws):
    """The policy `default` and the TOML of every rule model it names."""
    with open(os.path.join(ws, "policies", "default.toml"), "rb") as f:
        policy = tomllib.load(f)
    models = {}
    for name in policy["scores"].get("rule_models", []):
        with open(os.path.join(ws, "scoring", f"{name}.toml"), "rb") as f:
            models[name] = tomllib.load(f)
    return policy, models


def conversion_recipe(ws):
    """(features, label, training rows' SQL) of `models/conversion.sql`: the
    feature columns the model is trained on, in order."""
    text = open(os.path.join(ws, "models", "conversion.sql")).read()
    text = "\n".join(l.split("--")[0] for l in text.splitlines())
    label = re.search(r"label\s*=\s*'(\w+)'", text).group(1)
    time_column = re.search(r"time_column\s*=\s*'(\w+)'", text).group(1)
    select = re.search(r"\)\s*AS\s+(SELECT\s.*)", text, re.S).group(1).strip().rstrip(";")
    cols = [c.strip() for c in re.search(r"SELECT\s+(.*?)\s+FROM", select, re.S).group(1).split(",")]
    features = [c for c in cols if c not in (label, time_column)]
    return features, label, time_column, select


def connect(ws):
    """A DuckDB connection with the workspace's tables and `lead_features` as views."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)")
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{ws}/{t}/*.parquet')")
    view = open(os.path.join(ws, "views", "lead_features.sql")).read()
    con.execute(f"CREATE VIEW lead_features AS {view}")
    return con


def split_columns(df, features):
    cat = [c for c in features if df[c].dtype == object or str(df[c].dtype).startswith(("string", "str"))]
    return cat, [c for c in features if c not in cat]


def train(ws, path):
    """Fits the scikit-learn pipeline on the recipe's rows (earliest 80 % of closed
    leads by time, as leadql's time split) and pickles it to `path`."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features, label, time_column, select = conversion_recipe(ws)
    con = connect(ws)
    df = con.execute(f"SELECT * FROM ({select}) ORDER BY {time_column}").fetch_df()
    cat, num = split_columns(df, features)
    df[cat] = df[cat].astype(object).where(df[cat].notna(), "(null)")
    train_rows = df.iloc[: int(len(df) * 0.8)]
    pre = ColumnTransformer([("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), num),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), cat)])
    model = make_pipeline(pre, LogisticRegression(C=1.0, max_iter=1000))
    model.fit(train_rows[cat + num], train_rows[label].astype(bool))
    with open(path, "wb") as f:
        pickle.dump({"model": model, "cat": cat, "num": num}, f)


def qualification_sql(policy, models, ws, as_of):
    """The qualification query over rule scores r0…, predictions `p` and the leads."""
    T = f"TIMESTAMP '{as_of}'"
    names = policy["scores"].get("rule_models", [])
    ctes = [f"status_at AS (SELECT lead_id, last(status ORDER BY occurred_at, event_id) AS status "
            f"FROM lead_status_events WHERE occurred_at <= {T} GROUP BY lead_id)"]
    columns, joins = [], []
    for i, name in enumerate(names):
        ctes.append(f"r{i} AS ({duckdb_scores(models[name], ws, as_of)})")
        columns.append(f"r{i}.score AS s{i}, r{i}.grade AS g{i}")
        joins.append(f"LEFT JOIN r{i} ON r{i}.lead_id = l.lead_id")
    columns.append("p.score AS ps, p.grade AS pg")
    joins.append("LEFT JOIN p ON p.lead_id = l.lead_id")
    filters = [f"l.created_at <= {T}", "coalesce(st.status, l.status) = 'open'"]
    aud = policy.get("audience", {})
    if aud.get("min_consent", "none") != "none":
        filters.append("l.consent IN (" + ", ".join(f"'{c}'" for c in consent_levels(aud["min_consent"])) + ")")
    if "where" in aud:
        filters.append(f"({aud['where']})")
    met, yes, no = [], [], []
    for k, c in enumerate(policy["sales_ready"].get("criteria", [])):
        if c["model"] in names:
            i = names.index(c["model"])
            score, grade = f"s{i}", f"g{i}"
        else:
            score, grade = "ps", "pg"
        shown = f"coalesce(CAST(round({score}, 1) AS VARCHAR), 'unscored')"
        if "min_score" in c:
            cond = f"{score} >= {float(c['min_score'])}"
            y = f"'{c['model']} ' || {shown} || ' >= {c['min_score']}'"
            n = f"'{c['model']} ' || {shown} || ' < {c['min_score']}'"
        else:
            g = c["min_grade"]
            if c["model"] in names:
                mins = [x.get("min") for x in models[c["model"]].get("grade", []) if x["name"] == g]
                cond = f"{score} >= {float(mins[0])}" if mins and mins[0] is not None else f"{score} IS NOT NULL"
            else:
                cond = f"{grade} <= '{g}'"
            y = f"'{c['model']} ' || {shown} || ', grade ' || coalesce({grade}, 'none') || ' ({g} or better)'"
            n = f"'{c['model']} ' || {shown} || ', grade ' || coalesce({grade}, 'none') || ' (needs {g})'"
        met.append(f"coalesce({cond}, false) AS c{k}")
        yes.append(f"CASE WHEN c{k} THEN {y} END")
        no.append(f"CASE WHEN NOT c{k} THEN {n} END")
    joiner = " AND " if policy["sales_ready"].get("combine", "any") == "all" else " OR "
    ready = joiner.join(f"c{k}" for k in range(len(met))) or "false"
    return (f"WITH {', '.join(ctes)}, "
            f"base AS (SELECT l.lead_id, {', '.join(columns)} FROM leads l LEFT JOIN status_at st ON st.lead_id = l.lead_id "
            f"{' '.join(joins)} WHERE {' AND '.join(filters)}), "
            f"judged AS (SELECT *, {', '.join(met) or 'true AS no_criteria'} FROM base) "
            f"SELECT lead_id, s0 AS rule_score, g0 AS rule_grade, ps AS predictive_score, pg AS predictive_grade, "
            f"({ready}) AS sales_ready, "
            f"CASE WHEN {ready} THEN concat_ws('; ', {', '.join(yes)}) ELSE 'not sales-ready: ' || concat_ws('; ', {', '.join(no)}) END AS reasons, "
            f"CASE WHEN {ready} THEN {T} END AS sales_ready_since, 'default' AS policy, {T} AS as_of FROM judged")


def run(ws, as_of, model_path, out):
    """The timed pipeline: predictions, qualification, Parquet file renamed into place."""
    import numpy as np
    import pandas as pd

    with open(model_path, "rb") as f:
        fitted = pickle.load(f)
    policy, models = load(ws)
    con = connect(ws)
    cat, num = fitted["cat"], fitted["num"]
    # Arrow, not fetch_df (2.6 s against 1.0 s at 1M leads); NULL categories named in SQL.
    columns = [f"coalesce({c}, '(null)') AS {c}" for c in cat] + num
    df = con.sql(f"SELECT lead_id, {', '.join(columns)} FROM lead_features").to_arrow_table().to_pandas()
    score = fitted["model"].predict_proba(df[cat + num])[:, 1] * 100.0
    a, b, c = GRADE_CUTOFFS
    grade = np.select([score >= a, score >= b, score >= c], ["A", "B", "C"], "D")
    con.register("p", pd.DataFrame({"lead_id": df["lead_id"], "score": score, "grade": grade}))
    tmp = out + ".part"
    con.execute(f"COPY ({qualification_sql(policy, models, ws, as_of)}) TO '{tmp}' (FORMAT parquet)")
    os.replace(tmp, out)
