#!/usr/bin/env bash
# Duplicate detection at scale: generates a workspace with planted duplicates, times
# `lead_duplicates()` (wall time and peak memory, max RSS) and measures its precision
# and recall against the planted ground truth; writes benches/results/duplicates.md
# with the machine and date.
#
#   benches/duplicates/run.sh                  # 1M leads, 5% planted duplicates
#   LEADS=100000 benches/duplicates/run.sh
#
# Uses the release build (or $LEADQL_BIN); data goes to $BENCH_DIR (default /tmp/leadql-bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${LEADQL_RELEASE_TARGET:-$HOME/.cache/leadql-target-rel}"
if [ -z "${LEADQL_BIN:-}" ]; then
  cargo build --release --quiet --bin leadql
fi
bin="${LEADQL_BIN:-$CARGO_TARGET_DIR/release/leadql}"
dir="${BENCH_DIR:-/tmp/leadql-bench}"
leads="${LEADS:-1000000}"
share="${SHARE:-0.05}"
ws="$dir/duplicates-$leads"
out=benches/results/duplicates.md
mkdir -p "$dir" benches/results

rm -rf "$ws"
"$bin" generate --data "$ws" --leads "$leads" --seed 5 --duplicates "$share" --quiet 2> "$dir/dup-generate.log"
/usr/bin/time -f "%e %M" -o "$dir/dup.time" "$bin" --data "$ws" sql --format csv \
  "SELECT rule, count(*) AS pairs FROM lead_duplicates() GROUP BY rule ORDER BY rule" > "$dir/dup-pairs.csv"
read -r wall rss_kib < "$dir/dup.time"
"$bin" --data "$ws" sql -f benches/duplicates/quality.sql > "$dir/dup-quality.txt"

tmp=$(mktemp)
{
  echo "# lead_duplicates(): time, peak memory, precision and recall"
  echo
  echo "Written by \`benches/duplicates/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $("$bin" --version)."
  echo
  echo "Workspace: \`leadql generate --leads $leads --seed 5 --duplicates $share\`."
  echo
  echo "| leads | wall (s) | peak RSS (MiB) |"
  echo "|---:|---:|---:|"
  echo "| $leads | $wall | $((rss_kib / 1024)) |"
  echo
  echo "Pairs found per rule:"
  echo
  echo '```'
  cat "$dir/dup-pairs.csv"
  echo '```'
  echo
  echo "Precision per rule, and recall per planted variation (\`benches/duplicates/quality.sql\`):"
  echo
  echo '```'
  cat "$dir/dup-quality.txt"
  echo '```'
} > "$tmp"
mv "$tmp" "$out"
echo "wrote $out"
