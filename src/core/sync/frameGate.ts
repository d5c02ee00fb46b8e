// Layer 1, the lockstep gate: the emulator holds frame N until the action for N from every agent-driven controller is in.
import { isButtonMask } from '../buttons';

export type GateMode = 'strict' | 'hold';

export interface GateWaiting {
  frame: number;
  /** now() when the frame was opened. */
  since: number;
  waitingFor: number[];
}

export type GateResult =
  /** buttons by controller (undriven controllers 0); latencyMs[i] = arrival of players[i]'s action minus the open time. */
  | { status: 'ready'; frame: number; buttons: [number, number]; latencyMs: number[] }
  | { status: 'timeout'; frame: number; missing: number[]; waitedMs: number }
  | { status: 'aborted'; frame: number };

export type GateReady = Extract<GateResult, { status: 'ready' }>;

export type OfferResult = { accepted: true } | { accepted: false; expected: number; received: number };

/** Timer functions, injectable so tests can fire timeouts by hand. */
export interface GateTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface FrameGateOptions {
  /** Controller indexes driven by agents, e.g. [0] or [0, 1]. */
  players: number[];
  now: () => number;
  timers?: GateTimers;
}

interface Waiter {
  frame: number;
  resolve: (r: GateResult) => void;
  timer: unknown;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const CONTROLLERS = 2;
/** Longest delay setTimeout honours; a longer wait is treated as forever rather than firing at once. */
const MAX_TIMER_MS = 0x7fffffff;
const ACCEPTED: { accepted: true } = Object.freeze({ accepted: true as const });
const NONE = 0;
const AGENT = 1;
const MANUAL = 2;

const realTimers: GateTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * One action per controller per frame: the first agent action for the held frame counts, later duplicates are accepted and
 * ignored (the frame may already have run on the first), while a hand-supplied action always replaces what is there.
 * The mode is policy for the caller: the gate reports a timeout the same way in both; in 'hold' the runtime then supplies
 * the late controller's previous buttons, in 'strict' it keeps waiting.
 */
export class FrameGate {
  private readonly players: readonly number[];
  private readonly driven = new Uint8Array(CONTROLLERS);
  private readonly source = new Uint8Array(CONTROLLERS);
  private readonly pressed = new Uint8Array(CONTROLLERS);
  private readonly arrivedAt = new Float64Array(CONTROLLERS);
  /** What each agent sent with the held frame's action it counts (recorded with the row); none for a person's action. */
  private readonly info: Array<Record<string, unknown> | undefined> = [undefined, undefined];
  private readonly now: () => number;
  private readonly timers: GateTimers;
  private readonly waiters = new Set<Waiter>();
  private held: number | null = null;
  private openedAt = 0;
  private missingCount = 0;
  private gateMode: GateMode = 'strict';

  constructor(opts: FrameGateOptions) {
    const players = opts?.players;
    if (
      !Array.isArray(players) ||
      players.some((p) => !Number.isInteger(p) || p < 0 || p >= CONTROLLERS) ||
      new Set(players).size !== players.length
    ) {
      throw new RangeError(`FrameGate: players must be distinct controller indexes 0 or 1, got ${JSON.stringify(players)}`);
    }
    if (typeof opts.now !== 'function') throw new TypeError('FrameGate: opts.now must be a clock function returning milliseconds');
    this.players = [...players].sort((a, b) => a - b);
    for (const p of this.players) this.driven[p] = 1;
    this.now = opts.now;
    this.timers = opts.timers ?? realTimers;
  }

  /** The emulator now holds `frame`: forgets the previous frame's actions and ends waits on it as aborted. */
  open(frame: number): void {
    if (!Number.isInteger(frame) || frame < 0) throw new RangeError(`FrameGate.open: frame must be an integer >= 0, got ${String(frame)}`);
    if (this.held !== null) this.settleAll({ status: 'aborted', frame: this.held });
    this.held = frame;
    this.openedAt = this.now();
    this.source.fill(NONE);
    this.pressed.fill(0);
    this.info.fill(undefined);
    this.missingCount = this.players.length;
  }

  /** An agent's action; accepted only for the held frame, otherwise handed back as a mismatch for the desync detector. */
  offer(player: number, frame: number, buttons: number, info?: Record<string, unknown>): OfferResult {
    const held = this.requireHeld('offer');
    this.requirePlayer('offer', player);
    if (frame !== held) return { accepted: false, expected: held, received: frame };
    if (!isButtonMask(buttons)) throw new RangeError(`FrameGate.offer: buttons from controller ${player + 1} must be a mask 0..255, got ${String(buttons)}`);
    if (this.source[player] !== NONE) return ACCEPTED;
    this.take(player, buttons, AGENT);
    this.info[player] = info;
    return ACCEPTED;
  }

  /** A person supplies the held frame's action for a controller (pause-until-action); replaces any action already there. */
  supply(player: number, buttons: number): void {
    this.requireHeld('supply');
    this.requirePlayer('supply', player);
    if (!isButtonMask(buttons)) throw new RangeError(`FrameGate.supply: buttons for controller ${player + 1} must be a mask 0..255, got ${String(buttons)}`);
    this.take(player, buttons, MANUAL);
    this.info[player] = undefined;
  }

