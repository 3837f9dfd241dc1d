#!/usr/bin/env bash
# Installs the Debian packages the firmware's host build and tests need.
# Idempotent and non-interactive; run as root (or with sudo available).
set -euo pipefail

packages=(
  cmake
  ninja-build
  g++
  pkg-config
  libsecp256k1-dev    # bitcoin-core libsecp256k1 with the recovery and ECDH modules
  libsodium-dev       # libsodium: XChaCha20-Poly1305, HMAC-SHA256 (HKDF), SHA-256 for sealed readings
  nlohmann-json3-dev  # header-only JSON (the ESP32 build uses the same library)
  libgtest-dev        # GoogleTest, with its CMake package
  libssl-dev          # OpenSSL: esp32-host's https transport to a medchain gateway
  libmosquitto-dev    # libmosquitto: esp32-host's MQTT transport to the network's broker
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "firmware/install-deps.sh: all packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
echo "firmware/install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
