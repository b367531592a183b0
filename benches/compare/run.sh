#!/usr/bin/env bash
# One command for the peer comparison: builds leadql (release), creates the Python
# environment with the peers, generates the workspace if needed, runs the workloads
# interleaved and writes benches/RESULTS.md.
#
#   benches/compare/run.sh                      # 0.1x, 1x, 3x of 1M leads (~10 interactions each), 5 repetitions
#   LEADS=100000 REPS=3 benches/compare/run.sh --scales 1  # smaller
set -euo pipefail
cd "$(dirname "$0")/../.."
# Release builds get a target directory of their own (the tests' debug build stays warm).
export CARGO_TARGET_DIR="${LEADQL_RELEASE_TARGET:-$HOME/.cache/leadql-target-rel}"
if [ -z "${LEADQL_BIN:-}" ]; then
  cargo build --release --quiet --bin leadql
fi
venv="${LEADQL_BENCH_VENV:-$HOME/.cache/leadql-bench-venv}"
if ! "$venv/bin/python" -c "import duckdb, pandas, polars, pyarrow, sklearn" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r benches/compare/requirements.txt
fi
exec "$venv/bin/python" benches/compare/compare.py \
  --leadql "${LEADQL_BIN:-$CARGO_TARGET_DIR/release/leadql}" \
  --leads "${LEADS:-1000000}" --reps "${REPS:-5}" \
  --dir "${BENCH_DIR:-/tmp/leadql-bench}" "$@"
