#!/usr/bin/env bash
# Builds the power-on probe test ROMs with ca65/ld65 (Debian package cc65): bash roms/test/build.sh [output-folder]
# poweron.nes is the probe; trailing.nes is the same image with 4 KiB past what its header declares; prgram.nes keeps
# its state in PRG-RAM and known values in the CPU registers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here}"

# shellcheck source=/dev/null
source "$here/../ca65.sh"

ca65 --cpu 6502 -o "$work/poweron.o" "$here/poweron.s"
ld65 -C "$here/nrom.cfg" -o "$out/poweron.nes" "$work/poweron.o"
ld65 -C "$here/trailing.cfg" -o "$out/trailing.nes" "$work/poweron.o"
ca65 --cpu 6502 -o "$work/prgram.o" "$here/prgram.s"
ld65 -C "$here/nrom.cfg" -o "$out/prgram.nes" "$work/prgram.o"
echo "built $out/poweron.nes ($(wc -c <"$out/poweron.nes") bytes), $out/trailing.nes ($(wc -c <"$out/trailing.nes") bytes) and $out/prgram.nes ($(wc -c <"$out/prgram.nes") bytes)"
