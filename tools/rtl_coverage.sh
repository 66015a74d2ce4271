#!/usr/bin/env bash
# RTL coverage: builds the rtl testbenches with Verilator --coverage in a separate tree
# (default ./build-cov, -DOCTET_RTL_COVERAGE=ON; the default build is untouched), runs them
# (label rtl) and reports line, branch and toggle coverage per hardware unit, the systolic
# array once per built size (OCTET_ARRAY_SIZES). tools/bootstrap.sh installs lcov.
# Output in <build dir>/coverage:
#   merged.dat             all benches' points (verilator_coverage --write)
#   merged.info            lcov tracefile of every RTL file: line records from
#                          verilator_coverage --write-info, branch records added by
#                          tools/rtl_coverage_report.py (5.006 writes none)
#   units/<unit>.info      the same, one unit's files and benches (lcov --extract)
#   units/<unit>.dat       that unit's benches' points, merged
#   units/<unit>.untoggled the unit's toggle points that never toggled, per signal
#   html/index.html        genhtml report of merged.info (line and branch)
#   summary.csv, .json     the table printed at the end
#   annotated/             verilator_coverage --annotate-all sources (every point, toggle too)
# Line = source lines of Verilator line (block) points, covered when every block on the
# line ran; branch = if/else arms; both summed over instances and configurations. Toggle =
# one point per signal bit and module instance (a generate loop's instances share one; lcov
# has no toggle records).
# Usage: tools/rtl_coverage.sh [--report-only] [build dir [extra cmake configure args...]]
#   e.g. tools/rtl_coverage.sh build-cov -DOCTET_ARRAY_SIZES=4x4 (fewer array verilations)
#   --report-only: no build and no test run, only the report of the .dat files already there
#   (e.g. after running single tests of the coverage tree by hand).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
report_only=0
if [[ ${1:-} == --report-only ]]; then report_only=1; shift; fi
bdir=${1:-$root/build-cov}
shift || true
cov=$bdir/coverage
report=$root/tools/rtl_coverage_report.py
"$root/tools/bootstrap.sh"  # verilator, lcov (genhtml)
if ((!report_only)); then
  cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DOCTET_RTL_COVERAGE=ON "$@" >/dev/null
  targets=$(cmake --build "$bdir" --target help | awk '/test_rtl_/ {print $2}')
  # shellcheck disable=SC2086
  cmake --build "$bdir" -j2 --target $targets
  mkdir -p "$cov"
  rm -f "$cov"/*.dat
  ctest --test-dir "$bdir" -L rtl -j2 --output-on-failure >"$bdir/coverage-ctest.log" || {
    cat "$bdir/coverage-ctest.log"; exit 1; }
  tail -n 3 "$bdir/coverage-ctest.log"
fi
rm -rf "$cov/merged.dat" "$cov/units" "$cov/html" "$cov/annotated"

lcov_rc=(--rc lcov_branch_coverage=1)
# lcov tracefile of the given .dat files: line records from verilator_coverage (line points
# only: in 5.006 it folds every point of a line, toggle and branch too, into that line's
# count), branch records from the script.
write_info() {
  local out=$1; shift
  verilator_coverage --write "$out.dat" "$@"
  grep -a -e '^#' -e $'page\002v_line' "$out.dat" >"$out.line.dat" || true
  verilator_coverage --write-info "$out" "$out.line.dat"
  python3 "$report" branches "$out" "$out.dat"
  rm -f "$out.line.dat"
}

write_info "$cov/merged.info" "$cov"/*.dat
mv "$cov/merged.info.dat" "$cov/merged.dat"
verilator_coverage --annotate-all --annotate "$cov/annotated" "$cov/merged.dat" >/dev/null
genhtml --quiet "${lcov_rc[@]}" --branch-coverage --prefix "$root" --title "Octet RTL coverage" \
  -o "$cov/html" "$cov/merged.info"

# Units: name | .dat files (benches) | RTL file names (shell globs for lcov, a regex for toggle).
units=()
read -r -a sizes <<<"$(sed -n 's/^OCTET_ARRAY_SIZES:[A-Z]*=//p' "$bdir/CMakeCache.txt" | tr ';' ' ')"
for size in "${sizes[@]}"; do
  units+=("systolic_array_$size|array_${size}_*.dat|pe.sv delay_line.sv systolic_array.sv")
done
units+=("pe|pe_*.dat|pe.sv"
  "shift_quantizer|sq_*.dat|sq_*.sv round_log2.sv shift_quantizer.sv"
  "bn_unit|bn_l*.dat|bn_*.sv"
  "optimizer_unit|optimizer_l*.dat|optimizer_unit.sv"
  "vector_unit|vector_unit_l*.dat|vu_*.sv vector_unit.sv octet_softmax_table.sv")
mkdir -p "$cov/units"
echo "unit,line_hit,line_found,branch_hit,branch_found,toggle_hit,toggle_found" >"$cov/summary.csv"
for unit in "${units[@]}"; do
  IFS='|' read -r name glob files <<<"$unit"
  # shellcheck disable=SC2206
  dats=($cov/$glob)
  [[ -e ${dats[0]} ]] || { echo "rtl_coverage.sh: no coverage files $cov/$glob for unit $name" >&2; exit 1; }
  patterns=() regex=""
  for f in $files; do
    patterns+=("*/$f")
    regex+="${regex:+|}$(sed 's/\./\\./g; s/\*/.*/g' <<<"$f")"
  done
  info=$cov/units/$name.info
  write_info "$info.all" "${dats[@]}"
  lcov --quiet "${lcov_rc[@]}" --extract "$info.all" "${patterns[@]}" -o "$info"
  mv "$info.all.dat" "$cov/units/$name.dat"
  rm -f "$info.all"
  summary=$(lcov "${lcov_rc[@]}" --summary "$info" 2>&1)
  count() { sed -n "s/^ *$1\.*: [0-9.]*% (\([0-9]*\) of \([0-9]*\) .*/\1,\2/p" <<<"$summary"; }
  lines=$(count lines) branches=$(count branches)
  read -r thit tfound < <(python3 "$report" toggle "$regex" "$cov/units/$name.untoggled" "$cov/units/$name.dat")
  echo "$name,${lines:-0,0},${branches:-0,0},$thit,$tfound" >>"$cov/summary.csv"
done
python3 "$report" table "$cov/summary.csv" "$cov/summary.json"
echo "report: $cov/html/index.html; table: $cov/summary.csv, $cov/summary.json; untoggled bits: $cov/units/*.untoggled"
