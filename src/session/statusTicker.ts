// The status ticker of a running session: notices waits at the gate that last longer than a moment and says when a status is due.
import type { GateMode } from '../core/sync/frameGate';
import type { LockstepRuntime } from '../core/runtime/runtime';
import { TypedEmitter } from '../core/typedEmitter';

/** A wait at the gate, as shown to the user. */
export interface WaitInfo {
  frame: number;
  /** Controllers still awaited (0 = controller 1). */
  waitingFor: number[];
  sinceMs: number;
  mode: GateMode;
}

export interface StatusTickerEvents {
  /** A wait passed waitNoticeMs (`first`: the first notice for this frame; then one a second). */
  waiting: { info: WaitInfo; first: boolean };
  /** A shown wait ended: the agent's action arrived, or one was supplied by hand. */
  released: { frame: number; waitedMs: number; by: 'agent' | 'manual' };
  /** Time for a status report (every statusIntervalMs while running, and on demand). */
  status: undefined;
}

export interface StatusTickerOptions {
  /** The runtime once it started (none before: nothing waits then). */
  runtime(): LockstepRuntime | undefined;
  /** Whether the session is running (waits are shown only then). */
  isRunning(): boolean;
  /** How long the gate may wait before the wait is shown. */
  waitNoticeMs: number;
  statusIntervalMs: number;
  /** Called after a wait was first shown (pause-until-action stops there). */
  onWaitShown?(info: WaitInfo): void;
}

export class StatusTicker {
  readonly events = new TypedEmitter<StatusTickerEvents>();
  private timer?: ReturnType<typeof setInterval>;
  private lastStatusAt = 0;
  private announced?: { frame: number; startedAt: number; lastEventAt: number; manual: boolean };

  constructor(private readonly o: StatusTickerOptions) {}

  /** Whether a wait is being shown now. */
  get showingWait(): boolean {
    return this.announced !== undefined;
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => this.tick(), Math.min(100, this.o.statusIntervalMs));
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The shown wait is being ended by hand-supplied buttons. */
  markManual(): void {
    if (this.announced) this.announced.manual = true;
  }

  sendStatus(): void {
    this.lastStatusAt = performance.now();
    this.events.emit('status', undefined);
  }

  /** Shows a wait that lasts longer than a moment (once per frame, then a `waiting` each second) and notices its end. */
  checkWaiting(): void {
    const rt = this.o.runtime();
    if (!rt) return;
    const st = rt.gateStatus;
    const now = performance.now();
    const a = this.announced;
    if (a && (!st || st.frame !== a.frame)) {
      this.events.emit('released', { frame: a.frame, waitedMs: Math.round(now - a.startedAt), by: a.manual ? 'manual' : 'agent' });
      this.announced = undefined;
    }
    if (!st || !this.o.isRunning() || st.sinceMs < this.o.waitNoticeMs) return;
    const info: WaitInfo = { frame: st.frame, waitingFor: st.waitingFor, sinceMs: Math.round(st.sinceMs), mode: st.mode };
    if (!this.announced) {
      this.announced = { frame: st.frame, startedAt: now - st.sinceMs, lastEventAt: now, manual: false };
      this.events.emit('waiting', { info, first: true });
      this.o.onWaitShown?.(info);
    } else if (now - this.announced.lastEventAt >= 1000) {
      this.announced.lastEventAt = now;
      this.events.emit('waiting', { info, first: false });
    }
  }

  private tick(): void {
    if (!this.o.isRunning()) return;
    this.checkWaiting();
    const now = performance.now();
    if (now - this.lastStatusAt >= this.o.statusIntervalMs) this.sendStatus();
  }
}
