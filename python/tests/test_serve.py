"""`leadql serve` from Python with psycopg 3: parameters through the extended
protocol, typed rows, a server-side cursor over 1M rows in bounded memory, roles and
authentication. The server is the leadql binary of this checkout (LEADQL_BIN, set by
scripts/test), on a copy of the sample."""

import datetime as dt
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

import leadql

REPO = Path(__file__).resolve().parents[2]


def leadql_bin():
    if os.environ.get("LEADQL_BIN"):
        return os.environ["LEADQL_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", str(REPO / "target"))
    return str(Path(target) / "debug" / "leadql")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_user(users, name, role, password):
    subprocess.run(
        [leadql_bin(), "user", "add", name, "--role", role, "--users", str(users)],
        input=password + "\n",
        text=True,
        check=True,
        capture_output=True,
    )


def rss_kib(pid, field="VmRSS"):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(leadql_bin()).exists():
        pytest.fail(f"{leadql_bin()} not built: run `cargo build` first (scripts/test does)")
    ws = leadql.copy_sample(tmp_path_factory.mktemp("sample"))
    users = tmp_path_factory.mktemp("users") / "users.toml"
    add_user(users, "ana", "analyst", "ana-password")
    add_user(users, "mod", "modeler", "mod-password")
    port = free_port()
    proc = subprocess.Popen(
        [leadql_bin(), "--data", str(ws), "--memory-limit", "1G", "serve",
         "--listen", f"127.0.0.1:{port}", "--users", str(users)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "LEADQL_DATA"},
    )
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                raise AssertionError(proc.stderr.read().decode())
            time.sleep(0.05)
    yield {"port": port, "pid": proc.pid, "ws": ws}
    proc.terminate()
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        proc.kill()


def connect(server, user="ana", password="ana-password", **kw):
    return psycopg.connect(
        host="127.0.0.1", port=server["port"], user=user, password=password,
        dbname="leadql", sslmode="disable", **kw,
    )


def test_parameters_of_each_type_bind_through_the_extended_protocol(server):
    with connect(server) as conn:
        row = conn.execute(
            "SELECT %s::bigint AS i, %s::text AS t, %s::timestamp AS ts, "
            "%s::double precision AS missing",
            (42, "Zoë's", dt.datetime(2026, 6, 30, 12, 34, 56), None),
        ).fetchone()
        assert row == (42, "Zoë's", dt.datetime(2026, 6, 30, 12, 34, 56), None)
        # Parameters compared with columns take the columns' types.
        n = conn.execute(
            "SELECT count(*) FROM leads WHERE country = %s AND created_at < %s",
            ("DE", dt.datetime(2026, 1, 1)),
        ).fetchone()[0]
        expected = leadql.open(server["ws"]).sql(
            "SELECT count(*) AS n FROM leads WHERE country = 'DE' "
            "AND created_at < TIMESTAMP '2026-01-01 00:00:00'"
        ).to_arrow().column("n").to_pylist()[0]
        assert n == expected and n > 0


def test_score_leads_rows_arrive_as_typed_python_values(server):
    query = ("SELECT lead_id, score, grade, as_of FROM score_leads('engagement') "
             "WHERE score > {} ORDER BY score DESC, lead_id LIMIT 5")
    with connect(server) as conn:
        rows = conn.execute(query.format("%s"), (40.0,)).fetchall()
    local = leadql.open(server["ws"]).sql(query.format("40.0")).to_arrow().to_pylist()
    assert len(rows) == 5
    for got, want in zip(rows, local):
        lead_id, score, grade, as_of = got
        assert isinstance(lead_id, int) and isinstance(score, float)
        assert isinstance(grade, str) and isinstance(as_of, dt.datetime)
        assert lead_id == want["lead_id"] and grade == want["grade"]
        assert abs(score - want["score"]) < 1e-9


