"""A leadql rule model (`scoring/NAME.toml`) written in the peers' own terms.

`duckdb_scores` turns the model into one plain DuckDB query and `polars_scores` into
Polars lazy expressions; both give one row per scored lead (`lead_id, score, grade`)
with the semantics of leadql's `score_leads(NAME, as_of)`:

- population: leads created at or before as_of, in the audience (min_consent, where);
- fit rules: points when the SQL predicate holds (NULL counts as false);
- behavior rules over interactions before as_of: `each` sums the (decayed) points of
  every matching interaction in the window, capped at points x cap; `at_least` gives
  the points (decayed by the age of the latest match) once `count` matches are seen;
  `none` gives the points when there is no match;
- every rule's points rounded to 4 decimals, the score is their sum rounded to 4;
- grades: the first [[grade]] with min <= score < max.
"""

DAY_US = 86_400_000_000
CONSENT = ["none", "transactional", "marketing", "full"]
ACCOUNT_COLUMNS = ["name", "domain", "industry", "employees", "size_band", "revenue_band", "country",
                   "territory", "segment", "is_customer"]


def consent_levels(minimum):
    """The consent levels at or above `minimum`."""
    return CONSENT[CONSENT.index(minimum):]


def _decay(model, rule):
    return rule.get("decay", model.get("decay", {"kind": "none"}))


def _window_us(model, rule):
    decay = _decay(model, rule)
    window = rule.get("window_days") or (decay.get("days") if decay["kind"] == "window" else None)
    return int(window * DAY_US) if window else None


def _needs_accounts(model):
    return any("account_" in f["when"] for f in model.get("fit", []))


def _grade_sql(model, score):
    arms = []
    for g in model.get("grade", []):
        cond = [f"{score} >= {float(g['min'])}" if "min" in g else None, f"{score} < {float(g['max'])}" if "max" in g else None]
        cond = " AND ".join(c for c in cond if c) or "true"
        arms.append(f"WHEN {cond} THEN '{g['name']}'")
    return f"CASE {' '.join(arms)} END" if arms else "CAST(NULL AS VARCHAR)"


def duckdb_scores(model, ws, as_of):
    """The model as one DuckDB query over the workspace's Parquet files."""
    T = f"TIMESTAMP '{as_of}'"
    D = f"{DAY_US}.0::DOUBLE"
    where = [f"created_at <= {T}"]
    aud = model.get("audience", {})
    if "where" in aud:
        where.append(f"coalesce(({aud['where']}), false)")
    if aud.get("min_consent", "none") != "none":
        where.append("consent IN (" + ", ".join(f"'{c}'" for c in consent_levels(aud["min_consent"])) + ")")
    rule_cols, fit_cols = [], []
    for i, f in enumerate(model.get("fit", [])):
        fit_cols.append(f"CASE WHEN coalesce(({f['when']}), false) THEN {float(f['points'])}::DOUBLE ELSE 0.0 END AS r{i}")
        rule_cols.append(f"r{i}")
    aggs, finals = [], []
    behaviors = model.get("behavior", [])
    for k, b in enumerate(behaviors):
        p = float(b["points"])
        decay = _decay(model, b)
        window = _window_us(model, b)
        cond = f"type = '{b['type']}'" + (f" AND age_us <= {window}" if window else "")
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
        i = len(fit_cols) + k
        finals.append(f"round({v}, 4) AS r{i}")
        rule_cols.append(f"r{i}")
    accounts = ""
    if _needs_accounts(model):
        cols = ", ".join(f"{c} AS account_{c}" for c in ACCOUNT_COLUMNS)
        accounts = (f" LEFT JOIN (SELECT account_id AS __account_id, {cols} FROM read_parquet('{ws}/accounts/*.parquet')) a "
                    "ON a.__account_id = l.account_id")
    population = (f"SELECT lead_id{''.join(', ' + c for c in fit_cols)} FROM read_parquet('{ws}/leads/*.parquet') l{accounts} "
                  f"WHERE {' AND '.join(where)}")
    score = f"round({' + '.join(rule_cols) or '0.0'}, 4)"
    if not behaviors:
        return f"WITH scored AS ({population}) SELECT lead_id, {score} AS score, {_grade_sql(model, score)} AS grade FROM scored"
    type_list = ", ".join(sorted({f"'{b['type']}'" for b in behaviors}))
    events = (f"SELECT lead_id, type, asset, occurred_at, epoch_us({T}) - epoch_us(occurred_at) AS age_us "
              f"FROM read_parquet('{ws}/interactions/*.parquet') WHERE occurred_at < {T} AND type IN ({type_list})")
    return (f"WITH population AS ({population}), events AS ({events}), "
            f"per_lead AS (SELECT lead_id, {', '.join(aggs)} FROM events GROUP BY lead_id), "
            f"scored AS (SELECT p.*, {', '.join(finals)} FROM population p LEFT JOIN per_lead USING (lead_id)) "
            f"SELECT lead_id, {score} AS score, {_grade_sql(model, score)} AS grade FROM scored")


