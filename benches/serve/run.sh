#!/usr/bin/env bash
# Load on `leadql serve`: 32 concurrent psycopg clients for 60 s over a generated
# workspace (100k leads), mixing point lookups, score_leads aggregates and
# qualify_leads; throughput, p50/p99 latency per kind, errors and the server's peak
# RSS (benches/serve/load.py). Writes benches/results/serve.md. A benchmark, not a test.
#
#   benches/serve/run.sh
#   LEADS=20000 CLIENTS=8 SECONDS_=20 benches/serve/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${LEADQL_RELEASE_TARGET:-$HOME/.cache/leadql-target-rel}"
venv="${LEADQL_BENCH_VENV:-$HOME/.cache/leadql-bench-serve}"
if ! "$venv/bin/python" -c "import psycopg" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check psycopg==3.3.9 psycopg-binary==3.3.9
fi
cargo build --release --quiet --bin leadql
bin="$CARGO_TARGET_DIR/release/leadql"
leads="${LEADS:-100000}"
ws="${BENCH_DIR:-/tmp/leadql-bench-serve}/leads-$leads"
if [ ! -f "$ws/workspace.toml" ]; then
  "$bin" generate --data "$ws" --leads "$leads" --seed 7 --quiet --force
fi
# The main job trains the policy's model, which qualify_leads('default') scores with.
if [ ! -d "$ws/models/conversion" ]; then
  "$bin" --data "$ws" run --out "$ws.out" >/dev/null
fi
out=benches/results/serve.md
{
  echo "# leadql serve under load ($leads generated leads, seed 7)"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); release build;"
  echo "${CLIENTS:-32} psycopg 3 clients (asyncio, one connection each, extended protocol) for ${SECONDS_:-60} s against one server on the same machine."
  echo
  "$venv/bin/python" benches/serve/load.py --leadql "$bin" --ws "$ws" \
    --clients "${CLIENTS:-32}" --seconds "${SECONDS_:-60}"
} | tee "$out"
