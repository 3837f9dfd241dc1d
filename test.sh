#!/usr/bin/env bash
# Runs every test: formatting, lints, unit tests and the end-to-end tests on
# real geth (provisioned on demand into ~/.cache/medchain) and in Docker.
set -euo pipefail
cd "$(dirname "$0")"
target_dir="${CARGO_TARGET_DIR:-target}"
cargo fmt --check
# Contract artifacts must reproduce byte for byte from the pinned solc.
(cd contracts && npm ci --silent --no-audit --no-fund && node build.js --check)
# Independent FHIR validator and CID implementation for tests/privacy_formats.rs.
(cd tools/privacy-check && npm ci --silent --no-audit --no-fund)
# The console's in-page wallet: its committed bundle must rebuild byte for
# byte, and open what the Rust code seals (the firmware vectors).
(cd web/wallet && npm ci --silent --no-audit --no-fund && node build.js --check && node --test test.mjs)
# playwright-core (no bundled browser) drives Debian's Chromium for tests/serve.rs.
(cd tools/console-check && npm ci --silent --no-audit --no-fund)
cargo clippy --all-targets --locked -- -D warnings
cargo build --locked --bin medchain
"$target_dir/debug/medchain" geth install >/dev/null
# toxiproxy for the delay and bandwidth faults (tests/faults_links.rs).
"$target_dir/debug/medchain" toxiproxy install >/dev/null
# Docker runtime tests need an engine: start one when none answers (and stop
# it again on exit), then build the offline geth images (never pulled).
scripts/docker-engine.sh install
scripts/install-services.sh
if [ "$(scripts/docker-engine.sh start)" = started ]; then
  trap 'scripts/docker-engine.sh stop' EXIT
fi
"$target_dir/debug/medchain" image build >/dev/null
# Firmware: Rust-generated vectors must still match, then the C++ host
# build and tests (which also build esp32-host for tests/device.rs).
cargo run --quiet --locked --example firmware_vectors -- --check firmware/test/vectors.json
firmware/test.sh
cargo test --locked --lib --bins --tests
