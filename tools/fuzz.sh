#!/usr/bin/env bash
# Builds the libFuzzer harnesses of every parser (testbench/fuzz/, clang with AddressSanitizer
# and UndefinedBehaviorSanitizer) in ./build-fuzz and runs them (docs/user-guide.md, "Fuzzing").
#   tools/fuzz.sh --short [TARGET...]          each fuzzer for a fixed number of inputs (CI)
#   tools/fuzz.sh --long SECONDS [TARGET...]   each fuzzer for SECONDS (label slow; long hunts)
#   tools/fuzz.sh --build                      only build
# Targets: topology scalesim_cfg network_desc energy_table checkpoint idx jpeg (default: all).
# Each run reads testbench/fuzz/corpus/<target>/ and regressions/<target>/ (never writes them);
# new coverage goes to build-fuzz/work/<target>/ (kept between --long runs), crash inputs to
# build-fuzz/findings/<target>/. Exit status 0 when every fuzzer ran clean, 1 on a finding.
# Environment: OCTET_FUZZ_BUILD (build tree, default ./build-fuzz), OCTET_FUZZ_RUNS (inputs per
# fuzzer for --short, default 20000), OCTET_FUZZ_SEED (libFuzzer -seed; default random).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${OCTET_FUZZ_BUILD:-$root/build-fuzz}
all_targets=(topology scalesim_cfg network_desc energy_table checkpoint idx jpeg)

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
mode=${1:-}
shift || true
seconds=
case "$mode" in
  --short | --build) ;;
  --long)
    seconds=${1:-}
    [[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --long needs a number of seconds" >&2; exit 2; }
    shift ;;
  *) usage ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (${all_targets[*]})" >&2; exit 2; }
done

# Only the fuzzers and the two parser libraries are built; -O1 and line tables, the usual
# libFuzzer trade-off between speed and readable reports; libstdc++'s own bounds checks on;
# -Wno-pass-failed: at -O1 the FP32 layers' "omp simd" loops are not vectorized, harmlessly.
start=$(date +%s)
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DOCTET_LIBFUZZER=ON -DOCTET_WERROR=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_CXX_FLAGS="-D_GLIBCXX_ASSERTIONS -Wno-pass-failed" >/dev/null
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")
echo "fuzz.sh: built in $(($(date +%s) - start)) s"
[ "$mode" = --build ] && exit 0

fuzz_dir=$root/testbench/fuzz
# Limits: an input's run over 10 s is a hang, one allocation over 512 MiB or 2 GiB resident
# is a finding (no parser needs that for a small input); inputs up to 16 KiB.
common=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=16384 -print_final_stats=1)
[ -n "${OCTET_FUZZ_SEED:-}" ] && common+=(-seed="$OCTET_FUZZ_SEED")
if [ "$mode" = --short ]; then
  budget=(-runs="${OCTET_FUZZ_RUNS:-20000}")
else
  budget=(-max_total_time="$seconds")
fi
failed=()
for t in "${targets[@]}"; do
  work=$build/work/$t findings=$build/findings/$t
  [ "$mode" = --short ] && rm -rf "$work"  # a short run starts from the repository's corpus only
  mkdir -p "$work" "$findings"
  dict=()
  [ -f "$fuzz_dir/dict/$t.dict" ] && dict=(-dict="$fuzz_dir/dict/$t.dict")
  corpora=("$fuzz_dir/corpus/$t")
  [ -d "$fuzz_dir/regressions/$t" ] && corpora+=("$fuzz_dir/regressions/$t")
  t0=$(date +%s)
  log=$build/fuzz_$t.log
  if "$build/bin/fuzz_$t" "${common[@]}" "${budget[@]}" "${dict[@]}" -artifact_prefix="$findings/" \
      "$work" "${corpora[@]}" >"$log" 2>&1; then
    status=clean
  else
    status=FINDING
    failed+=("$t")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "fuzz.sh: $t: $status, ${execs:-?} inputs in $(($(date +%s) - t0)) s (log $log)"
  if [ "$status" = FINDING ]; then
    grep -m1 -E "ERROR|runtime error|terminate called|deadly signal|out-of-memory|timeout" "$log" >&2 || true
    ls "$findings" >&2
  fi
done
echo "fuzz.sh: total $(($(date +%s) - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in: ${failed[*]} (inputs in $build/findings/; add them to testbench/fuzz/regressions/)" >&2
  exit 1
fi
