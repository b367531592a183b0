#!/usr/bin/env bash
# Criterion benchmarks of the UDF kernels, then benches/results/kernels.md from their
# estimates. A release-profile target directory of its own keeps the debug build of the
# tests untouched (a release DataFusion build takes ~20 min here, once).
#
#   benches/kernels/run.sh                 # every kernel
#   benches/kernels/run.sh decay           # criterion filter
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${LEADQL_RELEASE_TARGET:-$HOME/.cache/leadql-target-rel}"
cargo bench --quiet --bench kernels -- "$@"
python3 benches/kernels/report.py "$CARGO_TARGET_DIR/criterion" benches/results/kernels.md
