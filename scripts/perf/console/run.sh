#!/usr/bin/env bash
# The console's first load and block-to-page delay (docs/performance.md,
# issue 17) on a fresh two-hospital network (1 s Clique blocks): brings it
# up, starts `medchain serve` on loopback, runs
# tools/console-check/perf.mjs in headless Chromium, then stops the
# console and purges the network it started.
#
#   M=<medchain binary> scripts/perf/console/run.sh [loads] [blocks]
#
# Work files go to $WORK (default /tmp/console-perf).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
: "${M:?set M to a medchain binary}"
work="${WORK:-/tmp/console-perf}"
mkdir -p "$work"
export MEDCHAIN_HOME="$work/home" MEDCHAIN_RUNTIME=process
cat > "$work/medchain.yaml" <<'YAML'
network: console-perf
chain_id: 48190
block_period: 1
hospitals:
  - {name: north, sealers: 1, members: 1}
  - {name: south, sealers: 0, members: 1}
YAML
cd "$work"
"$M" up --seed 90 --quiet
cleanup() {
  [[ -n "${serve_pid:-}" ]] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  "$M" down --purge >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$M" serve --listen 127.0.0.1:0 > "$work/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do grep -q " listening on " "$work/serve.out" && break; sleep 0.2; done
url="$(grep -o ' listening on [^ ]*' "$work/serve.out" | head -1 | awk '{print $3}')"
rpc="$("$M" status --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(next(n["rpc"] for n in s["nodes"] if n.get("rpc")))')"
node "$root/tools/console-check/perf.mjs" "$url" "$rpc" "${1:-10}" "${2:-20}"
