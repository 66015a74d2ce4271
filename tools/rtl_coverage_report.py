#!/usr/bin/env python3
"""The parts of tools/rtl_coverage.sh that lcov cannot do from Verilator 5.006's data.

verilator_coverage 5.006 --write-info writes line records (DA) only: no branch records, and
toggle points have no place in lcov's format. This script reads the .dat coverage files
(records "C '<\\x01key\\x02value...>' count"; keys f file, l line, n column, page
v_line|v_branch|v_toggle/<module>, o comment, h hierarchy) and

  branches INFO DAT...     adds lcov branch records (BRDA/BRF/BRH) of the v_branch points to
                           INFO in place, one block per if/else pair (the if at column n, its
                           else at n + 1), counts summed over instances and configurations;
  toggle REGEX OUT DAT...  prints "covered total" of the toggle points in files whose base
                           name matches REGEX (one point per bit and instance, covered when
                           its count is non-zero) and writes the untoggled bits, grouped per
                           signal, to OUT;
  table CSV JSON           prints the per-unit CSV that tools/rtl_coverage.sh assembled as a
                           table and writes it as JSON.
"""
import collections
import csv
import json
import os
import re
import sys

RECORD = re.compile(r"^C '(.*)' (\d+)$")


def points(paths):
    """Yields (fields, count) of every record of the .dat files."""
    for path in paths:
        with open(path, encoding="latin-1") as f:
            for line in f:
                m = RECORD.match(line.rstrip("\n"))
                if m:
                    fields = dict(item.split("\x02", 1) for item in m.group(1).split("\x01") if "\x02" in item)
                    yield fields, int(m.group(2))


def kind(fields):
    return fields.get("page", "?").split("/")[0].removeprefix("v_")


def branches(info, dats):
    # (file, line) -> {(block column, branch): count}
    per_line = collections.defaultdict(lambda: collections.defaultdict(int))
    for fields, count in points(dats):
        if kind(fields) != "branch":
            continue
        col = int(fields["n"])
        is_else = fields.get("o") == "else"
        per_line[(fields["f"], int(fields["l"]))][(col - 1 if is_else else col, int(is_else))] += count
    by_file = collections.defaultdict(list)
    for (path, line), arms in per_line.items():
        by_file[path].append((line, arms))

    def records(path):
        out, found, hit = [], 0, 0
        for line, arms in sorted(by_file.pop(path, []), key=lambda la: la[0]):
            blocks = sorted({col for col, _ in arms})
            for (col, arm), count in sorted(arms.items()):
                out.append(f"BRDA:{line},{blocks.index(col)},{arm},{count}")
                found += 1
                hit += count > 0
        return out + [f"BRF:{found}", f"BRH:{hit}"] if out else []

    result, current = [], None
    with open(info, encoding="utf-8") as f:
        for line in f.read().splitlines():
            if line.startswith("SF:"):
                current = line[3:]
            if line == "end_of_record" and current is not None:
                result += records(current)
                current = None
            result.append(line)
    for path in sorted(by_file):  # files with branch points but no line points
        result += [f"SF:{path}"] + records(path) + ["end_of_record"]
    with open(info, "w", encoding="utf-8") as f:
        f.write("\n".join(result) + "\n")


def toggle(regex, out, dats):
    match = re.compile(regex)
    covered = total = 0
    missed = collections.defaultdict(list)  # (file, line, instance, signal) -> bits
    for fields, count in points(dats):
        path = fields.get("f", "")
        if kind(fields) != "toggle" or not match.fullmatch(os.path.basename(path)):
            continue
        total += 1
        covered += count > 0
        if count == 0:
            name = fields.get("o", "?")
            signal, bit = (name[: name.rindex("[")], name[name.rindex("[") + 1 :]) if name.endswith("]") else (name, "")
            module = fields.get("page", "?").split("/")[-1]
            key = (os.path.basename(path), int(fields.get("l", 0)), f"{fields.get('h', '?')} ({module})", signal)
            missed[key].append(bit.rstrip("]"))
    with open(out, "w", encoding="utf-8") as f:
        for (path, line, hier, signal), bits in sorted(missed.items()):
            bits.sort(key=lambda b: (len(b), b))
            f.write(f"{path}:{line} {hier} {signal}" + (f" [{','.join(bits)}]" if any(bits) else "") + "\n")
    print(covered, total)


def table(csv_path, json_path):
    with open(csv_path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    def cell(row, what):
        hit, found = int(row[what + "_hit"]), int(row[what + "_found"])
        return f"{hit}/{found} " + (f"{100.0 * hit / found:5.1f}%" if found else "   -  ")

    print(f"{'unit':24s}{'line':>18s}{'branch':>18s}{'toggle':>22s}")
    for row in rows:
        print(f"{row['unit']:24s}{cell(row, 'line'):>18s}{cell(row, 'branch'):>18s}{cell(row, 'toggle'):>22s}")
    doc = []
    for row in rows:
        entry = {"unit": row["unit"]}
        for what in ("line", "branch", "toggle"):
            hit, found = int(row[what + "_hit"]), int(row[what + "_found"])
            entry[what] = {"hit": hit, "found": found, "percent": round(100.0 * hit / found, 2) if found else None}
        doc.append(entry)
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "branches":
        branches(args[0], args[1:])
    elif cmd == "toggle":
        toggle(args[0], args[1], args[2:])
    elif cmd == "table":
        table(args[0], args[1])
    else:
        sys.exit(f"rtl_coverage_report.py: unknown command '{cmd}'")
