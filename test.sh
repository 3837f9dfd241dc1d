#!/usr/bin/env bash
# Runs every test: formatting, lints, unit tests and the end-to-end tests on
# real geth (provisioned on demand into ~/.cache/medchain).
set -euo pipefail
cd "$(dirname "$0")"
target_dir="${CARGO_TARGET_DIR:-target}"
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo build --locked --bin medchain
"$target_dir/debug/medchain" geth install >/dev/null
cargo test --locked -- --test-threads=1
