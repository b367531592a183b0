#!/usr/bin/env bash
# The main job at scale: wall time, peak memory and per-stage times of `leadql run` on a
# generated workspace, three times in a row on a copy of it:
#   1. `train`:   the first run trains the point-in-time `conversion` model;
#   2. `reuse`:   the data did not change, the model is reused;
#   3. `retrain`: `--retrain` trains a new version and passes it through the publish gate.
# Writes benches/results/main_job.md.
#
#   benches/point_in_time/main_job.sh                  # 1M leads, seed 7, release build
#   LEADS=100000 benches/point_in_time/main_job.sh     # smaller
#
# Timings need an otherwise idle machine; the script prints the load average it saw.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${LEADQL_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --quiet --bin leadql
  bin="${CARGO_TARGET_DIR:-target}/release/leadql"
fi
leads="${LEADS:-1000000}"
seed="${SEED:-7}"
dir="${BENCH_DIR:-/tmp/leadql-main-job}"
mkdir -p "$dir"
source_ws="$dir/generated-$leads-$seed"
if [ ! -f "$source_ws/workspace.toml" ]; then
  rm -rf "$source_ws"
  "$bin" generate --data "$source_ws" --leads "$leads" --seed "$seed" > "$dir/generate.log"
fi
work="$dir/run-ws"
rm -rf "$work" "$dir/out"
cp -r "$source_ws" "$work"

results=benches/results/main_job.md
{
  echo "# The main job at scale"
  echo
  echo "Written by \`benches/point_in_time/main_job.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'):"
  echo "\`leadql generate --leads $leads --seed $seed\`, then \`leadql run\` three times on a copy"
  echo "($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), binary \`$bin\`)."
  echo
  echo "The load average before each run includes this script's previous runs."
  echo
  echo "| run | wall | peak RSS | load average before |"
  echo "|---|---|---|---|"
} > "$results.tmp"
stages=""
for kind in train reuse retrain; do
  args=()
  [ "$kind" = retrain ] && args=(--retrain)
  load=$(cut -d' ' -f1 /proc/loadavg)
  LEADQL_TIMINGS=1 /usr/bin/time -f "%e %M" "$bin" --data "$work" run --out "$dir/out" "${args[@]}" \
    > "$dir/$kind.out" 2> "$dir/$kind.err"
  read -r wall rss < <(tail -1 "$dir/$kind.err")
  echo "| $kind | ${wall} s | $(awk -v k="$rss" 'BEGIN {printf "%.2f GB", k/1e6}') | $load |" >> "$results.tmp"
  stages+=$'\n'"\`$kind\`:"$'\n\n```\n'"$(grep '^timing:' "$dir/$kind.err" | sed 's/^timing: //')"$'\n```\n'
done
{
  echo
  echo "Stage times (\`LEADQL_TIMINGS=1\`):"
  echo "$stages"
  echo "Summary of the first run:"
  echo
  echo '```'
  grep -v '^  lead ' "$dir/train.out"
  echo '```'
} >> "$results.tmp"
mv "$results.tmp" "$results"
cat "$results"
