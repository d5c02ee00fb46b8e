// Reverse continue over the whole session history: the stop checks (breakpoints, desync filters) evaluated backwards on recorded RAM.
import type { DesyncEvent } from '../core/sync/desyncDetector';
import type { SessionHistory } from '../core/history/sessionHistory';
import type { StopChecks, StopHit } from './stopChecks';

export type BackwardStop =
  | { kind: 'hit'; tick: number; hit: StopHit }
  | { kind: 'desync'; tick: number; event: DesyncEvent; conditionError?: string }
  | { kind: 'interrupted'; tick: number }
  | { kind: 'oldest'; tick: number };

export interface BackwardSearchOptions {
  /** Polled between ticks: true stops the search where it is (pause, end of session). */
  interrupted(): boolean;
  /** Milliseconds of scanning between two yields to the event loop (so a pause request is read). */
  yieldEveryMs: number;
}

/**
 * Walks the history from the tick before `from` back to the oldest reachable: at each tick, desyncs recorded there
 * (exception filters), then data and function breakpoints exactly as stepping back one frame at a time would check
 * them (the newer frame's RAM against this one's, function breakpoints by becoming true going backwards). No emulator
 * runs: the caller travels to the tick found.
 */
export async function searchBackwards(history: SessionHistory, from: number, checks: StopChecks, opts: BackwardSearchOptions): Promise<BackwardStop> {
  let last = from;
  let lastYield = performance.now();
  for (const { tick, ram, newer } of history.backwards(from)) {
    if (tick === from) continue;
    last = tick;
    if (opts.interrupted()) return { kind: 'interrupted', tick };
    const s = history.stateAt(tick);
    const held = { frame: s.frame, episode: s.episode, step: s.step, ram };
    for (const event of history.desyncsAt(tick)) {
      const d = checks.desyncStops(event, held);
      if (d.stops) return { kind: 'desync', tick, event, conditionError: d.error };
    }
    // The history keeps work RAM only: PRG-RAM conditions and watches do not hold on recorded ticks.
    const hit = checks.checkFrame({ ram: newer }, { ram }, held);
    if (hit) return { kind: 'hit', tick, hit };
    if (performance.now() - lastYield > opts.yieldEveryMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  }
  return { kind: 'oldest', tick: last };
}