def test_a_server_side_cursor_streams_a_million_rows_in_bounded_memory(server):
    before = rss_kib(server["pid"])
    peak = before
    total = 0
    count = 0
    with connect(server) as conn:
        with conn.cursor(name="big") as cur:
            cur.itersize = 20000
            cur.execute(
                "SELECT value, repeat('x', 100) AS pad FROM generate_series(1, 1000000)"
            )
            for value, pad in cur:
                total += value
                count += 1
                if count % 100000 == 0:
                    peak = max(peak, rss_kib(server["pid"]))
    assert count == 1_000_000
    assert total == 1_000_000 * 1_000_001 // 2
    # The rows are ~110 MB as text; a server that held them all would grow by more.
    assert peak - before < 80 * 1024, f"server RSS grew by {(peak - before) // 1024} MiB"


def test_statement_timeout_counts_the_servers_work_not_the_clients_reading(server):
    with connect(server) as conn:
        conn.execute("SET statement_timeout = 1000")
        # A cursor read slowly for 3 s in all: the server works briefly per batch.
        seen = 0
        with conn.cursor(name="slow") as cur:
            cur.itersize = 1000
            cur.execute("SELECT value FROM generate_series(1, 6000)")
            for _ in cur:
                seen += 1
                if seen % 1000 == 0:
                    time.sleep(0.5)
        assert seen == 6000
        # Work itself past the timeout is stopped (57014), in a cursor too.
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
            with conn.cursor(name="busy") as cur:
                cur.execute(
                    "SELECT count(*) FROM generate_series(1, 100000000000)"
                )
                cur.fetchall()


def test_create_model_is_for_modelers(server):
    create = ("CREATE MODEL psy OPTIONS (model_type = 'logistic_reg', label = 'converted') "
              "AS SELECT * FROM lead_features")
    with connect(server) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="you are analyst"):
            conn.execute(create)
    with connect(server, "mod", "mod-password", autocommit=True) as conn:
        rows = conn.execute(create).fetchall()
        assert rows and rows[0][0] == "psy"
        versions = conn.execute("SHOW MODELS").fetchall()
        assert any(r[0] == "psy" for r in versions)
        conn.execute("DROP MODEL psy")


def test_wrong_password_is_refused(server):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(server, "ana", "not-the-password")


def test_an_open_connection_sees_other_processes_changes_and_keeps_its_own(server):
    with connect(server, autocommit=True) as conn:
        conn.execute("CREATE VIEW my_hot AS SELECT lead_id FROM score_leads('engagement') "
                     "WHERE grade = 'Hot'")
        conn.execute("SET datafusion.explain.show_statistics = true")
        before = {r[0] for r in conn.execute("SHOW MODELS").fetchall()}
        assert "from_cli" not in before
        # Another process trains a model in the same workspace.
        subprocess.run(
            [leadql_bin(), "--data", str(server["ws"]), "sql",
             "CREATE MODEL from_cli OPTIONS (model_type = 'logistic_reg', label = 'converted') "
             "AS SELECT * FROM lead_features"],
            check=True, capture_output=True,
            env={k: v for k, v in os.environ.items() if k != "LEADQL_DATA"},
        )
        after = {r[0] for r in conn.execute("SHOW MODELS").fetchall()}
        assert "from_cli" in after
        # The connection's own view and setting survived the refresh.
        assert conn.execute("SELECT count(*) FROM my_hot").fetchone()[0] > 0
        setting = conn.execute(
            "SELECT value FROM information_schema.df_settings "
            "WHERE name = 'datafusion.explain.show_statistics'"
        ).fetchone()[0]
        assert setting == "true"
    # Another connection has neither.
    with connect(server, autocommit=True) as other:
        with pytest.raises(psycopg.Error, match="my_hot"):
            other.execute("SELECT count(*) FROM my_hot")


def _message(kind, body):
    return kind + (len(body) + 4).to_bytes(4, "big") + body


def _read_messages(sock, until_eof_within=5.0):
    """Every message the server sends until it closes the connection."""
    sock.settimeout(until_eof_within)
    data = b""
    while True:
        chunk = sock.recv(65536)  # a timeout here fails the test: the server kept it open
        if not chunk:
            break
        data += chunk
    kinds = []
    while len(data) >= 5:
        length = int.from_bytes(data[1:5], "big")
        kinds.append(chr(data[0]))
        data = data[1 + length:]
    return kinds


