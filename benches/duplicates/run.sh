#!/usr/bin/env bash
# Duplicate detection at scale: for each size, generates a workspace with planted
# duplicates, times `lead_duplicates()` (wall time and peak memory, max RSS) and
# measures its precision and recall against the planted ground truth; with SPLINK=1,
# runs Splink on the same workspace (benches/duplicates/splink.sh). Writes
# benches/results/duplicates.md with the machine and date.
#
#   benches/duplicates/run.sh                          # 100k, 1M and 3M leads, 5% planted
#   LEADS="100000 1000000" SPLINK=1 benches/duplicates/run.sh
#   SPLINK=1 SPLINK_MAX=1000000 benches/duplicates/run.sh   # Splink up to 1M leads only
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
sizes="${LEADS:-100000 1000000 3000000}"
share="${SHARE:-0.05}"
out=benches/results/duplicates.md
mkdir -p "$dir" benches/results

rows=()
details=""
for leads in $sizes; do
  ws="$dir/duplicates-$leads"
  rm -rf "$ws"
  "$bin" generate --data "$ws" --leads "$leads" --seed 5 --duplicates "$share" --quiet 2> "$dir/dup-generate.log"
  /usr/bin/time -f "%e %M" -o "$dir/dup.time" "$bin" --data "$ws" sql --format csv \
    "SELECT rule, count(*) AS pairs FROM lead_duplicates() GROUP BY rule ORDER BY rule" \
    > "$dir/dup-pairs-$leads.csv" 2> "$dir/dup-warnings-$leads.txt"
  read -r wall rss_kib < "$dir/dup.time"
  "$bin" --data "$ws" sql -f benches/duplicates/quality.sql > "$dir/dup-quality-$leads.txt" 2> /dev/null
  # Precision and recall at the default threshold: the "any rule" and "all true pairs" rows.
  precision=$(awk -F'|' '/ any rule /{gsub(/ /,"",$5); print $5}' "$dir/dup-quality-$leads.txt")
  recall=$(awk -F'|' '/ all true pairs /{gsub(/ /,"",$5); print $5}' "$dir/dup-quality-$leads.txt")
  rows+=("| leadql | $leads | $wall | $((rss_kib / 1024)) | $precision | $recall |")
  if [ "${SPLINK:-0}" = 1 ] && [ "$leads" -le "${SPLINK_MAX:-1000000}" ]; then
    benches/duplicates/splink.sh "$ws" "$dir/splink-$leads.json" ${SPLINK_ARGS:-} > "$dir/splink-$leads.txt" 2>&1
    rows+=("$(python3 - "$dir/splink-$leads.json" "$leads" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
q = r["results"]["0.5"]
print(f"| Splink {r['splink_version']} | {sys.argv[2]} | {r['process']['wall_s']:.2f} | "
      f"{r['process']['peak_rss_mib']:.0f} | {q['precision']:.4f} | {q['recall']:.4f} |")
EOF
)")
  fi
  details+=$'\n'"### $leads leads"$'\n\n'"Pairs per rule, and warnings (blocks over max_block):"$'\n\n```\n'
  details+="$(cat "$dir/dup-pairs-$leads.csv")"$'\n'"$(head -8 "$dir/dup-warnings-$leads.txt")"$'\n```\n\n'
  details+="Precision per rule, precision and recall at other thresholds, recall per planted variation (\`benches/duplicates/quality.sql\`):"$'\n\n```\n'
  details+="$(cat "$dir/dup-quality-$leads.txt")"$'\n```\n'
done

tmp=$(mktemp)
{
  echo "# lead_duplicates(): time, peak memory, precision and recall"
  echo
  echo "Written by \`benches/duplicates/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $("$bin" --version)."
  echo
  echo "Workspaces: \`leadql generate --leads N --seed 5 --duplicates $share\`. Wall time and"
  echo "peak RSS of the whole process (\`leadql sql\` reading the workspace, or Python with"
  echo "Splink's training and prediction); precision and recall at the default threshold"
  echo "(0.5) over all true pairs (\`benches/duplicates/quality.sql\`)."
  echo
  echo "| engine | leads | wall (s) | peak RSS (MiB) | precision | recall |"
  echo "|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo "$details"
} > "$tmp"
mv "$tmp" "$out"
echo "wrote $out"
