#!/usr/bin/env python3
"""Plots unit occupancy over time from an octet-sim trace (octet-sim --trace; model/trace_writer.h):
one row per track (controller stages, each unit, the DRAM channel), operations coloured by pass,
stalls hatched in grey, and below it the share of time each unit is busy, in 100 windows.

Usage: python3 tools/plot_sim_trace.py TRACE.json OUT.png
Needs matplotlib (Debian: python3-matplotlib); runs headless (Agg backend). The PNG is written to
a temporary file and renamed, so it is never left half-written.
"""
import json
import sys

from plot_common import save_png

PASS_COLOURS = {"forward": "tab:blue", "backward": "tab:orange", "wgrad": "tab:green", "update": "tab:red"}


def tracks(trace):
    """(names in display order, {(pid, tid): [(ts, dur, pass, is_stall)]})."""
    names, order, spans = {}, {}, {}
    for e in trace["traceEvents"]:
        key = (e["pid"], e["tid"])
        if e["ph"] == "M":
            if e["name"] == "thread_name":
                names[key] = e["args"]["name"]
            continue
        if e["ph"] != "X":
            continue
        spans.setdefault(key, []).append((e["ts"], e["dur"], e.get("args", {}).get("pass"), e["name"] == "stall"))
    keys = sorted(spans, key=lambda k: (k[0], k[1]))
    return [(k, names.get(k, f"{k[0]}/{k[1]}")) for k in keys], spans


def main(argv):
    if len(argv) != 3:
        print("usage: plot_sim_trace.py TRACE.json OUT.png", file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    try:
        with open(src) as f:
            trace = json.load(f)
        rows, spans = tracks(trace)
        end = max((ts + dur for v in spans.values() for ts, dur, _, _ in v), default=0)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"{src}: field 'traceEvents': cannot read the trace: {e}", file=sys.stderr)
        return 2
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    other = trace.get("otherData", {})
    fig, (ax_g, ax_u) = plt.subplots(2, 1, figsize=(14, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for y, (key, name) in enumerate(rows):
        for stall in (False, True):
            bars = [(ts, dur) for ts, dur, _, s in spans[key] if s == stall]
            if stall:
                ax_g.broken_barh(bars, (y - 0.4, 0.8), facecolors="lightgrey", hatch="///", edgecolor="grey", linewidth=0)
            else:
                colours = [PASS_COLOURS.get(p, "tab:purple") for ts, dur, p, s in spans[key] if not s]
                ax_g.broken_barh(bars, (y - 0.4, 0.8), facecolors=colours, linewidth=0)
    ax_g.set_yticks(range(len(rows)))
    ax_g.set_yticklabels([name for _, name in rows])
    ax_g.invert_yaxis()
    ax_g.set_title(f"{other.get('workload', '?')}, batch {other.get('batch', '?')}: unit occupancy "
                   f"({other.get('total_cycles', end)} cycles)")
    ax_g.legend(handles=[Patch(color=c, label=p) for p, c in PASS_COLOURS.items()] +
                [Patch(facecolor="lightgrey", hatch="///", edgecolor="grey", label="stall")],
                fontsize="small", loc="upper right", ncol=5)
    # Busy share per window: a unit's operation time (stalls excluded) over the window length.
    bins = 100
    width = max(1, end / bins)
    xs = [(i + 0.5) * width for i in range(bins)]
    for key, name in rows:
        if name == "controller":
            continue
        busy = [0.0] * bins
        for ts, dur, _, stall in spans[key]:
            if stall or dur <= 0:
                continue
            a, b = ts, ts + dur
            i = int(a // width)
            while a < b and i < bins:
                edge = min(b, (i + 1) * width)
                busy[i] += edge - a
                a, i = edge, i + 1
        ax_u.plot(xs, [100.0 * v / width for v in busy], label=name)
    ax_u.set_ylabel("busy %")
    ax_u.set_ylim(0, 105)
    ax_u.set_xlabel("cycle")
    ax_u.legend(fontsize="small", ncol=5)
    fig.tight_layout()
    return save_png(fig, dst)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
