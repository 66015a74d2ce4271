#!/bin/sh
# Malformed and extreme inputs to octet-sim, octet-netinfo, octet-quantize and
# octet-fp32-bench (issue #11): each must exit 2 with exactly one line on stderr starting
# "<program>: error: ", print nothing on stdout, and leave no output file behind.
# Usage: bad_inputs.sh BIN_DIR  (fast: every case is refused before any work).
set -u
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
mkdir adir
mkfifo fifo
out="$work/out"   # every case that writes names this (or a file in it); it must stay absent
tried=0 failed=0

# expect PROGRAM ARGS...: exit 2, one stderr line "PROGRAM: error: ...", empty stdout, no $out*.
expect() {
  prog=$1; shift
  tried=$((tried + 1))
  # A runaway (the old behaviour of maximal sizes) fails instead of hanging the suite.
  timeout "${BAD_INPUT_TIMEOUT:-60}" "$bin/$prog" "$@" >stdout.txt 2>stderr.txt
  rc=$?
  lines=$(wc -l <stderr.txt)
  if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || [ -s stdout.txt ] || ! grep -q "^$prog: error: " stderr.txt ||
     ls "$out"* >/dev/null 2>&1; then
    failed=$((failed + 1))
    echo "FAIL ($rc, $lines lines): $prog $*" | cut -c1-300
    head -c 600 stderr.txt; head -c 300 stdout.txt
    rm -rf "$out"*
  fi
}

# Inputs.
printf 'Layer Name, M, N, K,\nfc, 2147483648, 2147483648, 2147483648,\n' >gemm_max.csv
printf 'Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\na, 2147483648, 2147483648, 2147483648, 2147483648, 2147483648, 2147483648, 1,\n' >conv_max.csv
printf 'Layer Name, M, N, K,\nfc, 16384, 16384, 4096,\n' >gemm_big.csv
printf 'Layer Name, M, N, K,\ncaf\351, 4, 4, 4,\n' >latin1.csv
printf 'Layer Name, M, N, K,\nfc, 4, \001\377\033[2J, 4,\n' >garbage.csv
printf 'Layer Name, M, N, K,\nfc, 4, 4\000, 4,\n' >nul.csv
{ printf 'Layer Name, M, N, K,\nfc, 4, '; head -c 100000 /dev/zero | tr '\0' 9; printf ', 4,\n'; } >long.csv
printf 'Layer Name, M, N, K,\nfc, -4, 4, 4,\n' >negative.csv
printf 'Layer Name, M, N, K,\nfc, 4, 4, 4, 4,\n' >extra.csv
printf 'Layer Name, M, N, K,\n' >header_only.csv
head -c 3000 /dev/urandom >random.bin
printf '[architecture_presets]\nBandwidth: 1e-300\n' >bw_tiny.cfg
printf '[architecture_presets]\nBandwidth: 1e300\n' >bw_huge.cfg
printf '[architecture_presets]\nBandwidth: nan\n' >bw_nan.cfg
printf '[architecture_presets]\nArrayHeight: 65536\n' >array_big.cfg
printf '[architecture_presets]\nIfmapSramSzkB: 99999999999999999999\n' >sram_huge.cfg
printf '[architecture_presets]\nDataflow: ws\n' >ws.cfg
printf '[general]\nrun_name = caf\351\n' >name_latin1.cfg
printf 'ArrayHeight: 4\n' >nosection.cfg
printf '{"actions": {"dram_byte": 1e400}}' >e_1e400.json
printf '{"actions": {"dram_byte": 1e308}}' >e_1e308.json
printf '{"actions": {"dram_byte": -1}}' >e_neg.json
printf '{"actions": {"dram_byte": "x"}}' >e_str.json
printf '{"actions": {"dram_byte": 1,}}' >e_syntax.json
printf '{"actions": {"caf\351": 1}}' >e_latin1.json
printf 'network t\ninput x 65536x65536x65536\nlinear fc x out=65536\n' >huge_linear.net
printf 'network t\ninput x 65536x65536x65536\nconv c x out=65536 k=1\nbnrelu a c\nlinear fc a out=2\n' >huge_conv.net
printf 'network t\ninput x 1x4096x4096\nconv c x out=64 k=3 p=1\nbnrelu a c\nlinear fc a out=2\n' >wide.net
printf 'network t\ninput x 1x65536x65536\nconv c x out=65536 k=1\nbnrelu a c\nlinear fc a out=1\n' >macs49.net
printf 'network caf\351\ninput x 1x4x4\nlinear fc x out=2\n' >latin1.net
printf 'network t\ninput x 1x4x4\nrel\000u a x\nlinear fc a out=2\n' >nul.net
printf '1 2 3 x\n' >payload_bad.txt
printf '1 2 99999999999999999999\n' >payload_huge.txt
printf '1 2 1099511627776\n' >payload_2p40.txt
: >empty.txt