  /** The info that came with the agent action counted for the held frame, if any (a person's action has none). */
  actionInfo(player: number): Record<string, unknown> | undefined {
    return this.info[player];
  }

  /**
   * Resolves when every driven controller has an action for the held frame (at once if they already have), after timeoutMs
   * with the controllers still missing (Infinity: never), or on abort. Several waits may be pending; each has its own timeout.
   */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<GateResult> {
    if (this.held === null) return Promise.reject(new Error('FrameGate.wait: no frame is held (call open(frame) first)'));
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(new RangeError(`FrameGate.wait: timeoutMs must be >= 0 or Infinity, got ${String(timeoutMs)}`));
    }
    const frame = this.held;
    if (this.missingCount === 0) return Promise.resolve(this.readyResult());
    if (signal?.aborted) return Promise.resolve({ status: 'aborted', frame });
    if (timeoutMs === 0) return Promise.resolve(this.timeoutResult());
    return new Promise<GateResult>((resolve) => {
      const w: Waiter = { frame, resolve, timer: undefined, signal };
      if (timeoutMs <= MAX_TIMER_MS) {
        // libuv's timers run on a millisecond loop clock and can fire up to 1 ms early by this.now(): a timeout is
        // reported only once the full wait has passed on the gate's own clock (else the rest is waited for).
        const deadline = this.now() + timeoutMs;
        const arm = (ms: number) => {
          w.timer = this.timers.set(() => {
            w.timer = undefined;
            if (!this.waiters.has(w)) return;
            const left = deadline - this.now();
            if (left > 0) arm(Math.ceil(left));
            else this.settle(w, this.timeoutResult());
          }, ms);
        };
        arm(timeoutMs);
      }
      if (signal) {
        w.onAbort = () => {
          if (this.waiters.has(w)) this.settle(w, { status: 'aborted', frame: w.frame });
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.add(w);
    });
  }

  /** Ends every pending wait as aborted (shutdown); the held frame and its actions stay. */
  cancel(): void {
    if (this.held !== null) this.settleAll({ status: 'aborted', frame: this.held });
  }

  /** The held frame and the controllers still awaited, or null when nothing is held or nothing is missing. */
  get waiting(): GateWaiting | null {
    if (this.held === null || this.missingCount === 0) return null;
    return { frame: this.held, since: this.openedAt, waitingFor: this.missing() };
  }

  get mode(): GateMode {
    return this.gateMode;
  }

  set mode(m: GateMode) {
    if (m !== 'strict' && m !== 'hold') throw new RangeError(`FrameGate.mode must be 'strict' or 'hold', got ${JSON.stringify(m)}`);
    this.gateMode = m;
  }

  /** Whether every driven controller has an action for the held frame (wait() would resolve ready at once). */
  get complete(): boolean {
    return this.held !== null && this.missingCount === 0;
  }

  /** What wait() would resolve at once when the gate is complete, without waiting a turn; undefined otherwise. */
  readyNow(): GateReady | undefined {
    return this.complete ? this.readyResult() : undefined;
  }

  get heldFrame(): number | null {
    return this.held;
  }

  /** Whether the held frame's action for a controller was supplied by hand rather than by its agent. */
  isManual(player: number): boolean {
    return this.source[player] === MANUAL;
  }

  get pendingWaits(): number {
    return this.waiters.size;
  }

  private take(player: number, buttons: number, source: number): void {
    const first = this.source[player] === NONE;
    this.source[player] = source;
    this.pressed[player] = buttons;
    this.arrivedAt[player] = this.now();
    if (!first) return;
    this.missingCount--;
    if (this.missingCount === 0 && this.waiters.size > 0) this.settleAll(this.readyResult());
  }

  private readyResult(): GateReady {
    const latencyMs = new Array<number>(this.players.length);
    for (let i = 0; i < this.players.length; i++) latencyMs[i] = this.arrivedAt[this.players[i]] - this.openedAt;
    return { status: 'ready', frame: this.held!, buttons: [this.pressed[0], this.pressed[1]], latencyMs };
  }

  private timeoutResult(): GateResult {
    return { status: 'timeout', frame: this.held!, missing: this.missing(), waitedMs: this.now() - this.openedAt };
  }

  private missing(): number[] {
    return this.players.filter((p) => this.source[p] === NONE);
  }

  private settleAll(r: GateResult): void {
    for (const w of [...this.waiters]) this.settle(w, r);
  }

  private settle(w: Waiter, r: GateResult): void {
    this.waiters.delete(w);
    if (w.timer !== undefined) this.timers.clear(w.timer);
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    w.resolve(r);
  }

  private requireHeld(what: string): number {
    if (this.held === null) throw new Error(`FrameGate.${what}: no frame is held (call open(frame) first)`);
    return this.held;
  }

  private requirePlayer(what: string, player: number): void {
    if (!Number.isInteger(player) || player < 0 || player >= CONTROLLERS || this.driven[player] === 0) {
      throw new RangeError(`FrameGate.${what}: controller index ${String(player)} is not driven by an agent (players ${JSON.stringify(this.players)})`);
    }
  }
}
