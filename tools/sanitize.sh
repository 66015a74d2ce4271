#!/usr/bin/env bash
# The sanitizer run (CI): configures build-sanitize/ with -DOCTET_SANITIZE=ON (AddressSanitizer and
# UndefinedBehaviorSanitizer on our C++, cmake/sanitize.cmake), builds it and runs the golden, model
# and co-simulation suites (labels unit and cosim; not rtl, not slow). Any sanitizer report fails its
# test; the exit status is non-zero if the build or any test fails.
# Extra arguments go to ctest (e.g. -R test_golden_ to run a subset).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-sanitize"
jobs=$(nproc)
# Co-simulation here at the 8x8 array and both default lane counts (4 lanes: a 64-bit BN xhat
# bus is a uint64_t pin, 8 lanes: an sc_bv), which covers the wrappers' code paths; the larger
# arrays cost build minutes and run in the default suite.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOCTET_SANITIZE=ON \
  -DOCTET_COSIM_ARRAYS=8x8 -DOCTET_COSIM_LANES="4;8" >/dev/null
cmake --build "$build" -j"$jobs"
# Not here: the model and cosim tests whose simulation ends in an exception. ASan (GCC 12) loses
# the stack bounds once SystemC's QuickThreads coroutines have run ("ignoring requested
# __asan_handle_no_return"), and unwinding then gives a false stack-buffer-overflow or
# stack-use-after-scope in its own sigaltstack check; detect_stack_use_after_return=0 (already
# the default) and use_sigaltstack=0 do not avoid it. They run in the default suite.
exclude='ModelTiming\.(ConvRowBeyondInt64IsRefused|GemmRowBeyondInt64IsRefused|DramTransferBeyondTheClockIsRefused)'
exclude+='|ModelFunctional\.UnitErrorEndsTheStepAndTheModelRecovers|ModelSchedule\.UnitErrorEndsTheConcurrentStepAndTheModelRecovers|Cosim(Units|Step)\..*MismatchStops'  # every co-simulation test that stops on an injected mismatch
# Not here either: octet_train_mpi_* (mpirun with 2-5 ranks): the data-parallel golden code they
# drive runs sanitized in test_golden_data_parallel (thread shards), and the MPI library is not
# instrumented; they run in the default suite.
exclude+='|octet_train_mpi_'
ctest --test-dir "$build" -L 'unit|cosim' -LE slow -E "$exclude" --output-on-failure -j"$jobs" "$@"
