#!/usr/bin/env python3
"""Plots an octet-sim JSON report (model/report_writers.h): cycles per layer stacked by pass,
and energy per layer, integer (WAGEUBN) datapath against the FP32 baseline.

Usage: python3 tools/plot_sim_report.py REPORT.json OUT.png
Needs matplotlib (Debian: python3-matplotlib); runs headless (Agg backend). The PNG is
written to a temporary file and renamed, so it is never left half-written.
"""
import json
import sys

from plot_common import save_png

PASSES = ["forward", "backward", "wgrad", "update"]


def layer_totals(report):
    """Per layer, in order of first appearance: cycles by pass, integer and FP32 energy (uJ)."""
    layers = {}
    for r in report["records"]:
        t = layers.setdefault(r["layer"], {"cycles": {p: 0 for p in PASSES}, "energy": 0.0, "fp32": 0.0})
        t["cycles"][r["pass"]] = t["cycles"].get(r["pass"], 0) + r["cycles"]
        t["energy"] += r["energy_total_pj"] * 1e-6
        t["fp32"] += r["fp32_energy_total_pj"] * 1e-6
    return layers


def main(argv):
    if len(argv) != 3:
        print("usage: plot_sim_report.py REPORT.json OUT.png", file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    try:
        with open(src) as f:
            report = json.load(f)
        layers = layer_totals(report)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"{src}: field 'records': cannot read the report: {e}", file=sys.stderr)
        return 2
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(layers)
    xs = range(len(names))
    width = max(8.0, 0.28 * len(names))
    fig, (ax_c, ax_e) = plt.subplots(2, 1, figsize=(width, 8), sharex=True)
    bottom = [0] * len(names)
    for p in PASSES:
        vals = [layers[n]["cycles"][p] for n in names]
        ax_c.bar(xs, vals, bottom=bottom, label=p, width=0.8)
        bottom = [b + v for b, v in zip(bottom, vals)]
    cfg = report.get("config", {})
    ax_c.set_ylabel("cycles")
    ax_c.set_title(f"{report.get('workload', '?')}: training step, batch {report.get('batch', '?')}, "
                   f"{cfg.get('array_rows', '?')}x{cfg.get('array_cols', '?')} array")
    ax_c.legend(title="pass", fontsize="small")
    half = 0.4
    ax_e.bar([x - half / 2 for x in xs], [layers[n]["energy"] for n in names], width=half, label="integer (WAGEUBN)")
    ax_e.bar([x + half / 2 for x in xs], [layers[n]["fp32"] for n in names], width=half, label="FP32 baseline")
    ax_e.set_ylabel("energy (µJ)")
    ax_e.set_title(f"energy per layer (table: {report.get('energy_origin', '?')})")
    ax_e.legend(fontsize="small")
    ax_e.set_xticks(list(xs))
    ax_e.set_xticklabels(names, rotation=90, fontsize="small")
    fig.tight_layout()
    return save_png(fig, dst)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
