#!/usr/bin/env bash
# Installs everything Lockstep's tests need on a Debian/Ubuntu machine: system packages, then npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# cc65: builds the demo ROM; fceux + lua-socket: the real emulator; chromium: webview and VS Code UI tests;
# python3-websockets: the Python trainer client; libkrb5-dev: code-server's native build (real VS Code tests).
PACKAGES=(cc65 fceux lua-socket chromium python3-websockets libkrb5-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages present"
fi

echo "setup: npm ci"
npm ci --no-audit --no-fund
