"""Checks that slotsim, the bare loop and SimPy agree on the one-account model.

Usage: python3 bench/agree.py SLOTSIM_REPLICATIONS_CSV BARELOOP_OUTPUT SIMPY_OUTPUT

Each of the bare loop and SimPy prints its rates with a batch-means standard error (20
batches). Two estimates agree when they differ by less than 4 combined standard errors
(slotsim's error is taken to be the bare loop's: the same model over the same time).
Prints `figure value` lines; exits 1 if any pair disagrees.
"""
import csv
import math
import sys


def kv(path):
    out = {}
    for line in open(path):
        if "=" in line:
            k, v = line.strip().split("=", 1)
            out[k] = v
    return out


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    slot = {m: float(rows[0][m]) for m in ("new_session_rejection_rate", "continuity_failure_rate")}
    bare, simpy = kv(sys.argv[2]), kv(sys.argv[3])
    ok = True
    for m in slot:
        b, s = float(bare[m]), float(simpy[m])
        sb, ss = float(bare[m + "_se"]), float(simpy[m + "_se"])
        for name, x, se in (("slotsim", slot[m], math.hypot(sb, sb)), ("simpy", s, math.hypot(sb, ss))):
            z = abs(x - b) / se if se > 0 else 0.0
            print(f"{m}_{name} {x:.6f}")
            print(f"{m}_{name}_z_vs_bareloop {z:.2f}")
            ok &= z < 4.0
        print(f"{m}_bareloop {b:.6f}")
    print(f"agree {int(ok)}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
