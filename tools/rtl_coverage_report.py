#!/usr/bin/env python3
"""Summarise a verilator_coverage .dat file: covered / total points per RTL file and kind
(line, toggle, branch, ...). A point is covered when its count is non-zero."""
import collections
import re
import sys

# Each record: C '<\x01key\x02value ...>' count
RECORD = re.compile(r"^C '(.*)' (\d+)$")


def fields(text):
    return dict(item.split("\x02", 1) for item in text.split("\x01") if "\x02" in item)


def main(path):
    totals = collections.defaultdict(lambda: [0, 0])  # (file, kind) -> [covered, total]
    with open(path, encoding="latin-1") as f:
        for line in f:
            m = RECORD.match(line.rstrip("\n"))
            if not m:
                continue
            rec = fields(m.group(1))
            kind = rec.get("page", "?").split("/")[0].removeprefix("v_")
            key = (rec.get("f", "?").split("/")[-1], kind)
            totals[key][1] += 1
            totals[key][0] += int(m.group(2)) > 0
    kinds = sorted({k for _, k in totals})
    print(f"{'file':28s}" + "".join(f"{k:>22s}" for k in kinds))
    for name in sorted({f for f, _ in totals}):
        row = f"{name:28s}"
        for k in kinds:
            c, t = totals.get((name, k), (0, 0))
            row += f"{(f'{c}/{t} ' + (f'{100.0 * c / t:5.1f}%' if t else '   -  ')):>22s}"
        print(row)
    row = f"{'all':28s}"
    for k in kinds:
        c = sum(v[0] for (f, kk), v in totals.items() if kk == k)
        t = sum(v[1] for (f, kk), v in totals.items() if kk == k)
        row += f"{f'{c}/{t} {100.0 * c / t:5.1f}%':>22s}"
    print(row)


if __name__ == "__main__":
    main(sys.argv[1])
