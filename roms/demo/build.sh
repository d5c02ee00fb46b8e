#!/usr/bin/env bash
# Builds the Lockstep demo ROM with ca65/ld65 (Debian package cc65): bash roms/demo/build.sh [output.nes]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/demo.nes}"

# shellcheck source=/dev/null
source "$here/../ca65.sh"

ca65 --cpu 6502 -o "$work/demo.o" "$here/demo.s"
ld65 -C "$here/nrom.cfg" -o "$out" "$work/demo.o"
echo "built $out ($(wc -c <"$out") bytes)"
