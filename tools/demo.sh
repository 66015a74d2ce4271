#!/usr/bin/env bash
# README command 1: set up, build, and run the main job on its embedded default.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/bootstrap.sh"
"$root/tools/build.sh" --target octet-quantize
"$root/build/bin/octet-quantize" "$@"
