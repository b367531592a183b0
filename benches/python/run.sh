#!/usr/bin/env bash
# 1M rows of score_leads into pandas: the Python package, the command line + pyarrow,
# and DuckDB on the same Parquet (benches/python/to_pandas.py); writes
# benches/results/python.md. Builds leadql and the package in release (sharing one
# target directory, so DataFusion compiles once), in their own environment.
#
#   benches/python/run.sh                 # 1M generated leads, 5 repetitions
#   LEADS=100000 REPS=3 benches/python/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${LEADQL_RELEASE_TARGET:-$HOME/.cache/leadql-target-rel}"
venv="${LEADQL_BENCH_VENV:-$HOME/.cache/leadql-bench-python}"
if ! "$venv/bin/python" -c "import duckdb, pandas, pyarrow, maturin" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb==2.0.0 pandas==3.1.1 pyarrow==26.0.1 maturin==1.16.0
fi
cargo build --release --quiet --bin leadql
(cd python && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" maturin develop --release --quiet)
leads="${LEADS:-1000000}"
ws="${BENCH_DIR:-/tmp/leadql-bench-python}/leads-$leads"
if [ ! -f "$ws/workspace.toml" ]; then
  "$CARGO_TARGET_DIR/release/leadql" generate --data "$ws" --leads "$leads" --seed 7 --quiet --force
fi
out=benches/results/python.md
{
  echo "# score_leads into pandas ($leads generated leads, seed 7)"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);"
  echo "release builds; ${REPS:-5} interleaved repetitions, each way in a fresh Python process."
  echo
  "$venv/bin/python" benches/python/to_pandas.py --leadql "$CARGO_TARGET_DIR/release/leadql" --ws "$ws" --reps "${REPS:-5}"
} | tee "$out"
