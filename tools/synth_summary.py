#!/usr/bin/env python3
"""Summarises Yosys `stat` reports (tools/synth_units.sh): cells and flip-flops per unit.

Each argument is "unit|configuration|stat file" ("timeout S" or "failed LOG" in place of the
file: that unit's synthesis ran out of S seconds or failed, reported as such). The totals are those of the report's last
cell list, the design hierarchy's when the design keeps sub-modules (a module synthesized
once is counted per instance). Prints a table; --csv and --json write the same rows.
"""
import argparse
import csv
import json
import re
import sys


def totals(path):
    """(cells, flip-flops, cells by type) of the last cell list in a stat report."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    blocks = list(re.finditer(r"Number of cells:\s+(\d+)\n((?:\s+\$\S+\s+\d+\n)*)", text))
    if not blocks:
        raise ValueError(f"{path}: no 'Number of cells' in the report")
    last = blocks[-1]
    by_type = {m.group(1): int(m.group(2)) for m in re.finditer(r"\s+(\$\S+)\s+(\d+)", last.group(2))}
    flops = sum(n for t, n in by_type.items() if re.match(r"\$_(AL|S)?DFF|\$_DLATCH|\$_SR_|\$_FF_", t))
    return int(last.group(1)), flops, by_type


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", nargs="+", help='"unit|configuration|stat file"')
    ap.add_argument("--csv")
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    for spec in args.reports:
        parts = spec.split("|")
        if len(parts) != 3:
            print(f"synth_summary.py: '{spec}': expected unit|configuration|stat file", file=sys.stderr)
            return 2
        unit, config, path = parts
        if path.startswith("timeout ") or path.startswith("failed "):
            note = f"synthesis timed out after {path[8:]} s" if path.startswith("timeout ") else f"synthesis failed: {path[7:]}"
            rows.append({"unit": unit, "configuration": config, "cells": None, "flip_flops": None,
                         "logic_cells": None, "by_type": {}, "note": note})
            continue
        try:
            cells, flops, by_type = totals(path)
        except (OSError, ValueError) as e:
            print(f"synth_summary.py: {e}", file=sys.stderr)
            return 2
        rows.append({"unit": unit, "configuration": config, "cells": cells, "flip_flops": flops,
                     "logic_cells": cells - flops, "by_type": by_type, "note": ""})
    print(f"{'unit':<16} {'configuration':<14} {'cells':>10} {'flip-flops':>11} {'logic cells':>12}")
    for r in rows:
        if r["cells"] is None:
            print(f"{r['unit']:<16} {r['configuration']:<14} {r['note']}")
        else:
            print(f"{r['unit']:<16} {r['configuration']:<14} {r['cells']:>10,} {r['flip_flops']:>11,} {r['logic_cells']:>12,}")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["unit", "configuration", "cells", "flip_flops", "logic_cells", "note"])
            for r in rows:
                w.writerow([r["unit"], r["configuration"], r["cells"], r["flip_flops"], r["logic_cells"], r["note"]])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"tool": "yosys synth (generic)", "units": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
