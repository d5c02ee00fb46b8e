// Small pure helpers both frame drivers share: frame fingerprints, a recovery plan's description, an interruptible sleep.
import { hasScreen, type EmulatorFrame } from '../ports';
import type { RecoveryPlan } from '../sync/recovery';
import { shortHash } from '../episodes/ramHash';

/**
 * Compact fingerprints of the state a frame started from: RAM always (2 KB, a few microseconds), the screen only when
 * `screen` (the run is recorded) and one was captured. The screen's is SHA-256 of 240 KB of RGBA, which also makes an
 * FCEUX screen convert from gd: about 0.3 ms of CPU per frame on a 2-core machine, as much as the whole round trip
 * without screens. Only a recording reads it (episodeWriter's screenHash), so a run that records nothing (a debugging
 * session, a bench, serve without --out) never pays it. Kept SHA-256 rather than a cheaper hash so recordings made
 * before and after compare by the same fingerprints.
 */
export function fingerprints(f: EmulatorFrame, screen: boolean): { ramFingerprint: string; screenFingerprint?: string } {
  return screen && hasScreen(f) ? { ramFingerprint: shortHash(f.ram), screenFingerprint: shortHash(f.screen!) } : { ramFingerprint: shortHash(f.ram) };
}

export function describePlan(plan: RecoveryPlan): string {
  return plan.actions.join('+') + (plan.delayMs > 0 ? ` after ${plan.delayMs} ms` : '') + (plan.reason ? ` (${plan.reason})` : '');
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // The signal outlives this sleep (it serves later waits too): the listener goes when the sleep ends either way.
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
