"""The leadql Python package on copies of the bundled sample: types, NULLs,
timestamps, parameters, empty results, errors, streaming in bounded memory, CREATE
MODEL and the main job."""

import datetime as dt
import resource
import subprocess
import sys

import pyarrow as pa
import pytest

import leadql


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A copy of the bundled sample, shared by the read-only tests of this module."""
    return leadql.copy_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def ws(sample):
    return leadql.open(sample)


def test_open_defaults_to_the_bundled_sample(monkeypatch):
    monkeypatch.delenv("LEADQL_DATA", raising=False)
    ws = leadql.open()
    assert ws.path == leadql.bundled_sample()
    assert "leads" in ws.tables()
    n = ws.sql("SELECT count(*) AS n FROM leads").to_arrow()
    assert n.column("n").to_pylist() == [5000]


def test_open_follows_leadql_data(monkeypatch, sample):
    monkeypatch.setenv("LEADQL_DATA", str(sample))
    assert leadql.open().path == sample.resolve()


def test_arrow_types_and_nulls(ws):
    t = ws.sql(
        "SELECT CAST(1 AS BIGINT) AS i, 2.5 AS f, 'x' AS s, true AS b, "
        "TIMESTAMP '2026-06-30 12:34:56' AS ts, CAST(NULL AS DOUBLE) AS missing, "
        "make_array(1, 2) AS list"
    ).to_arrow()
    assert isinstance(t, pa.Table)
    assert t.schema.field("i").type == pa.int64()
    assert t.schema.field("f").type == pa.float64()
    assert t.schema.field("s").type in (pa.string(), pa.large_string(), pa.string_view())
    assert t.schema.field("b").type == pa.bool_()
    assert pa.types.is_timestamp(t.schema.field("ts").type)
    row = t.to_pylist()[0]
    assert row["i"] == 1 and row["f"] == 2.5 and row["s"] == "x" and row["b"] is True
    assert row["ts"] == dt.datetime(2026, 6, 30, 12, 34, 56)
    assert row["missing"] is None
    assert row["list"] == [1, 2]


def test_score_leads_into_pandas_and_polars(ws):
    df = ws.sql(
        "SELECT lead_id, score, grade, sales_ready FROM score_leads('engagement') ORDER BY lead_id"
    ).to_pandas()
    scored = ws.sql("SELECT count(*) AS n FROM score_leads('engagement')").to_arrow()
    assert len(df) == scored.column("n").to_pylist()[0] > 4000
    assert df["lead_id"].is_monotonic_increasing
    assert set(df["grade"].dropna()) <= {"Hot", "Warm", "Cold"}
    assert df["sales_ready"].dtype == bool
    assert df.loc[df["sales_ready"], "score"].min() >= 40
    pl = pytest.importorskip("polars")
    p = ws.sql("SELECT grade, count(*) AS n FROM score_leads('engagement') GROUP BY grade").to_polars()
    assert isinstance(p, pl.DataFrame)
    assert p["n"].sum() == len(df)


def test_a_result_acts_as_a_table(ws):
    r = ws.sql("SELECT lead_id FROM leads ORDER BY lead_id LIMIT 3")
    assert r.num_rows == 3
    assert r.column("lead_id").to_pylist() == r.to_arrow().column("lead_id").to_pylist()
    assert r.schema.names == ["lead_id"]
    assert "lead_id" in r._repr_html_()


def test_an_empty_result_keeps_its_schema(ws):
    t = ws.sql("SELECT lead_id, email FROM leads WHERE false").to_arrow()
    assert t.num_rows == 0
    assert t.schema.names == ["lead_id", "email"]
    assert ws.sql("SELECT lead_id FROM leads WHERE false").to_pandas().empty


def test_parameters_through_placeholders(ws):
    r = ws.sql(
        "SELECT $1 + 1 AS i, upper($2) AS s, $3 AS ts, $4 IS NULL AS null_param, $5 AS f",
        params=[41, "abc", dt.datetime(2026, 1, 2, 3, 4, 5), None, 0.5],
    ).to_arrow().to_pylist()[0]
    assert r == {"i": 42, "s": "ABC", "ts": dt.datetime(2026, 1, 2, 3, 4, 5), "null_param": True, "f": 0.5}
    named = ws.sql("SELECT count(*) AS n FROM leads WHERE lead_id <= $top", params={"top": 10})
    assert named.to_arrow().column("n").to_pylist() == [10]
    aware = dt.datetime(2026, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    t = ws.sql("SELECT $1 AS ts", params=[aware]).to_arrow().to_pylist()[0]["ts"]
    assert t == dt.datetime(2026, 1, 2, 3, 4, 5)
    d = ws.sql("SELECT $1 AS d", params=[dt.date(2026, 3, 1)]).to_arrow().to_pylist()[0]["d"]
    assert d == dt.date(2026, 3, 1)
    with pytest.raises(leadql.Error, match=r"params\[0\]: unsupported type object"):
        ws.sql("SELECT $1", params=[object()])


def test_errors_carry_the_command_line_message(ws, sample):
    with pytest.raises(leadql.Error) as e:
        ws.sql("SELECT * FROM no_such_table")
    cli = subprocess.run(
        [_leadql_binary(), "--data", str(sample), "sql", "SELECT * FROM no_such_table"],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1
    assert cli.stderr.strip() == f"error: {e.value}"
    with pytest.raises(leadql.Error, match="SQL syntax error: .*SELEC at Line: 1, Column: 11"):
        ws.sql("SELECT 1; SELEC 2")
    with pytest.raises(leadql.Error, match="^statement 2: unknown table 'nope'"):
        ws.sql("SELECT 1; SELECT * FROM nope")
    with pytest.raises(leadql.Error, match=r"^score_leads: unknown scoring model 'nope' \(models: engagement, fit\)$"):
        ws.sql("SELECT * FROM score_leads('nope')")
    with pytest.raises(leadql.Error, match="not a leadql workspace"):
        leadql.open(sample / "leads")
    with pytest.raises(leadql.Error, match="as_of"):
        leadql.open(sample, as_of="yesterday")


def test_an_error_while_streaming_is_a_leadql_error(ws):
    query = "SELECT CAST(email AS INT) AS x FROM leads"
    with pytest.raises(leadql.Error, match="^Cast error: Cannot cast string '.*' to value of Int32 type$"):
        for _ in ws.sql(query):
            pass
    with pytest.raises(leadql.Error, match="^Cast error"):
        ws.sql(query).to_arrow()
    with pytest.raises(pa.ArrowInvalid, match="Cast error"):
        ws.sql(query).to_reader().read_all()


def test_a_result_streams_in_bounded_memory(ws):
    # 1M rows of ~100 bytes: ~100 MB if materialised; read batch by batch instead.
    query = "SELECT value AS n, repeat('x', 100) AS pad FROM range(1000000)"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    rows = 0
    for batch in ws.sql(query):
        rows += batch.num_rows
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert rows == 1_000_000
    assert grown_mib < 60, f"peak memory grew by {grown_mib:.0f} MiB while streaming"


def test_a_stream_is_read_once_and_consumers_read_it_directly(ws):
    r = ws.sql("SELECT value FROM range(10)")
    reader = pa.RecordBatchReader.from_stream(r)
    assert reader.read_all().num_rows == 10
    with pytest.raises(leadql.Error, match="already read"):
        r.to_arrow()
    duckdb = pytest.importorskip("duckdb")
    scored = ws.sql("SELECT lead_id, score FROM score_leads('engagement')")
    n = duckdb.sql("SELECT count(*) FROM scored").fetchall()[0][0]
    assert n == ws.sql("SELECT count(*) AS n FROM score_leads('engagement')").to_arrow()["n"][0].as_py()


def test_create_model_and_predict(sample):
    ws = leadql.open(sample)
    created = ws.sql(
        "CREATE MODEL py_conv OPTIONS (model_type = 'logistic_reg', label = 'converted') "
        "AS SELECT * FROM lead_features"
    ).to_arrow()
    assert created.num_rows == 1
    shown = ws.sql("SHOW MODELS").to_pandas()
    assert "py_conv" in set(shown["model"])
    scored = ws.sql("SELECT * FROM predict('py_conv', 'lead_features')").to_arrow()
    assert scored.num_rows > 0
    ws.sql("DROP MODEL py_conv").to_arrow()
    assert "py_conv" not in set(ws.sql("SHOW MODELS").to_pandas()["model"])


def test_run_returns_the_summary_and_records_the_run(tmp_path):
    data = leadql.copy_sample(tmp_path / "ws")
    ws = leadql.open(data)
    summary = ws.run(policy="default", as_of="2026-06-30", out=tmp_path / "out")
    assert summary["policy"] == "default"
    assert summary["as_of"].startswith("2026-06-30 00:00:00")
    assert summary["open_leads"] > 0
    assert 0 < summary["sales_ready"] <= summary["open_leads"]
    assert sum(summary["rule_grades"].values()) == summary["open_leads"]
    assert {w["path"].rsplit("/", 1)[-1] for w in summary["written"]} == {
        "qualification.parquet",
        "lead_grades.parquet",
        "lead_scores.parquet",
        "sales_activities.parquet",
    }
    import pyarrow.parquet as pq

    qualification = pq.read_table(tmp_path / "out" / "qualification.parquet")
    assert qualification.num_rows == summary["open_leads"]
    # The recorded run is visible to the next query.
    recorded = ws.sql("SELECT count(*) AS n FROM qualification_history").to_arrow()
    assert recorded.column("n").to_pylist() == [summary["open_leads"]]
    with pytest.raises(leadql.Error, match="nope"):
        ws.run(policy="nope", out=tmp_path / "out2")


def test_import_csv_keeps_unmapped_columns_typed(tmp_path):
    csv = tmp_path / "leads.csv"
    csv.write_text(
        "email,first_name,last_name,company,Plan Tier,Seats,Trial,Customer since\n"
        "ana@acme.example,Ana,Lopez,Acme,gold,12,yes,2024-03-01\n"
        "bo@beta.example,Bo,Chen,Beta,,3,no,\n"
    )
    data = tmp_path / "ws"
    r = leadql.import_csv(data, csv, keep_unmapped=True, set={"source": "event"}, at="2026-01-05 10:00:00")
    assert (r["rows"], r["imported"], r["rejected"]) == (2, 2, 0)
    assert {k["name"]: k["type"] for k in r["kept"]} == {
        "plan_tier": "text", "seats": "int", "trial": "bool", "customer_since": "timestamp",
    }
    ws = leadql.open(data)
    t = ws.sql("SELECT email, plan_tier, seats, trial FROM leads ORDER BY email").to_arrow()
    assert t.to_pylist() == [
        {"email": "ana@acme.example", "plan_tier": "gold", "seats": 12, "trial": True},
        {"email": "bo@beta.example", "plan_tier": None, "seats": 3, "trial": False},
    ]
    again = ws.import_csv(csv, keep_unmapped=True, set={"source": "event"})
    assert (again["imported"], again["already_imported"]) == (0, 2)
    bad = tmp_path / "bad.csv"
    bad.write_text("email,Seats\ncy@gamma.example,2.5\n")
    with pytest.raises(leadql.Error, match=r"column 'Seats', line 2: '2.5' is not an int"):
        ws.import_csv(bad, keep_unmapped=True, set={"source": "event"})
    assert ws.sql("SELECT count(*) AS n FROM leads").to_arrow()["n"][0].as_py() == 2


def test_export_writes_atomically_with_metadata(ws, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "scores.parquet"
    n = ws.export("SELECT lead_id, score FROM score_leads('engagement')", out)
    t = pq.read_table(out)
    assert t.num_rows == n > 4000
    meta = pq.read_metadata(out).metadata
    assert b"leadql.query" in meta
    csv = tmp_path / "scores.csv"
    assert ws.export("leads", csv) == 5000
    assert csv.read_text().splitlines()[0].startswith("lead_id,")
    with pytest.raises(leadql.Error, match="'format'"):
        ws.export("leads", tmp_path / "x", format="xlsx")


def test_ctrl_c_cancels_a_running_query(ws):
    import os
    import signal
    import threading

    # Two billion rows: many seconds of work unless the interrupt stops it. Python's
    # own Ctrl-C handler, also when the tests run in a background job (where SIGINT
    # starts ignored and Python leaves it so: the signal would be lost).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            ws.sql("SELECT sum(value % 7) AS s FROM range(2000000000)").to_arrow()
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    # The session is still usable.
    assert ws.sql("SELECT 1 AS one").to_arrow()["one"][0].as_py() == 1


def test_result_objects_behave_like_python_values(ws):
    r = ws.sql("SELECT value FROM range(3)")
    assert sum(b.num_rows for b in list(r)) == 3
    assert not hasattr(r, "num_rows")  # read as a stream: no table left
    assert repr(r) == "<leadql.Result: read as a stream>"
    big = ws.sql("SELECT value FROM range(1000)")
    assert "1,000 rows in all" in repr(big)
    assert "first 20 of 1,000 rows" in big._repr_html_()
    assert big.num_rows == 1000


def test_insert_and_copy_run_without_reading_the_result(ws, tmp_path):
    out = tmp_path / "copy.csv"
    ws.sql(f"COPY (SELECT 1 AS a) TO '{out}' STORED AS CSV")
    assert out.read_text().splitlines() == ["a", "1"]
    ws.sql("CREATE TABLE py_t (x INT)")
    ws.sql("INSERT INTO py_t VALUES (1), (2)")
    assert ws.sql("SELECT count(*) AS n FROM py_t").to_arrow()["n"][0].as_py() == 2


def test_parameters_from_other_libraries(ws):
    import zoneinfo

    np = pytest.importorskip("numpy")
    paris = dt.datetime(2026, 1, 2, 4, 4, 5, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    r = ws.sql("SELECT $1 AS ts, $2 + 1 AS i, NOT $3 AS b", params=[paris, np.int64(41), np.bool_(False)])
    assert r.to_arrow().to_pylist()[0] == {"ts": dt.datetime(2026, 1, 2, 3, 4, 5), "i": 42, "b": True}
    with pytest.raises(leadql.Error, match="not a str or bytes"):
        ws.sql("SELECT $1", params=b"a")


def test_runs_from_two_threads_take_turns(tmp_path):
    import threading

    data = leadql.copy_sample(tmp_path / "ws")
    ws = leadql.open(data)
    summaries, errors = [], []

    def run(i):
        try:
            summaries.append(ws.run(out=tmp_path / f"out{i}"))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # One trained the model, the other found it up to date: one version, not two.
    assert sorted(s["model"]["trained"] for s in summaries) == [False, True]
    assert [p.name for p in sorted((data / "models" / "conversion").glob("v*.json"))] == ["v1.json"]


def test_a_result_can_be_read_inside_another_asyncio_or_tokio_loop(ws):
    import asyncio

    async def read():
        return ws.sql("SELECT count(*) AS n FROM leads").to_arrow()["n"][0].as_py()

    assert asyncio.run(read()) == 5000


def _leadql_binary():
    """The leadql command-line binary of the same build (for comparing messages)."""
    import os
    from pathlib import Path

    exe = os.environ.get("LEADQL_BIN")
    if exe:
        return exe
    root = Path(leadql.bundled_sample()).parents[1]
    target = Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
    return str(target / "debug" / "leadql")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
