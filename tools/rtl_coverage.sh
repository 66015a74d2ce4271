#!/usr/bin/env bash
# RTL coverage: builds the verilated models with --coverage in build-cov/ (the default
# build is untouched), runs the default RTL tests (label rtl), merges the per-process
# coverage files and reports line and toggle coverage per type with verilator_coverage.
# Annotated sources land in build-cov/coverage/annotated (uncovered points marked %).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bdir="$root/build-cov"
cov="$bdir/coverage"

cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DOCTET_RTL_COVERAGE=ON >/dev/null
targets=$(cmake --build "$bdir" --target help | awk '/test_rtl_/ {print $2}')
# shellcheck disable=SC2086
cmake --build "$bdir" -j2 --target $targets
mkdir -p "$cov"
rm -f "$cov"/*.dat
ctest --test-dir "$bdir" -L rtl -j2 --output-on-failure >/dev/null
verilator_coverage --write "$cov/merged.dat" "$cov"/array_*.dat "$cov"/pe_*.dat
rm -rf "$cov/annotated"
verilator_coverage --annotate-all --annotate "$cov/annotated" "$cov/merged.dat" | tail -1

# Per-type totals: each record's page field is v_<type>/<module>.
python3 - "$cov/merged.dat" <<'PY'
import collections, re, sys
hit, total = collections.Counter(), collections.Counter()
for line in open(sys.argv[1], encoding="latin-1"):
    m = re.match(r"C '(.*)' (\d+)$", line.rstrip("\n"))
    if not m:
        continue
    fields = dict(f.split("\x02", 1) for f in m.group(1).split("\x01") if "\x02" in f)
    kind = fields.get("page", "?").split("/")[0].removeprefix("v_")
    total[kind] += 1
    hit[kind] += int(m.group(2)) > 0
for kind in sorted(total):
    print(f"{kind:8s} coverage: {hit[kind]}/{total[kind]} = {100.0 * hit[kind] / total[kind]:.1f}%")
PY
