#!/usr/bin/env bash
# Configures and builds the firmware's host build (core, esp32-host, unit
# tests) with warnings as errors, then runs the tests. Exits non-zero on
# any failure. Build directory: $FIRMWARE_BUILD_DIR, default
# ~/.cache/medchain/firmware-build. Run install-deps.sh first on a new machine.
set -euo pipefail
cd "$(dirname "$0")"

build_dir="${FIRMWARE_BUILD_DIR:-$HOME/.cache/medchain/firmware-build}"
jobs="${FIRMWARE_JOBS:-2}"

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMEDCHAIN_WERROR=ON
cmake --build "$build_dir" --parallel "$jobs"
ctest --test-dir "$build_dir" --output-on-failure --parallel "$jobs" --timeout 120