def test_a_failed_login_ends_the_connection_before_any_query(server):
    sock = socket.create_connection(("127.0.0.1", server["port"]))
    params = b"user\0nobody\0database\0leadql\0\0"
    sock.sendall((len(params) + 8).to_bytes(4, "big") + (196608).to_bytes(4, "big") + params)
    sock.settimeout(5)
    assert sock.recv(1)[:1] == b"R"  # the SASL request
    sock.recv(65536)
    # A malformed SASL response (FATAL), then a query on the same socket.
    sock.sendall(_message(b"p", b"SCRAM-SHA-256\0" + (3).to_bytes(4, "big") + b"bad"))
    sock.sendall(_message(b"Q", b"SELECT * FROM train_model('x', 'SELECT 1 AS y', 'logistic_reg', 'y')\0"))
    kinds = _read_messages(sock)
    assert "E" in kinds
    assert "T" not in kinds and "D" not in kinds and "C" not in kinds, kinds
    sock.close()


def test_role_checks_hold_for_lateral_calls_settings_and_explain(server):
    with connect(server, autocommit=True) as conn:
        for sql in [
            "SELECT * FROM (SELECT 1) t(x), LATERAL train_model('lat', "
            "'SELECT 1 AS a, 1 AS y', 'logistic_reg', 'y')",
            "SELECT * FROM (SELECT 1) t(x), LATERAL drop_model('lat')",
            "RESET datafusion.runtime.memory_limit",
            "SET \"datafusion\".\"runtime\".memory_limit = '4G'",
            "SET datafusion.sql_parser.dialect = 'MySQL'",
            # Sizes buffers: a huge value would abort the server.
            "SET datafusion.execution.batch_size = 1000000000000000",
            "EXPLAIN ANALYZE INSERT INTO leads SELECT * FROM leads LIMIT 1",
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
        conn.execute("SET datafusion.explain.show_statistics = true")
        conn.execute("SET TIME ZONE 'Europe/Paris'")


def test_a_training_query_may_only_read(server, tmp_path):
    target = tmp_path / "written.csv"
    with connect(server, "mod", "mod-password", autocommit=True) as conn:
        with pytest.raises(psycopg.Error, match="must only read"):
            conn.execute(
                f"SELECT * FROM train_model('w', 'COPY (SELECT 1 AS y) TO ''{target}'' "
                "STORED AS CSV', 'logistic_reg', 'y')"
            )
    assert not target.exists()


def test_absurd_parameter_numbers_are_refused_and_the_server_lives(server):
    with connect(server, autocommit=True) as conn:
        conn.pgconn.prepare(b"s1", b"SELECT $1000000000000")
        result = conn.pgconn.describe_prepared(b"s1")
        assert b"at most 65535 parameters" in result.error_message, result.error_message
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_string_literals_arrive_as_written(server):
    with connect(server, autocommit=True) as conn:
        assert conn.execute("SELECT length('x''''y')").fetchone() == (4,)
        assert conn.execute("SELECT 'it''s'").fetchone() == ("it's",)


def test_a_cancel_request_stops_a_result_while_its_rows_stream(server):
    # libpq's single-row mode reads the rows as they arrive; the server produces
    # them far faster than they are read, so rows are always waiting. The cancel
    # must stop the statement anyway, long before its 50 million rows.
    from psycopg import pq

    with connect(server, autocommit=True) as conn:
        pgconn = conn.pgconn
        pgconn.send_query(b"SELECT value FROM generate_series(1, 50000000)")
        pgconn.set_single_row_mode()
        read, status, code = 0, None, None
        while True:
            while pgconn.is_busy():
                pgconn.consume_input()
            result = pgconn.get_result()
            if result is None:
                break
            if result.status == pq.ExecStatus.SINGLE_TUPLE:
                read += 1
                if read == 1000:
                    conn.cancel_safe()
            else:
                status = result.status
                code = result.error_field(pq.DiagnosticField.SQLSTATE)
        assert status == pq.ExecStatus.FATAL_ERROR, (status, read)
        assert code == b"57014", code
        assert 1000 <= read < 5_000_000, read
        # The connection goes on.
        assert conn.execute("SELECT 1").fetchone() == (1,)
