// Fingerprints of machine state (RAM, screens) used in summaries, recordings and determinism checks.
import { createHash, hash } from 'node:crypto';

export function ramHash(ram: Uint8Array): string {
  return createHash('sha256').update(ram).digest('hex');
}

/**
 * Short fingerprint for per-frame records (first 16 hex digits of SHA-256). Taken every frame, so through the one-shot
 * hash(), which skips the Hash object createHash() builds (a third of the cost on 2 KB of RAM); same digest.
 */
export function shortHash(bytes: Uint8Array): string {
  return sha256Hex(bytes).slice(0, 16);
}

/** hash() is missing from the Node of older VS Code extension hosts (before Node 20.12): createHash() there. */
const sha256Hex: (bytes: Uint8Array) => string = typeof hash === 'function'
  ? (bytes) => hash('sha256', bytes, 'hex')
  : (bytes) => createHash('sha256').update(bytes).digest('hex');

/** SHA-256 of work RAM without the CPU stack page $0100-$01FF (see EpisodeManifest.finalRamSha256NoStack). */
export function ramHashNoStack(ram: Uint8Array): string {
  const rest = new Uint8Array(ram.length - Math.min(ram.length, 0x200) + Math.min(ram.length, 0x100));
  rest.set(ram.subarray(0, 0x100));
  if (ram.length > 0x200) rest.set(ram.subarray(0x200), 0x100);
  return ramHash(rest);
}
