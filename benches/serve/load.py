"""32 clients against `leadql serve` (see run.sh): each client loops over a mix of
queries for the given time on its own connection; latencies per kind, errors, and
the server's peak RSS (VmHWM)."""

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

QUERIES = {
    # kind: (weight, SQL with %s for a lead id where used)
    "point lookup": (6, "SELECT lead_id, email, company, status FROM leads WHERE lead_id = %s"),
    "score_leads aggregate": (
        2,
        "SELECT grade, count(*) AS n, avg(score) AS mean FROM score_leads('engagement') GROUP BY grade",
    ),
    "qualify_leads": (
        1,
        "SELECT count(*) FILTER (WHERE sales_ready) AS ready, count(*) AS n FROM qualify_leads('default')",
    ),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


async def client(i, port, until, leads, results, errors):
    rng = random.Random(i)
    kinds = [k for k, (w, _) in QUERIES.items() for _ in range(w)]
    async with await psycopg.AsyncConnection.connect(
        host="127.0.0.1", port=port, user="bench", password="bench-password",
        dbname="leadql", sslmode="disable", autocommit=True,
    ) as conn:
        while time.monotonic() < until:
            kind = rng.choice(kinds)
            sql = QUERIES[kind][1]
            params = (rng.randint(1, leads),) if "%s" in sql else None
            started = time.monotonic()
            try:
                cur = await conn.execute(sql, params)
                await cur.fetchall()
                results[kind].append(time.monotonic() - started)
            except Exception as e:  # noqa: BLE001 - counted and shown
                errors.append(f"{kind}: {e}")


async def main(args):
    leads = int(subprocess.run(
        [args.leadql, "--data", args.ws, "sql", "--format", "csv", "SELECT max(lead_id) FROM leads"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()[1])
    tmp = Path(tempfile.mkdtemp())
    users = tmp / "users.toml"
    subprocess.run([args.leadql, "user", "add", "bench", "--role", "analyst", "--users", str(users)],
                   input="bench-password\n", text=True, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [args.leadql, "--data", args.ws, "--memory-limit", "512M", "serve", "--listen",
         f"127.0.0.1:{port}", "--users", str(users), "--max-connections", str(args.clients + 8)],
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        results = {k: [] for k in QUERIES}
        errors = []
        until = time.monotonic() + args.seconds
        started = time.monotonic()
        await asyncio.gather(*(client(i, port, until, leads, results, errors) for i in range(args.clients)))
        elapsed = time.monotonic() - started
        hwm = next(int(l.split()[1]) for l in Path(f"/proc/{server.pid}/status").read_text().splitlines()
                   if l.startswith("VmHWM:"))
    finally:
        server.terminate()
        server.wait(timeout=60)
    total = sum(len(v) for v in results.values())
    print("| kind | queries | per second | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for kind, lat in results.items():
        print(f"| {kind} | {len(lat)} | {len(lat) / elapsed:.1f} | "
              f"{percentile(lat, 50) * 1000:.1f} | {percentile(lat, 99) * 1000:.1f} |")
    all_lat = [x for v in results.values() for x in v]
    print(f"| all | {total} | {total / elapsed:.1f} | {percentile(all_lat, 50) * 1000:.1f} | "
          f"{percentile(all_lat, 99) * 1000:.1f} |")
    print()
    print(f"Errors: {len(errors)}. Server peak RSS (VmHWM): {hwm / 1024:.0f} MiB. Wall time {elapsed:.1f} s.")
    for e in errors[:5]:
        print(f"- {e}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--leadql", required=True)
    p.add_argument("--ws", required=True)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=int, default=60)
    asyncio.run(main(p.parse_args()))
