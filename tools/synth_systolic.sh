#!/usr/bin/env bash
# Generic Yosys synthesis (no technology library) of one PE and of a Rows x Cols systolic
# array; prints the cell statistics. Not part of the tests.
# usage: tools/synth_systolic.sh [rows] [cols]   (default 16 16); logs in build/synth/
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-16}
cols=${2:-16}
out="$root/build/synth"
mkdir -p "$out"
rtl="$root/rtl"
read_rtl="read_verilog -sv $rtl/octet_pkg.sv $rtl/delay_line.sv $rtl/pe.sv $rtl/systolic_array.sv"

yosys -q -l "$out/pe.log" -p "$read_rtl; synth -top pe; tee -o $out/pe_stat.txt stat"
# The array keeps its hierarchy: Yosys synthesizes pe once and `stat -top` sums the instances.
yosys -q -l "$out/array_${rows}x${cols}.log" -p "$read_rtl; \
  chparam -set Rows $rows -set Cols $cols systolic_array; synth -top systolic_array; \
  tee -o $out/array_${rows}x${cols}_stat.txt stat"
echo "== pe"; sed -n '/Number of cells/,/^$/p' "$out/pe_stat.txt"
echo "== systolic_array ${rows}x${cols}"; sed -n '/design hierarchy/,$p' "$out/array_${rows}x${cols}_stat.txt"
