// Text formatting shared by the panels: milliseconds, buttons, clock times, hex and RAM dumps.
import { maskToNames } from '../core/buttons';

export function formatMs(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${v.toFixed(digits)} ms`;
}

export function formatButtons(mask: number): string {
  const names = maskToNames(mask);
  return names.length ? names.join('+') : '—';
}

/** Local wall-clock time with milliseconds, e.g. 14:03:27.412. */
export function clockTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(2)} %`;
}

/** 16 bytes a line: `$0000  A9 00 ...  ascii`, the way memory viewers show it. */
export function hexDump(bytes: Uint8Array, base = 0): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hexPart = Array.from(row, (b) => hex(b, 2)).join(' ').padEnd(47, ' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`$${hex(base + off, 4)}  ${hexPart}  ${ascii}`);
  }
  return lines.join('\n');
}
