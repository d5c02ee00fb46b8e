// The whole session as a history: every held state (a "tick") across episodes and resets, restorable on demand.
//
// Each tick keeps its counters, the buttons that left it, its RAM (RamLog) and any RAM writes or desyncs seen there.
// The emulator keeps keyframes (TimeTravelPort) every `keyframeEvery` ticks and at every episode start; a tick is
// restored from the nearest keyframe at or before it in its episode by re-running the recorded buttons, and every
// re-simulated state's RAM is compared with the recorded one (the determinism guard). Past the memory budget, older
// keyframes are thinned (every other one in the older half, again and again: exponentially spaced with age); if even
// the episode starts do not fit, whole old episodes become unreachable and `oldestTick` says where the past begins.
import { WORK_RAM_SIZE as RAM_SIZE } from '../nes';
import type { EmulatorFrame } from '../ports';
import type { DesyncEvent } from '../sync/desyncDetector';
import { NondeterminismError, type RamDifference } from './nondeterminismError';
import { RAM_LOG_CHUNK, RamLog } from './ramLog';
import type { ReplayWrite, TimeTravelPort } from './timeTravelPort';

/** The runtime's counters at a held state: what it takes back when it travels there. */
export interface TickState {
  episode: number;
  step: number;
  frame: number;
  lastButtons: [number, number];
  returns: [number, number];
  lastRewards: [number, number];
}

export interface HistoryEpisode {
  episode: number;
  firstTick: number;
  /** The last tick held in this episode (the open episode's grows). */
  lastTick: number;
  /** Why it ended; undefined while open. */
  end?: string;
}

/** Something the timeline shows at a tick: a desync, a breakpoint hit, a stop. */
export interface HistoryMarker {
  tick: number;
  kind: 'desync' | 'breakpoint' | 'stop';
  text: string;
  desync?: DesyncEvent;
}

export interface SessionHistoryOptions {
  /** Ticks between keyframes (default: what the emulator suggests, else DEFAULT_KEYFRAME_EVERY). */
  keyframeEvery?: number;
  /** Bytes the history may hold, keyframes and RAM log together (default 256 MiB). */
  budgetBytes?: number;
  /** How the history says it thinned or dropped something (never silent). */
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface HistoryStats {
  ticks: number;
  oldestTick: number;
  keyframes: number;
  keyframeBytes: number;
  ramLogBytes: number;
  tableBytes: number;
  budgetBytes: number;
}

/**
 * For an emulator that suggests no interval of its own (FCEUX). There a keyframe costs one round trip (about a frame)
 * and 80 KB in the FCEUX process: every 24 ticks it adds about 4 % to a frame and a 20-minute session's keyframes fit
 * the budget; a restore replays at most 23 frames inside the Lua bridge in one request, well within its 100 ms. The
 * embedded emulator suggests its own (EMBEDDED_KEYFRAME_EVERY).
 */
export const DEFAULT_KEYFRAME_EVERY = 24;
const DEFAULT_BUDGET = 256 * 1024 * 1024;
/** Keyframes between two budget checks (a check asks the emulator for its keyframe bytes). */
const CHECK_EVERY = 64;

export class SessionHistory {
  readonly keyframeEvery: number;
  readonly budgetBytes: number;
  private readonly ram = new RamLog();
  private n = 0;
  private episodeOf = new Uint32Array(1 << 14);
  private stepOf = new Uint32Array(1 << 14);
  private frameOf = new Uint32Array(1 << 14);
  /** Buttons that left tick t (controller 1, 2) and the buttons last applied when it was held. */
  private buttonsOf = new Uint8Array(1 << 15);
  private lastButtonsOf = new Uint8Array(1 << 15);
  /** returns[0], returns[1], lastRewards[0], lastRewards[1] per tick. */
  private moneyOf = new Float64Array(1 << 16);
  private readonly writes = new Map<number, { address: number; bytes: Uint8Array }[]>();
  private readonly markerList: HistoryMarker[] = [];
  private readonly episodeList: HistoryEpisode[] = [];
  /** Ticks holding a keyframe, ascending. */
  private keyframeTicks: number[] = [];
  private readonly withScreen = new Set<number>();
  private oldest = 0;
  private sinceCheck = 0;
  private keyframeBytes = 0;
  private checking = false;
  private readonly log: (level: 'info' | 'warn', message: string) => void;

