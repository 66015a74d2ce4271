#!/usr/bin/env bash
# Installs the Debian packages Octet needs. Idempotent: returns at once when all are present.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  verilator libsystemc-dev
  libgtest-dev libfmt-dev libcli11-dev nlohmann-json3-dev zlib1g-dev libbenchmark-dev
  libjpeg62-turbo-dev  # golden/image_folder.cpp decodes ImageNet-layout JPEGs
  libopenmpi-dev openmpi-bin  # data-parallel octet-train (mpirun, tools/mpi_session.cpp)
  dataset-fashion-mnist
  yosys python3-matplotlib
  clang libclang-rt-14-dev  # tools/fuzz.sh: libFuzzer harnesses of the parsers
  lcov  # tools/rtl_coverage.sh: lcov tracefiles, summaries and genhtml's HTML report
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
