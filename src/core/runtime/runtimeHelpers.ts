// Small pure helpers both frame drivers share: frame fingerprints, a recovery plan's description, an interruptible sleep.
import type { EmulatorFrame } from '../ports';
import type { RecoveryPlan } from '../sync/recovery';
import { shortHash } from '../episodes/ramHash';

/** Compact fingerprints of the state a frame started from (RAM always, the screen when captured). */
export function fingerprints(f: EmulatorFrame): { ramFingerprint: string; screenFingerprint?: string } {
  return f.screen ? { ramFingerprint: shortHash(f.ram), screenFingerprint: shortHash(f.screen) } : { ramFingerprint: shortHash(f.ram) };
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