  constructor(private readonly port: TimeTravelPort, options: SessionHistoryOptions = {}) {
    this.keyframeEvery = Math.max(1, options.keyframeEvery ?? port.keyframeEvery ?? DEFAULT_KEYFRAME_EVERY);
    this.budgetBytes = options.budgetBytes ?? DEFAULT_BUDGET;
    this.log = options.log ?? (() => undefined);
  }

  /** The newest tick (the present), -1 before the first. */
  get headTick(): number {
    return this.n - 1;
  }

  /** The oldest tick that can still be restored. */
  get oldestTick(): number {
    return this.oldest;
  }

  get episodes(): readonly HistoryEpisode[] {
    return this.episodeList;
  }

  /** Desyncs, breakpoint hits and stops, in the order they were marked (a stop going back marks an older tick). */
  get markers(): readonly HistoryMarker[] {
    return this.markerList;
  }

  desyncsAt(tick: number): DesyncEvent[] {
    return this.markerList.filter((m) => m.tick === tick && m.desync).map((m) => m.desync!);
  }

  // ---- recording (the runtime calls these as it runs) ----

  /** A new state is held: it becomes the head tick. */
  held(s: TickState, ram: Uint8Array): number {
    const t = this.n;
    this.grow(t + 1);
    this.n = t + 1;
    this.episodeOf[t] = s.episode;
    this.stepOf[t] = s.step;
    this.frameOf[t] = s.frame;
    this.lastButtonsOf[2 * t] = s.lastButtons[0];
    this.lastButtonsOf[2 * t + 1] = s.lastButtons[1];
    this.buttonsOf[2 * t] = this.buttonsOf[2 * t + 1] = 0;
    this.moneyOf.set([s.returns[0], s.returns[1], s.lastRewards[0], s.lastRewards[1]], 4 * t);
    this.ram.push(ram);
    const open = this.episodeList.at(-1);
    const startsEpisode = !open || open.episode !== s.episode || open.end !== undefined;
    if (startsEpisode) this.episodeList.push({ episode: s.episode, firstTick: t, lastTick: t });
    else open.lastTick = t;
    const lastKey = this.keyframeTicks.at(-1) ?? -Infinity;
    if (startsEpisode || t - lastKey >= this.keyframeEvery) this.keyframe(t, startsEpisode);
    return t;
  }

  /** The head tick was left with these buttons. */
  stepped(buttons: readonly [number, number]): void {
    const t = this.requireHead();
    this.buttonsOf[2 * t] = buttons[0];
    this.buttonsOf[2 * t + 1] = buttons[1];
  }

  /** The head tick's episode ended after its step (the next held state starts another). */
  episodeEnded(reason: string): void {
    const ep = this.episodeList.at(-1);
    if (ep) ep.end = reason;
  }

  /** RAM was written at the head tick; `ram` is its RAM after the write. */
  wrote(address: number, bytes: Uint8Array, ram: Uint8Array): void {
    const t = this.requireHead();
    const list = this.writes.get(t) ?? [];
    list.push({ address, bytes: bytes.slice() });
    this.writes.set(t, list);
    this.ram.replaceLast(ram);
  }

  mark(marker: Omit<HistoryMarker, 'tick'> & { tick?: number }): void {
    if (this.n === 0) return;
    this.markerList.push({ ...marker, tick: marker.tick ?? this.n - 1 });
  }

