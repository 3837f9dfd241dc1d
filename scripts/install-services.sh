#!/usr/bin/env bash
# Installs the Debian services medchain runs next to a network: prometheus
# (with promtool) for `medchain monitor`, prometheus-pushgateway for `bench
# --pushgateway` (and its test), mosquitto (with mosquitto_passwd) for
# `medchain broker`; chromium (headless, with chromium-driver) for the web
# console's browser test (tests/serve.rs). Idempotent and non-interactive; run as root (or
# with sudo available). The packages' own services are not used: medchain
# starts one instance per network, on loopback.
set -euo pipefail
missing=()
for pair in prometheus:prometheus promtool:prometheus prometheus-pushgateway:prometheus-pushgateway mosquitto:mosquitto mosquitto_passwd:mosquitto chromium:chromium chromedriver:chromium-driver; do
  tool="${pair%%:*}" package="${pair##*:}"
  if ! command -v "$tool" >/dev/null && ! [ -x "/usr/sbin/$tool" ]; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "scripts/install-services.sh: installing ${missing[*]} (Debian)" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
