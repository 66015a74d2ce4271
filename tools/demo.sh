#!/usr/bin/env bash
# README command 1: set up, build, and run the main job on its embedded default:
#  1. octet-sim: one full training step of the small Fashion-MNIST ResNet on the default
#     accelerator (16x16 array): cycles, utilisation, memory traffic and energy per layer and
#     pass, integer vs FP32 baseline; report also in build/demo-sim.{json,csv,png};
#  2. octet-train: a short full-integer WAGEUBN training run beside its FP32 twin on Debian's
#     Fashion-MNIST (log in build/demo-train.json, curves in build/demo-train.png).
# Extra arguments go to octet-train (e.g. --epochs 10 --train-limit 0 for the full run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/bootstrap.sh"
"$root/tools/build.sh" --target octet-sim octet-train
"$root/build/bin/octet-sim" --json "$root/build/demo-sim.json" --csv "$root/build/demo-sim.csv" \
  --plot "$root/build/demo-sim.png"
echo
"$root/build/bin/octet-train" --mode both --epochs 1 --train-limit 6400 --test-limit 2000 \
  --log "$root/build/demo-train.json" "$@"
