// Fingerprints of machine state (RAM, screens) used in summaries, recordings and determinism checks.
import { createHash } from 'node:crypto';

export function ramHash(ram: Uint8Array): string {
  return createHash('sha256').update(ram).digest('hex');
}

/** Short fingerprint for per-frame records (first 16 hex digits of SHA-256). */
export function shortHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
