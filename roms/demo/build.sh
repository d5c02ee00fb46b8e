#!/usr/bin/env bash
# Builds the Lockstep demo ROM with ca65/ld65 (Debian package cc65): bash roms/demo/build.sh [output.nes]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/demo.nes}"

for tool in ca65 ld65; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build.sh: $tool not found; install the cc65 package (apt-get install cc65)" >&2
    exit 127
  fi
done

# Objects go to a private temp dir so parallel builds (tests) never share intermediates.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ca65 --cpu 6502 -o "$work/demo.o" "$here/demo.s"
ld65 -C "$here/nrom.cfg" -o "$out" "$work/demo.o"
echo "built $out ($(wc -c <"$out") bytes)"
