"""Sum an Nsight Compute CSV (one metric, gpu__time_duration.sum) by kernel name.

Usage: python ncu_summary.py ncu.csv [top]
Prints the kernels that took the most device time in total, with their launch counts: where a
training step's GPU time goes (issue #9), without a timeline profiler.
"""
import csv, collections, sys

path = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
rows = []
with open(path, newline="", errors="replace") as f:
    lines = [l for l in f if l.startswith('"')]  # ncu's own messages are not CSV rows
for r in csv.DictReader(lines):
    if r.get("Metric Name") != "gpu__time_duration.sum":
        continue
    try:
        v = float(r["Metric Value"].replace(",", ""))
    except (KeyError, ValueError):
        continue
    unit = r.get("Metric Unit", "")
    ns = v * {"nsecond": 1, "ns": 1, "usecond": 1e3, "us": 1e3, "msecond": 1e6, "ms": 1e6}.get(unit, 1)
    rows.append((r["Kernel Name"], ns))
tot = collections.defaultdict(float)
cnt = collections.Counter()
for name, ns in rows:
    short = name.split("(")[0][:90]
    tot[short] += ns
    cnt[short] += 1
all_ns = sum(tot.values())
print(f"{len(rows)} kernel launches, {all_ns / 1e6:.1f} ms of device time")
print(f"{'ms':>9} {'share':>6} {'launches':>8}  kernel")
for name, ns in sorted(tot.items(), key=lambda kv: -kv[1])[:top]:
    print(f"{ns / 1e6:9.2f} {100 * ns / all_ns:5.1f}% {cnt[name]:8d}  {name}")
