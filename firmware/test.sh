#!/usr/bin/env bash
# Configures and builds the firmware's host build (core, esp32-host, unit
# tests) with warnings as errors, then runs the tests. Exits non-zero on
# any failure. Build directory: $FIRMWARE_BUILD_DIR, default
# ~/.cache/medchain/firmware-build. Run install-deps.sh first on a new machine.
set -euo pipefail
cd "$(dirname "$0")"

build_dir="${FIRMWARE_BUILD_DIR:-$HOME/.cache/medchain/firmware-build}"
jobs="${FIRMWARE_JOBS:-2}"

# The cached build dir remembers the source path it was configured from; a
# checkout elsewhere (a CI clone) starts it afresh instead of failing.
cache="$build_dir/CMakeCache.txt"
if [ -f "$cache" ] && ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$(pwd -P)" "$cache"; then
  echo "firmware/test.sh: $build_dir was configured for another checkout; starting it afresh"
  rm -rf "$build_dir"
fi

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMEDCHAIN_WERROR=ON
cmake --build "$build_dir" --parallel "$jobs"
ctest --test-dir "$build_dir" --output-on-failure --parallel "$jobs" --timeout 120
