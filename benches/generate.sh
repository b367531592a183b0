#!/usr/bin/env bash
# Measures `leadql generate`: wall time, peak memory (max RSS) and output size at
# several scales, and writes benches/results/generate.md with the machine and date.
#
#   benches/generate.sh                # 100k, 300k, 1M leads (10 interactions per lead)
#   SCALES="1000000:50" benches/generate.sh   # 1M leads, ~50 interactions per lead
#
# Uses the release build (or $LEADQL_BIN); data goes to $BENCH_DIR (default /tmp/leadql-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${LEADQL_RELEASE_TARGET:-$HOME/.cache/leadql-target-rel}"
if [ -z "${LEADQL_BIN:-}" ]; then
  cargo build --release --quiet --bin leadql
fi
bin="${LEADQL_BIN:-$CARGO_TARGET_DIR/release/leadql}"
dir="${BENCH_DIR:-/tmp/leadql-bench}"
scales="${SCALES:-100000:10 300000:10 1000000:10}"
out=benches/results/generate.md
tmp=$(mktemp)

{
  echo "# leadql generate: time and peak memory"
  echo
  echo "Written by \`benches/generate.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $("$bin" --version)."
  echo
  echo "| leads | interactions/lead | interactions | wall (s) | peak RSS (MiB) | size on disk |"
  echo "|---:|---:|---:|---:|---:|---:|"
} > "$tmp"

for scale in $scales; do
  leads=${scale%%:*}
  per=${scale##*:}
  ws="$dir/generate-$leads-$per"
  rm -rf "$ws"
  /usr/bin/time -f "%e %M" -o "$dir.time" "$bin" generate --data "$ws" --leads "$leads" --seed 7 \
    --interactions-per-lead "$per" --quiet 2> "$dir.log"
  read -r wall rss_kib < "$dir.time"
  interactions=$(grep -o '[0-9]* interactions' "$dir.log" | cut -d' ' -f1)
  size=$(du -sh "$ws" | cut -f1)
  echo "| $leads | $per | $interactions | $wall | $((rss_kib / 1024)) | $size |" >> "$tmp"
  echo "generate: $leads leads × $per: ${wall}s, $((rss_kib / 1024)) MiB" >&2
done
mv "$tmp" "$out"
echo "wrote $out" >&2
