#!/usr/bin/python3
"""Co-simulation speed: one training step of a network under `octet-sim --cosim` at each array
size, side by side in one run on this machine. Not a test: a benchmark to rerun.

  /usr/bin/python3 tools/bench/cosim_speed.py [--network networks/resnet18.net] [--batch 1]
      [--arrays 8x8,16x16,32x32] [--lanes 4] [--threads 2] [--json out.json] [--csv out.csv]

Each row is one octet-sim process (bit-exact and cycle-exact checks included; a failed check
fails the benchmark): its wall time, the step's simulated cycles, the unit operations whose
RTL cycles were compared with the model, and per RTL unit the simulated cycles per second of
host time spent driving it (octet-sim's JSON `cosim_units`). An array size that is not
verilated in this build (OCTET_COSIM_ARRAYS) is reported and skipped.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = ["systolic_array", "shift_quantizer", "bn_unit", "optimizer_unit", "vector_unit"]


def run(binary, args, array):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "report.json")
        cmd = [binary, "--network", args.network, "--batch", str(args.batch), "--cosim", "--array", array,
               "--lanes", str(args.lanes), "--threads", str(args.threads), "--quiet", "--json", out]
        print("+", " ".join(cmd), file=sys.stderr, flush=True)
        begin = time.monotonic()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - begin
        if p.returncode == 2 and "no verilated" in p.stderr:
            print(f"cosim_speed: {array}: skipped ({p.stderr.strip()})", file=sys.stderr)
            return None
        if p.returncode != 0:
            sys.exit(f"cosim_speed: {array}: octet-sim failed (exit {p.returncode}): {p.stderr.strip()}")
        rep = json.load(open(out))
    row = {"array": array, "lanes": args.lanes, "wall_seconds": wall, "step_cycles": rep["totals"]["cycles"],
           "checked_operations": rep["cycle_checks"]["operations"],
           "cycle_mismatches": rep["cycle_checks"]["mismatches"],
           "bit_identical": rep["functional_check"]["bit_identical"]}
    for u in rep["cosim_units"]:
        row[u["unit"] + "_rtl_cycles"] = u["rtl_cycles"]
        row[u["unit"] + "_seconds"] = u["seconds"]
        row[u["unit"] + "_cycles_per_second"] = u["cycles_per_second"]
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default=os.path.join(ROOT, "networks", "resnet18.net"))
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--arrays", default="8x8,16x16,32x32")
    ap.add_argument("--lanes", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "bin", "octet-sim"))
    ap.add_argument("--json")
    ap.add_argument("--csv")
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"cosim_speed: {args.binary}: not found (build the octet-sim target first)")
    rows = [r for r in (run(args.binary, args, a) for a in args.arrays.split(",")) if r]
    units = [u for u in UNITS if any(u + "_rtl_cycles" in r for r in rows)]
    print(f"\n{os.path.basename(args.network)} batch {args.batch}, one co-simulated training step per row, "
          f"{args.threads} golden threads, {os.cpu_count()} CPUs")
    head = f"{'array':>7} {'lanes':>5} {'wall s':>8} {'step cycles':>12} {'ops checked':>11} {'exact':>5}"
    for u in units:
        head += f" {u + ' cyc/s':>22}"
    print(head)
    for r in rows:
        exact = r["cycle_mismatches"] == 0 and r["bit_identical"]
        line = (f"{r['array']:>7} {r['lanes']:>5} {r['wall_seconds']:8.1f} {r['step_cycles']:12d} "
                f"{r['checked_operations']:11d} {'yes' if exact else 'NO':>5}")
        for u in units:
            v = r.get(u + "_cycles_per_second")
            line += f" {v:22.3g}" if v else f" {'-':>22}"
        print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"format": "octet-cosim-speed", "version": 1, "network": args.network, "batch": args.batch,
                       "threads": args.threads, "rows": rows}, f, indent=1)
    if args.csv:
        keys = list(dict.fromkeys(k for r in rows for k in r))  # first row's order, then any others
        with open(args.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