  /** Forgets every tick after `tick` (the run goes on from there with new inputs). */
  truncateAfter(tick: number): void {
    if (tick >= this.n - 1) return;
    if (tick < this.oldest) throw new Error(`tick ${tick} is before the oldest reachable tick ${this.oldest}`);
    this.n = tick + 1;
    this.ram.truncate(this.n);
    for (const k of this.keyframeTicks) if (k > tick) this.dropKeyframe(k);
    this.keyframeTicks = this.keyframeTicks.filter((k) => k <= tick);
    for (const w of this.writes.keys()) if (w > tick) this.writes.delete(w);
    // Markers come in run order, not tick order (a reverse stop marks an older tick): keep every one still in the past.
    const kept = this.markerList.filter((m) => m.tick <= tick);
    this.markerList.splice(0, this.markerList.length, ...kept);
    while (this.episodeList.length && this.episodeList.at(-1)!.firstTick > tick) this.episodeList.pop();
    const ep = this.episodeList.at(-1)!;
    ep.lastTick = tick;
    ep.end = undefined;
  }

  // ---- reading ----

  stateAt(tick: number): TickState {
    this.requireTick(tick);
    const m = this.moneyOf.subarray(4 * tick, 4 * tick + 4);
    return {
      episode: this.episodeOf[tick],
      step: this.stepOf[tick],
      frame: this.frameOf[tick],
      lastButtons: [this.lastButtonsOf[2 * tick], this.lastButtonsOf[2 * tick + 1]],
      returns: [m[0], m[1]],
      lastRewards: [m[2], m[3]],
    };
  }

  ramAt(tick: number): Uint8Array {
    this.requireTick(tick);
    return this.ram.read(tick);
  }

  /** RAM writes made at a tick, in order. */
  writesAt(tick: number): readonly { address: number; bytes: Uint8Array }[] {
    return this.writes.get(tick) ?? [];
  }

  /** The determinism guard for one state reached outside restore() (replaying forward): throws NondeterminismError. */
  check(tick: number, ram: Uint8Array): void {
    this.requireTick(tick);
    const recorded = this.ram.read(tick);
    if (!sameBytes(recorded, ram)) throw this.difference(tick, recorded, ram);
  }

  buttonsAt(tick: number): [number, number] {
    return [this.buttonsOf[2 * tick], this.buttonsOf[2 * tick + 1]];
  }

  /** The tick of an episode's step, or undefined when that step was never held (or is no longer reachable). */
  tickOf(episode: number, step: number): number | undefined {
    const ep = this.episodeList.find((e) => e.episode === episode && e.firstTick + step <= e.lastTick && this.stepOf[e.firstTick + step] === step);
    const t = ep ? ep.firstTick + step : undefined;
    return t !== undefined && t >= this.oldest ? t : undefined;
  }

  /** Whether the tick starts an episode (the state before it belongs to another episode). */
  startsEpisode(tick: number): boolean {
    return this.episodeList.some((e) => e.firstTick === tick);
  }

  /**
   * Ticks from `from` down to the oldest reachable, newest first, each with its RAM and the next tick's (the newer one).
   * No emulator runs: the RAM log is read chunk by chunk, so a scan over an hour of play takes well under a second.
   */
  *backwards(from: number): Generator<{ tick: number; ram: Uint8Array; newer: Uint8Array }> {
    this.requireTick(from);
    let newer = this.ram.read(from);
    for (let end = from - 1; end >= this.oldest; ) {
      // Rebuild one chunk of RAM forward, then walk it backwards.
      const start = Math.max(this.oldest, end - (end % RAM_LOG_CHUNK));
      const chunk: Uint8Array[] = [];
      let ram = this.ram.read(start);
      chunk.push(ram);
      for (let t = start + 1; t <= end; t++) {
        ram = ram.slice();
        this.ram.applyDelta(t, ram);
        chunk.push(ram);
      }
      for (let t = end; t >= start; t--) {
        const r = chunk[t - start];
        yield { tick: t, ram: r, newer };
        newer = r;
      }
      end = start - 1;
    }
  }

  // ---- travel ----

