#!/usr/bin/env bash
# Local execution against an in-process Ballista cluster (1 executor × 2 task slots,
# 1 × 1, 2 executors × 1) on generated workspaces: median wall time per query, the
# results, and how the cluster split the work (benches/cluster/main.rs). Writes
# benches/results/cluster.md. A benchmark, not a test: on one 2-core machine a cluster
# cannot be faster; this measures its overhead and how work divides.
#
#   benches/cluster/run.sh                 # 100k and 1M leads
#   SCALES="20000" RUNS=1 benches/cluster/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${LEADQL_RELEASE_TARGET:-$HOME/.cache/leadql-target-rel}"
cargo build --release --quiet --bin leadql
cargo bench --quiet --bench cluster --no-run
bin="$CARGO_TARGET_DIR/release/leadql"
dir="${BENCH_DIR:-/tmp/leadql-bench}"
out=benches/results/cluster.md
tmp=$(mktemp)
# The in-process executors keep shuffle files in the temporary directory and remove a
# job's only minutes after it: this run's own folder, removed when the run ends.
shuffle=$(mktemp -d)
trap 'rm -rf "$shuffle"' EXIT
{
  echo "# Local against a Ballista cluster"
  echo
  echo "Written by \`benches/cluster/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $("$bin" --version), release build; Ballista 55.0.0."
  echo "Workspaces: \`leadql generate --leads N --seed 7\`, model \`conversion\` trained by \`leadql run\`;"
  echo "clusters started in the benchmark's process (scheduler and executors on loopback,"
  echo "shuffle through files and Arrow Flight as between machines). Each query runs ${RUNS:-3} times"
  echo "per mode; the median is shown."
  echo
} > "$tmp"
for leads in ${SCALES:-100000 1000000}; do
  ws="$dir/ws-$leads"
  if [ ! -f "$ws/workspace.toml" ]; then
    "$bin" generate --data "$ws" --leads "$leads" --seed 7 --quiet --force
  fi
  if [ ! -d "$ws/models/conversion" ]; then
    "$bin" --data "$ws" run --out "$dir/out-$leads" >/dev/null
  fi
  {
    echo "## $leads leads"
    echo
    TMPDIR="$shuffle" cargo bench --quiet --bench cluster -- "$ws" "${RUNS:-3}"
    echo
  } >> "$tmp"
done
mv "$tmp" "$out"
cat "$out"