# octet-sim
for f in gemm_max.csv conv_max.csv latin1.csv garbage.csv nul.csv long.csv negative.csv extra.csv header_only.csv random.bin; do
  expect octet-sim --quiet --topology "$f" --json "$out.json"
done
expect octet-sim --quiet --topology gemm_big.csv --max-memory 0.5 --json "$out.json"
expect octet-sim --quiet --topology gemm_big.csv --batch 4096 --json "$out.json"
expect octet-sim --quiet --topology adir --json "$out.json"
expect octet-sim --quiet --topology /nonexistent.csv --json "$out.json"
for f in bw_tiny.cfg bw_huge.cfg bw_nan.cfg array_big.cfg sram_huge.cfg ws.cfg name_latin1.cfg nosection.cfg random.bin adir; do
  expect octet-sim --quiet --config "$f" --json "$out.json"
done
for f in e_1e400.json e_1e308.json e_neg.json e_str.json e_syntax.json e_latin1.json adir random.bin; do
  expect octet-sim --quiet --energy "$f" --csv "$out.csv"
done
for f in huge_linear.net huge_conv.net latin1.net nul.net adir random.bin; do
  expect octet-sim --quiet --network "$f" --json "$out.json"
done
expect octet-sim --quiet --network wide.net --functional --batch 64 --max-memory 100000 --json "$out.json"
expect octet-sim --quiet --network wide.net --functional --batch 64 --json "$out.json"
expect octet-sim --quiet --json adir
expect octet-sim --quiet --csv adir
# Not /dev/null: a program that renames its report over a device would replace it (as root).
expect octet-sim --quiet --json fifo
expect octet-sim --quiet --json "$out/none/r.json"
expect octet-sim --quiet --array 0x4
expect octet-sim --quiet --array 99999999999999999999x4
expect octet-sim --quiet --batch 0
expect octet-sim --quiet --schedule parallel
expect octet-sim --quiet --schedule
expect octet-sim --quiet --batch 99999999999
expect octet-sim --quiet --threads -1
expect octet-sim --quiet --max-memory -1
expect octet-sim --quiet --no-such-option
expect octet-sim --quiet --seed -1
expect octet-sim --quiet --topology latin1.csv --network wide.net
# octet-netinfo
for f in huge_linear.net huge_conv.net latin1.net nul.net adir random.bin empty.txt /nonexistent.net; do
  expect octet-netinfo "$f"
done
expect octet-netinfo macs49.net --batch 1048576
expect octet-netinfo wide.net --batch 0
# octet-quantize
expect octet-quantize --exp 2147483647
expect octet-quantize --exp -2147483648
expect octet-quantize --bits 99
expect octet-quantize --gscale-log2 63
expect octet-quantize --elements 0
for f in payload_bad.txt payload_huge.txt payload_2p40.txt empty.txt adir random.bin /nonexistent.txt; do
  expect octet-quantize --input "$f" --json "$out.json"
done
expect octet-quantize --json adir
expect octet-quantize --seed -1
# octet-fp32-bench
for f in huge_linear.net huge_conv.net latin1.net adir random.bin; do
  expect octet-fp32-bench "$f"
done
expect octet-fp32-bench wide.net --batch 4096 --max-memory 1
expect octet-fp32-bench wide.net --threads -3
expect octet-fp32-bench wide.net --steps 0
expect octet-fp32-bench wide.net --seed -1
expect octet-fp32-bench

echo "$((tried - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