  /**
   * Brings the emulator to `tick`: the nearest keyframe at or before it in its episode, then its recorded buttons and
   * RAM writes. Every state on the way is checked against the recorded RAM; a difference throws NondeterminismError.
   * `pictureKnown` is false when no frame ran and the keyframe was kept without its picture: the emulator then shows
   * another frame's picture, and a screen of this tick needs a restore with `screen: true` (from an earlier keyframe).
   */
  async restore(tick: number, options: { screen?: boolean } = {}): Promise<{ frame: EmulatorFrame; state: TickState; pictureKnown: boolean }> {
    this.requireTick(tick);
    if (tick < this.oldest) throw new Error(`tick ${tick} is no longer reachable: the oldest kept is ${this.oldest}`);
    const k = this.keyframeFor(tick, !!options.screen);
    const n = tick - k;
    const buttons = this.buttonsOf.slice(2 * k, 2 * tick);
    const writes: ReplayWrite[] = [];
    for (let t = k; t <= tick; t++) for (const w of this.writes.get(t) ?? []) writes.push({ at: t - k, address: w.address, bytes: w.bytes });
    const { frame, rams } = await this.port.replay(k, buttons, writes, options);
    if (rams.length !== (n + 1) * RAM_SIZE) throw new Error(`replay answered ${rams.length / RAM_SIZE} state(s), ${n + 1} expected`);
    this.guard(k, rams);
    return { frame, state: this.stateAt(tick), pictureKnown: n > 0 || this.withScreen.has(k) };
  }

  async stats(): Promise<HistoryStats> {
    const kf = await this.port.keyframeStats();
    this.keyframeBytes = kf.bytes;
    return {
      ticks: this.n,
      oldestTick: this.oldest,
      keyframes: kf.count,
      keyframeBytes: kf.bytes,
      ramLogBytes: this.ram.bytes,
      tableBytes: this.tableBytes(),
      budgetBytes: this.budgetBytes,
    };
  }

  /** Drops every keyframe on the emulator's side (the session ends). */
  dispose(): void {
    for (const k of this.keyframeTicks) this.port.dropKeyframe(k);
    this.keyframeTicks = [];
  }

  // ---- internals ----

  private guard(k: number, rams: Uint8Array): void {
    const recorded = this.ram.read(k);
    for (let i = 0; ; i++) {
      const t = k + i;
      const replayed = rams.subarray(i * RAM_SIZE, (i + 1) * RAM_SIZE);
      if (!sameBytes(recorded, replayed)) throw this.difference(t, recorded, replayed);
      if (t === k + rams.length / RAM_SIZE - 1) return;
      this.ram.applyDelta(t + 1, recorded);
    }
  }

  private difference(t: number, recorded: Uint8Array, replayed: Uint8Array): NondeterminismError {
    const differences: RamDifference[] = [];
    let count = 0;
    for (let a = 0; a < RAM_SIZE; a++) {
      if (recorded[a] === replayed[a]) continue;
      count++;
      if (differences.length < 8) differences.push({ address: a, recorded: recorded[a], replayed: replayed[a] });
    }
    return new NondeterminismError({ tick: t, episode: this.episodeOf[t], step: this.stepOf[t], frame: this.frameOf[t] }, differences, count);
  }

