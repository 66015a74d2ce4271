#!/usr/bin/env bash
# README command 2: set up, build, and run the default test suite (labels unit, rtl, cosim).
# `tools/test.sh --slow` runs only the long suites (label slow); `--all` runs everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
select=(-LE slow)
case "${1:-}" in
  --slow) select=(-L slow) ;;
  --all) select=() ;;
  "") ;;
  *) echo "test.sh: unknown option '$1' (use --slow or --all)" >&2; exit 2 ;;
esac
"$root/tools/bootstrap.sh"
"$root/tools/build.sh"
ctest --test-dir "$root/build" "${select[@]}" --output-on-failure -j"$(nproc)"
