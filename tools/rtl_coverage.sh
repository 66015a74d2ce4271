#!/usr/bin/env bash
# RTL coverage: builds the rtl testbenches with Verilator --coverage in a separate tree
# (default ./build-cov, -DOCTET_RTL_COVERAGE=ON; the default build is untouched), runs them
# (label rtl), merges the per-process coverage files of every unit and reports line and
# toggle coverage per RTL file and per type. Annotated sources land in <build dir>/coverage/annotated.
# Usage: tools/rtl_coverage.sh [build dir [extra cmake configure args...]]
#   e.g. tools/rtl_coverage.sh build-cov -DOCTET_ARRAY_SIZES=4x4 (fewer array verilations)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bdir=${1:-$root/build-cov}
shift || true
cov=$bdir/coverage
cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DOCTET_RTL_COVERAGE=ON "$@" >/dev/null
targets=$(cmake --build "$bdir" --target help | awk '/test_rtl_/ {print $2}')
# shellcheck disable=SC2086
cmake --build "$bdir" -j2 --target $targets
mkdir -p "$cov"
rm -f "$cov"/*.dat
ctest --test-dir "$bdir" -L rtl -j2 --output-on-failure >"$bdir/coverage-ctest.log" || {
  cat "$bdir/coverage-ctest.log"; exit 1; }
tail -n 3 "$bdir/coverage-ctest.log"
verilator_coverage --write "$cov/merged.dat" "$cov"/*.dat
rm -rf "$cov/annotated"
verilator_coverage --annotate-all --annotate "$cov/annotated" "$cov/merged.dat" | tail -1
python3 "$root/tools/rtl_coverage_report.py" "$cov/merged.dat"