def polars_scores(model, ws, as_of):
    """The model as a Polars LazyFrame over the workspace's Parquet files. Fit and
    `where` predicates are the model's own SQL, parsed by `polars.sql_expr`."""
    import datetime as dt

    import polars as pl

    cut = dt.datetime.fromisoformat(as_of)
    leads = pl.scan_parquet(f"{ws}/leads/*.parquet")
    if _needs_accounts(model):
        accounts = pl.scan_parquet(f"{ws}/accounts/*.parquet").select(
            pl.col("account_id"), *[pl.col(c).alias(f"account_{c}") for c in ACCOUNT_COLUMNS])
        leads = leads.join(accounts, on="account_id", how="left")
    keep = pl.col("created_at") <= cut
    aud = model.get("audience", {})
    if "where" in aud:
        keep &= pl.sql_expr(f"coalesce(({aud['where']}), false)")
    if aud.get("min_consent", "none") != "none":
        keep &= pl.col("consent").is_in(consent_levels(aud["min_consent"]))
    fit = [pl.when(pl.sql_expr(f"coalesce(({f['when']}), false)")).then(float(f["points"])).otherwise(0.0).alias(f"r{i}")
           for i, f in enumerate(model.get("fit", []))]
    scored = leads.filter(keep).select(pl.col("lead_id"), *fit)
    rules = [f"r{i}" for i in range(len(fit))]
    behaviors = model.get("behavior", [])
    if behaviors:
        age = (pl.lit(cut) - pl.col("occurred_at")).dt.total_microseconds().cast(pl.Float64)
        events = (pl.scan_parquet(f"{ws}/interactions/*.parquet")
                  .filter(pl.col("occurred_at") < cut)
                  .with_columns(pl.col("type").cast(pl.String))
                  .filter(pl.col("type").is_in(sorted({b["type"] for b in behaviors})))
                  .with_columns(age_us=age))
        aggs, finals = [], []
        for k, b in enumerate(behaviors):
            p = float(b["points"])
            decay = _decay(model, b)
            window = _window_us(model, b)
            cond = pl.col("type") == b["type"]
            if window:
                cond &= pl.col("age_us") <= window
            if "where" in b:
                cond &= pl.sql_expr(f"coalesce(({b['where']}), false)")

            def factor(age_us, decay=decay, p=p):
                if decay["kind"] == "linear":
                    return p * pl.max_horizontal(pl.lit(0.0), 1.0 - age_us / (decay["days"] * DAY_US))
                if decay["kind"] == "exponential":
                    return p * (2.0 ** (-(age_us / DAY_US) / decay["days"]))
                return pl.lit(p)

            freq = b.get("frequency", "each")
            aggs.append(cond.sum().alias(f"c{k}"))
            count = pl.col(f"c{k}").fill_null(0)
            if freq == "each":
                aggs.append(pl.when(cond).then(factor(pl.col("age_us"))).otherwise(0.0).sum().alias(f"v{k}"))
                v = pl.col(f"v{k}").fill_null(0.0)
                if "cap" in b:
                    v = (pl.min_horizontal if p >= 0 else pl.max_horizontal)(v, pl.lit(p * b["cap"]))
            elif freq == "at_least":
                aggs.append(pl.col("age_us").filter(cond).min().alias(f"v{k}"))
                v = pl.when(count >= b["count"]).then(factor(pl.col(f"v{k}"))).otherwise(0.0)
            else:
                v = pl.when(count == 0).then(p).otherwise(0.0)
            r = f"r{len(rules)}"
            finals.append(v.round(4, mode="half_away_from_zero").alias(r))
            rules.append(r)
        per_lead = events.group_by("lead_id").agg(aggs)
        scored = scored.join(per_lead, on="lead_id", how="left").select(pl.col("lead_id"), *[pl.col(r) for r in rules[:len(fit)]], *finals)
    score = pl.sum_horizontal(*[pl.col(r) for r in rules]).round(4, mode="half_away_from_zero") if rules else pl.lit(0.0)
    grade = pl.lit(None, dtype=pl.String)
    for g in reversed(model.get("grade", [])):
        cond = pl.lit(True)
        if "min" in g:
            cond &= pl.col("score") >= float(g["min"])
        if "max" in g:
            cond &= pl.col("score") < float(g["max"])
        grade = pl.when(cond).then(pl.lit(g["name"])).otherwise(grade)
    return scored.select(pl.col("lead_id"), score.alias("score")).with_columns(grade.alias("grade"))
