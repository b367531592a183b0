#!/usr/bin/env bash
# Splink, the open-source peer of `lead_duplicates()`, on the same workspace and ground
# truth: trains and predicts with benches/duplicates/splink_bench.py under
# /usr/bin/time, and writes precision, recall, wall time and peak memory to a JSON file.
#
#   benches/duplicates/splink.sh                              # /tmp/leadql-bench/duplicates-1000000
#   benches/duplicates/splink.sh /tmp/d100k /tmp/splink.json  # another workspace, output
#   benches/duplicates/splink.sh WS OUT --email-comparison domain --em email,phone
#
# Arguments after the first two go to splink_bench.py (see its --help). The workspace is
# one benches/duplicates/run.sh generated (`leadql generate --duplicates SHARE`). The
# Python environment is made once at $SPLINK_VENV (default ~/.cache/leadql-splink-venv).
set -euo pipefail
cd "$(dirname "$0")/../.."
ws="${1:-${BENCH_DIR:-/tmp/leadql-bench}/duplicates-1000000}"
out="${2:-${BENCH_DIR:-/tmp/leadql-bench}/splink-$(basename "$ws").json}"
shift $(($# < 2 ? $# : 2))
if [ ! -d "$ws/leads" ] || [ ! -d "$ws/planted_duplicates" ]; then
  echo "no workspace with planted duplicates at $ws (make one with benches/duplicates/run.sh)" >&2
  exit 1
fi

venv="${SPLINK_VENV:-$HOME/.cache/leadql-splink-venv}"
if ! "$venv/bin/python" -c 'import sys, splink; sys.exit(int(splink.__version__.split(".")[0]) < 5)' \
    >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "splink>=5" duckdb
fi

mkdir -p "$(dirname "$out")"
timefile=$(mktemp)
trap 'rm -f "$timefile"' EXIT
/usr/bin/time -f "%e %M" -o "$timefile" \
  "$venv/bin/python" benches/duplicates/splink_bench.py "$ws" "$out" "$@"
read -r wall rss_kib < "$timefile"

# The whole process as /usr/bin/time saw it (Python start-up, loading, training,
# prediction, scoring and the untimed sweep), beside the script's own timings.
"$venv/bin/python" - "$out" "$wall" "$rss_kib" <<'EOF'
import json
import sys

path, wall, rss_kib = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
with open(path) as f:
    result = json.load(f)
result["process"] = {"wall_s": wall, "peak_rss_mib": rss_kib / 1024, "measured_by": "/usr/bin/time"}
with open(path, "w") as f:
    json.dump(result, f, indent=2)
EOF
echo "whole process (/usr/bin/time): ${wall} s, peak RSS $((rss_kib / 1024)) MiB; wrote $out"
