#!/usr/bin/env bash
# Point-in-time backtest of the `conversion` model against the `engagement` rules and
# against scikit-learn trained on leadql's own snapshot features (same rows, same
# split), at instants where only what was known before them is used for training.
# Writes benches/results/point_in_time.md.
#
#   benches/point_in_time/run.sh                    # 100k leads, seed 3, T = 2025-12-31 and 2026-03-31
#   LEADS=5000 SEED=42 benches/point_in_time/run.sh # smaller
#
# Uses the debug build of the shared target/ unless LEADQL_BIN names a binary (the
# figures are AUCs and rates, not timings).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${LEADQL_BIN:-}" ]; then
  cargo build --quiet --bin leadql
fi
venv="${LEADQL_BENCH_VENV:-$HOME/.cache/leadql-bench-venv}"
if ! "$venv/bin/python" -c "import pandas, pyarrow, sklearn" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r benches/compare/requirements.txt
fi
exec "$venv/bin/python" benches/point_in_time/backtest.py \
  --leadql "${LEADQL_BIN:-${CARGO_TARGET_DIR:-target}/debug/leadql}" \
  --leads "${LEADS:-100000}" --seed "${SEED:-3}" \
  --dir "${BENCH_DIR:-/tmp/leadql-pit}" "$@"
