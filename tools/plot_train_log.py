#!/usr/bin/env python3
"""Plots an octet-train JSON log (docs/user-guide.md, "The training log"): accuracy and loss per
epoch, the 8-bit integer network against its FP32 twin.

Usage: python3 tools/plot_train_log.py LOG.json OUT.png
Needs matplotlib (Debian: python3-matplotlib); runs headless (Agg backend). The PNG is written
to a temporary file and renamed, so it is never left half-written.
"""
import json
import sys

from plot_common import save_png

STYLE = {"int8": ("tab:blue", "integer (WAGEUBN, 8-bit)"), "fp32": ("tab:orange", "FP32 twin")}


def curves(log):
    """Per mode: epochs, train accuracy, test accuracy, train loss (in epoch order)."""
    out = {}
    for r in log["epochs"]:
        c = out.setdefault(r["mode"], {"epoch": [], "train_acc": [], "test_acc": [], "loss": []})
        c["epoch"].append(r["epoch"])
        c["train_acc"].append(100 * r["train_accuracy"])
        c["test_acc"].append(100 * r["test_accuracy"])
        c["loss"].append(r["train_loss"])
    return out


def main(argv):
    if len(argv) != 3:
        print("usage: plot_train_log.py LOG.json OUT.png", file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    try:
        with open(src) as f:
            log = json.load(f)
        if not isinstance(log, dict) or log.get("format") != "octet-train-log":
            raise ValueError("not an octet-train log")
        data = curves(log)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"{src}: field 'epochs': cannot read the log: {e}", file=sys.stderr)
        return 2
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    cfg = log.get("config", {})
    fig, (ax_a, ax_l) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mode, c in data.items():
        color, label = STYLE.get(mode, ("tab:gray", mode))
        marker = "o" if len(c["epoch"]) < 30 else None
        ax_a.plot(c["epoch"], c["test_acc"], color=color, marker=marker, label=f"{label}, test")
        ax_a.plot(c["epoch"], c["train_acc"], color=color, marker=marker, linestyle="--", alpha=0.7,
                  label=f"{label}, train")
        ax_l.plot(c["epoch"], c["loss"], color=color, marker=marker, label=label)
    ax_a.set_title("accuracy per epoch")
    ax_a.set_ylabel("accuracy (%)")
    ax_l.set_title("training loss per epoch (mean cross-entropy)")
    ax_l.set_ylabel("loss")
    for ax in (ax_a, ax_l):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"octet-train: {cfg.get('network', '?')}, batch {cfg.get('batch', '?')}, "
                 f"{cfg.get('train_images', '?')} training images, seed {cfg.get('seed', '?')}")
    fig.tight_layout()
    return save_png(fig, dst)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
