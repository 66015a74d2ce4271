#!/usr/bin/env bash
# RTL coverage: builds the rtl testbenches with Verilator --coverage in a separate tree
# (default ./build-cov, -DOCTET_RTL_COVERAGE=ON), runs them (label rtl), merges the
# per-process coverage files and reports line and toggle coverage per RTL file.
# Usage: tools/rtl_coverage.sh [build dir]. Annotated sources land in <build dir>/coverage/annotated.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bdir=${1:-$root/build-cov}
cov=$bdir/coverage
cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DOCTET_RTL_COVERAGE=ON >/dev/null
cmake --build "$bdir" -j2
rm -f "$cov"/*.dat
ctest --test-dir "$bdir" -L rtl -j2 --output-on-failure >"$bdir/coverage-ctest.log" || {
  cat "$bdir/coverage-ctest.log"; exit 1; }
tail -n 3 "$bdir/coverage-ctest.log"
verilator_coverage --write "$cov/merged.dat" "$cov"/sq_*.dat
rm -rf "$cov/annotated"
verilator_coverage --annotate "$cov/annotated" --annotate-min 1 "$cov/merged.dat" >/dev/null
python3 "$root/tools/rtl_coverage_report.py" "$cov/merged.dat"
