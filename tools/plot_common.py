"""What Octet's plot scripts share: writing a figure to its PNG through a temporary and a rename,
so that a failed or interrupted write leaves no half-written file."""
import os
import sys


def save_png(fig, dst):
    """Saves `fig` to `dst`; returns 0, or 2 with a one-line error naming the file."""
    tmp = dst + ".tmp.png"
    try:
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, dst)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        print(f"{dst}: field '--plot': cannot write: {e}", file=sys.stderr)
        return 2
    return 0
