"""Writes benches/results/kernels.md from criterion's estimates of `cargo bench --bench
kernels` (run by benches/kernels/run.sh): median time and rows per second of every
kernel, batch size and NULL rate."""

import datetime as dt
import glob
import json
import os
import platform
import sys


def main():
    root, out = sys.argv[1], sys.argv[2]
    rows = []
    for path in glob.glob(os.path.join(root, "*", "**", "new", "benchmark.json"), recursive=True):
        bench = json.load(open(path))
        est = json.load(open(os.path.join(os.path.dirname(path), "estimates.json")))
        elements = (bench.get("throughput") or {}).get("Elements")
        median_ns = est["median"]["point_estimate"]
        low, high = est["median"]["confidence_interval"]["lower_bound"], est["median"]["confidence_interval"]["upper_bound"]
        rows.append((bench["group_id"], bench["function_id"] or "", int(bench["value_str"] or 0), median_ns, low, high, elements))
    if not rows:
        sys.exit(f"no criterion results under {root}")
    rows.sort()
    mem = int(open("/proc/meminfo").read().split()[1]) // 1048576
    lines = [
        "# UDF kernels (criterion)",
        "",
        f"Written by `benches/kernels/run.sh` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{os.cpu_count()} cores, {mem} GiB, {platform.platform()}; release profile of the workspace.",
        "Each kernel runs through a real DataFusion plan over 65,536 seeded in-memory rows, split in batches of the "
        "given size; `nulls` is the share of NULL inputs. Median of criterion's samples (95 % interval).",
        "",
        "| kernel | nulls | batch rows | median per 65,536 rows (ms) | 95 % interval (ms) | M rows/s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for group, function, size, median, low, high, elements in rows:
        rate = f"{elements / median * 1e3:.1f}" if elements else ""
        lines.append(f"| `{group}` | {function.removeprefix('nulls ')} | {size:,} | {median / 1e6:.2f} | "
                     f"{low / 1e6:.2f}–{high / 1e6:.2f} | {rate} |")
    open(out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
