#!/usr/bin/env bash
# README command 1: set up, build, and run the main job on its embedded default: a short
# full-integer WAGEUBN training run beside its FP32 twin on Debian's Fashion-MNIST.
# Extra arguments go to octet-train (e.g. --epochs 10 --train-limit 0 for the full run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/bootstrap.sh"
"$root/tools/build.sh" --target octet-train
"$root/build/bin/octet-train" --mode both --epochs 1 --train-limit 6400 --test-limit 2000 \
  --log "$root/build/demo-train.json" "$@"
