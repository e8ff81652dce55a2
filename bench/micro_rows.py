"""Reads divan's table (bench/micro's `cargo bench` output) on stdin and prints one line per
benchmark: its path (group/bench/argument) and its median time in nanoseconds."""
import re
import sys

UNITS = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
path = []
for line in sys.stdin:
    m = re.search(r"[├╰]─ (\S+)", line)
    if not m:
        continue
    depth = m.start() // 3  # the tree is drawn three characters per level
    path = path[:depth] + [m.group(1)]
    cells = line[m.end():].split("│")  # fastest, slowest, median, mean, samples, iters
    median = re.match(r"\s*([\d.]+) (\S+)", cells[2]) if len(cells) > 3 else None
    if median and median.group(2) in UNITS:
        print("/".join(path), round(float(median.group(1)) * UNITS[median.group(2)], 3))