  /** The newest keyframe at or before `tick` in its episode; one with the picture when a screen is wanted and no frame runs. */
  private keyframeFor(tick: number, screen: boolean): number {
    const ep = this.episodeAt(tick);
    const ks = this.keyframeTicks;
    let lo = 0;
    let hi = ks.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ks[mid] <= tick) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let i = best; i >= 0; i--) {
      const k = ks[i];
      if (k < ep.firstTick) break;
      if (k === tick && screen && !this.withScreen.has(k)) continue;
      return k;
    }
    throw new Error(`no keyframe kept for episode ${ep.episode} at or before tick ${tick}`);
  }

  private episodeAt(tick: number): HistoryEpisode {
    const list = this.episodeList;
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid].firstTick <= tick) lo = mid;
      else hi = mid - 1;
    }
    return list[lo];
  }

  private keyframe(t: number, episodeStart: boolean): void {
    this.port.saveKeyframe(t, episodeStart);
    this.keyframeTicks.push(t);
    if (episodeStart) this.withScreen.add(t);
    if (++this.sinceCheck >= CHECK_EVERY) {
      this.sinceCheck = 0;
      void this.checkBudget();
    }
  }

  private dropKeyframe(k: number): void {
    this.port.dropKeyframe(k);
    this.withScreen.delete(k);
  }

  /** Thins keyframes while the history is over its budget (see the file comment). */
  private async checkBudget(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const { bytes } = await this.port.keyframeStats();
      this.keyframeBytes = bytes;
      let over = this.heldBytes() - this.budgetBytes;
      if (over <= 0) return;
      const before = this.keyframeTicks.length;
      const perKeyframe = bytes / Math.max(1, before);
      while (over > 0) {
        const freed = this.thinOnce() || this.dropOldestEpisode();
        if (freed === 0) break;
        over -= freed * perKeyframe;
      }
      this.log('info', `history over its ${mib(this.budgetBytes)} budget: ${before - this.keyframeTicks.length} older keyframe(s) thinned; oldest reachable tick ${this.oldest}`);
    } catch (err) {
      this.log('warn', `history budget check failed: ${(err as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  /** Drops every other keyframe in the older half of the reachable range (episode starts stay). Returns how many. */
  private thinOnce(): number {
    const ks = this.keyframeTicks;
    const middle = this.oldest + ((this.n - this.oldest) >> 1);
    const starts = new Set(this.episodeList.map((e) => e.firstTick));
    const keep: number[] = [];
    let dropped = 0;
    let alternate = false;
    for (const k of ks) {
      if (k < middle && !starts.has(k)) {
        alternate = !alternate;
        if (!alternate) {
          this.dropKeyframe(k);
          dropped++;
          continue;
        }
      }
      keep.push(k);
    }
    this.keyframeTicks = keep;
    return dropped;
  }

  /** Makes the oldest reachable episode unreachable (only ever when keyframes alone no longer fit). Returns keyframes freed. */
  private dropOldestEpisode(): number {
    const i = this.episodeList.findIndex((e) => e.firstTick >= this.oldest);
    const next = this.episodeList[i + 1];
    if (i < 0 || !next) return 0;
    const gone = this.keyframeTicks.filter((k) => k < next.firstTick);
    for (const k of gone) this.dropKeyframe(k);
    this.keyframeTicks = this.keyframeTicks.filter((k) => k >= next.firstTick);
    this.oldest = next.firstTick;
    this.log('warn', `history over its ${mib(this.budgetBytes)} budget: episode ${this.episodeList[i].episode} is no longer reachable; the oldest reachable is episode ${next.episode}`);
    return gone.length;
  }

  private heldBytes(): number {
    return this.keyframeBytes + this.ram.bytes + this.tableBytes();
  }

  private tableBytes(): number {
    return this.episodeOf.byteLength * 3 + this.buttonsOf.byteLength * 2 + this.moneyOf.byteLength;
  }

  private requireHead(): number {
    if (this.n === 0) throw new Error('history: no tick held yet');
    return this.n - 1;
  }

  private requireTick(t: number): void {
    if (!Number.isInteger(t) || t < 0 || t >= this.n) throw new RangeError(`tick ${t} is not in the history (0..${this.n - 1})`);
  }

  private grow(n: number): void {
    if (n <= this.episodeOf.length) return;
    const cap = Math.max(n, this.episodeOf.length * 2);
    this.episodeOf = growTo(this.episodeOf, cap);
    this.stepOf = growTo(this.stepOf, cap);
    this.frameOf = growTo(this.frameOf, cap);
    this.buttonsOf = growTo(this.buttonsOf, cap * 2);
    this.lastButtonsOf = growTo(this.lastButtonsOf, cap * 2);
    this.moneyOf = growTo(this.moneyOf, cap * 4);
  }
}

function growTo<T extends Uint8Array | Uint32Array | Float64Array>(a: T, n: number): T {
  const grown = new (a.constructor as new (n: number) => T)(n);
  grown.set(a);
  return grown;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < RAM_SIZE; i++) if (a[i] !== b[i]) return false;
  return true;
}

function mib(n: number): string {
  return `${Math.round(n / 1048576)} MiB`;
}
