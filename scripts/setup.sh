#!/usr/bin/env bash
# Installs everything Lockstep's tests need on a Debian/Ubuntu machine: system packages, then npm dependencies.
# Works as root (a container, CI: no sudo needed or present) and as a user with sudo (it elevates only apt-get).
# LOCKSTEP_SETUP_DRY_RUN=1 prints the commands that would change the machine instead of running them.
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
  if [ -n "${LOCKSTEP_SETUP_DRY_RUN:-}" ]; then echo "+ $*"; else "$@"; fi
}

# cc65: builds the demo ROM; fceux + lua-socket: the real emulator; chromium: webview and VS Code UI tests;
# python3-websockets: the Python trainer client without a venv; python3-venv: the project venv below;
# libkrb5-dev: code-server's native build (real VS Code tests).
PACKAGES=(cc65 fceux lua-socket chromium python3-websockets python3-venv libkrb5-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  elevate=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup: installing ${missing[*]} needs root: run this script as root, or install sudo" >&2
      exit 1
    fi
    elevate=(sudo)
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  run "${elevate[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  run "${elevate[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

echo "setup: npm ci"
run npm ci --no-audit --no-fund

# The Python trainer side (clients/python, examples/ray) is tested in a project venv: Gymnasium, numpy, websockets,
# Ray Core, PyTorch (CPU) and onnx, plus lockstep-client itself (editable, with its [gym] extra).
# A stamp of what was installed makes a rerun a no-op; --retries 0 because only the local wheel index answers offline.
VENV=.cache/venv
PY_PACKAGES=(gymnasium numpy websockets ray torch onnx)
want="$(printf '%s
' "${PY_PACKAGES[@]}"; sha256sum clients/python/pyproject.toml | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.lockstep-setup" 2>/dev/null)" = "$want" ] \
  && "$VENV/bin/python" -c 'import importlib.metadata as m, sys; [m.version(p) for p in sys.argv[1:]]' \
       "${PY_PACKAGES[@]}" lockstep-client 2>/dev/null; then
  echo "setup: Python venv up to date ($VENV)"
else
  echo "setup: Python venv ($VENV): ${PY_PACKAGES[*]} + clients/python[gym]"
  [ -x "$VENV/bin/python" ] || run python3 -m venv "$VENV"
  if ! run "$VENV/bin/pip" install -q --disable-pip-version-check --retries 0 "${PY_PACKAGES[@]}"; then
    # pip's own error names a package, not why: say where pip looked and what to change.
    echo "setup: pip could not install ${PY_PACKAGES[*]} for user $(id -un) from the package indexes it is configured with" \
      "(\"$VENV/bin/pip config list\" shows them); without internet, point pip at a local wheel index, e.g." \
      "\"pip config --user set global.extra-index-url file:///path/to/simple\", then run this script again" >&2
    exit 1
  fi
  run "$VENV/bin/pip" install -q --disable-pip-version-check --retries 0 --no-build-isolation -e "./clients/python[gym]"
  if [ -z "${LOCKSTEP_SETUP_DRY_RUN:-}" ]; then printf '%s' "$want" > "$VENV/.lockstep-setup"; fi
fi
