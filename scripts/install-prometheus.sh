#!/usr/bin/env bash
# Installs Debian's prometheus (with promtool) for `medchain monitor` and
# tests/monitor.rs. Idempotent and non-interactive; run as root (or with
# sudo available). The package's service is not started: medchain runs its
# own Prometheus per network, on loopback.
set -euo pipefail
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
echo "scripts/install-prometheus.sh: installing prometheus (Debian)" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus
