// Run-ahead mode: the engine runs frames on predicted input while actions are late, snapshots each frame, rolls back and fast-forwards on a misprediction; the driver feeds it for the runtime.
import { isButtonMask } from '../buttons';
import { SyncedTermination, type TerminationReason } from '../episodes/episodeRecorder';
import type { EmulatorFrame, EmulatorPort, SnapshotHandle } from '../ports';
import type { AgentAction } from '../ports';
import type { DesyncEvent } from '../sync/desyncDetector';
import { timeoutEvent, type DriverHost, type FrameDriver } from './frameDriver';
import { RuntimeFault } from './runtimeFault';
import { fingerprints } from './runtimeHelpers';
import type { FrameRow, RowSink } from './rows';
import type { FrameOutcome, RunAheadStats } from './runtimeTypes';

export type { RunAheadStats };

/** A controller's confirmed input for one frame. */
export interface ConfirmedInput {
  buttons: number;
  /** Not the agent's own answer: the previous buttons kept (gap between answers, or a timeout in hold mode). */
  held?: boolean;
  manual?: boolean;
  latencyMs?: number | null;
  /** What the agent sent with the action (recorded in the frame's row under p1/p2). */
  info?: Record<string, unknown>;
}

/** What rowFor() gets: one frame that just ran. */
export interface RunAheadFrame {
  episode: number;
  frame: number;
  before: EmulatorFrame;
  after: EmulatorFrame;
  buttons: [number, number];
}

/** Why a frame ends the episode. A done flag depends on the inputs, so on a speculative frame it only counts once confirmed. */
export type FrameEndKind = 'done_flag' | 'max_steps' | 'agent_terminated';

export type RunAheadEvent =
  | { type: 'rollback'; frame: number; head: number; controller: number; predicted: number; actual: number }
  | { type: 'fastForward'; from: number; to: number; target: number; cap: number | null; stoppedBy: 'target' | 'termination' | 'pending_end' }
  | { type: 'termination'; frame: number; reason: TerminationReason; source: string }
  | { type: 'boundary'; promoted: number; discarded: number };

export interface RunAheadOptions {
  emulator: EmulatorPort;
  episode: number;
  /** The frame the emulator holds when the engine takes over (the episode's first frame). */
  first: EmulatorFrame;
  /** Controllers whose input arrives through supply() and may be late; the others take fixedInput(). */
  players: readonly number[];
  /** Builds a frame's row (game-derived fields; the engine fills held/manual/latency) and says whether the episode ends after it. Must be pure: frames are re-run. */
  rowFor(f: RunAheadFrame): { row: FrameRow; end: FrameEndKind | null };
  sink?: RowSink;
  /** Speculative frames allowed ahead of the last confirmed one. Default 8. */
  maxRunAhead?: number;
  screen?: boolean;
  /** Input of a controller not in `players`, asked once per frame and kept, so replays after a rollback use the same. */
  fixedInput?(controller: number, frame: number): number;
  onEvent?(e: RunAheadEvent): void;
}

interface PendingFrame {
  frame: number;
  snapshot: SnapshotHandle;
  buttons: [number, number];
  predicted: [boolean, boolean];
  row: FrameRow;
  end: FrameEndKind | null;
}

export type SupplyResult = 'accepted' | 'stale' | 'past_termination';

export class RunAheadEngine {
  readonly termination = new SyncedTermination();
  readonly stats: RunAheadStats = { rollbacks: 0, replayedFrames: 0, predictedFrames: 0, inputsPastTermination: 0 };
  private readonly inputs: [Map<number, ConfirmedInput>, Map<number, ConfirmedInput>] = [new Map(), new Map()];
  /** Per controller, the first frame without a confirmed input (inputs are confirmed in frame order). */
  private readonly next: [number, number];
  private readonly lastInput: [ConfirmedInput | undefined, ConfirmedInput | undefined] = [undefined, undefined];
  private pending: PendingFrame[] = [];
  private cur: EmulatorFrame;
  private confirmed: number;
  /** A speculative frame showed the done flag: nothing runs past it until it is confirmed or rolled back. */
  private pendingEnd: number | null = null;
  private running: string | null = null;
  private disposed = false;
  private readonly maxRunAhead: number;
  private readonly returnsSum: [number, number] = [0, 0];
  private lastConfirmedRow: FrameRow | undefined;

  constructor(private readonly o: RunAheadOptions) {
    for (const p of o.players) if (p !== 0 && p !== 1) throw new Error(`run-ahead: controller must be 0 or 1, got ${p}`);
    this.maxRunAhead = o.maxRunAhead ?? 8;
    if (!Number.isSafeInteger(this.maxRunAhead) || this.maxRunAhead < 0) throw new Error(`run-ahead: maxRunAhead must be a whole number >= 0, got ${o.maxRunAhead}`);
    this.cur = o.first;
    this.confirmed = o.first.frame;
    this.next = [o.first.frame, o.first.frame];
  }

  /** The frame the emulator holds (the speculative head). */
  get head(): EmulatorFrame {
    return this.cur;
  }
  /** Every frame below this has its final row. */
  get confirmedFrame(): number {
    return this.confirmed;
  }
  get speculativeFrames(): number {
    return this.pending.length;
  }
  get returns(): [number, number] {
    return [this.returnsSum[0], this.returnsSum[1]];
  }
  get lastRow(): FrameRow | undefined {
    return this.lastConfirmedRow;
  }
  /** First frame whose input from `controller` is not confirmed yet. */
  nextUnconfirmed(controller: number): number {
    return this.next[controller];
  }
  /** The episode is over: the termination is agreed and every frame below it has its final row. */
  get complete(): boolean {
    const t = this.termination.frame;
    return t !== null && this.confirmed >= t;
  }
  /** Every frame of the episode has run; only confirmations are missing. */
  get atBoundary(): boolean {
    const t = this.termination.frame;
    return t !== null && this.cur.frame >= t;
  }
  get canRunAhead(): boolean {
    if (this.disposed || this.pendingEnd !== null || this.atBoundary) return false;
    if (this.pending.length < this.maxRunAhead) return true;
    return this.pending.length === 0 && this.allConfirmed(this.cur.frame);
  }

  /**
   * Confirms a controller's input for `frame`. Frames between its last confirmed input and `frame` keep that input (held),
   * like a pad nobody touched. Inputs at or after the agreed termination are dropped.
   */
  supply(controller: number, frame: number, input: ConfirmedInput): SupplyResult {
    if (!this.o.players.includes(controller)) throw new Error(`run-ahead: controller ${controller + 1} is not driven by an agent`);
    if (!Number.isSafeInteger(frame)) throw new Error(`run-ahead: frame must be a whole number, got ${JSON.stringify(frame)}`);
    if (!isButtonMask(input.buttons)) throw new Error(`run-ahead: buttons for controller ${controller + 1} at frame ${frame} must be a mask 0-255, got ${JSON.stringify(input.buttons)}`);
    if (frame < this.next[controller]) return 'stale';
    const t = this.termination.frame;
    const last = this.lastInput[controller];
    const stop = t === null ? frame : Math.min(frame, t);
    for (let f = this.next[controller]; f < stop; f++) this.setInput(controller, f, { buttons: last?.buttons ?? 0, held: true, latencyMs: null });
    if (t !== null && frame >= t) {
      this.stats.inputsPastTermination++;
      return 'past_termination';
    }
    this.setInput(controller, frame, { ...input });
    return 'accepted';
  }

  /** Confirms `controller`'s input for every frame up to `frame` (inclusive) as its last input held. */
  holdThrough(controller: number, frame: number): void {
    if (frame < this.next[controller]) return;
    const last = this.lastInput[controller];
    this.supply(controller, frame, { buttons: last?.buttons ?? 0, held: true, latencyMs: null });
  }

  /** Confirms the predicted input of every late controller for the oldest unconfirmed frame (frame hold after a timeout). */
  holdOldest(): number[] {
    const f = this.pending[0]?.frame ?? this.cur.frame;
    const late = this.o.players.filter((p) => this.next[p] <= f);
    for (const p of late) this.holdThrough(p, f);
    return late;
  }

  /** A side detected the end; the earliest proposal wins. An end below the last confirmed frame ends it there (those rows are final). */
  proposeTermination(frame: number, reason: TerminationReason, source: string): number {
    const before = this.termination.frame;
    const t = this.termination.propose(Math.max(frame, this.confirmed), reason, source);
    if (t !== before) {
      this.o.sink?.fixTermination?.(this.o.episode, t, reason);
      this.o.onEvent?.({ type: 'termination', frame: t, reason: this.termination.reason ?? reason, source: this.termination.source ?? source });
    }
    return t;
  }

  /** Runs the head frame once (on predicted input for late controllers). Returns its row, or undefined if it could not run. */
  async stepHead(): Promise<FrameRow | undefined> {
    return this.exclusive('stepHead', async () => {
      if (!this.canRunAhead) return undefined;
      return (await this.runFrame())?.row;
    });
  }

  /**
   * Applies confirmed inputs: frames whose prediction was right become final; at the first wrong one the engine restores
   * that frame's snapshot and fast-forwards with the corrected inputs. It also catches up through inputs buffered past the
   * head (a stalled side resuming), and returns the head to the termination frame if the end was fixed behind it.
   */
  async reconcile(): Promise<void> {
    return this.exclusive('reconcile', async () => {
      await this.settleAtTermination();
      while (this.pending.length > 0 && this.allConfirmed(this.pending[0].frame)) {
        const p = this.pending[0];
        const wrong = [0, 1].find((c) => this.inputFor(c, p.frame)!.buttons !== p.buttons[c]);
        if (wrong === undefined) {
          this.pending.shift();
          this.commit(p);
          continue;
        }
        const oldHead = this.cur.frame;
        this.stats.rollbacks++;
        this.o.onEvent?.({ type: 'rollback', frame: p.frame, head: oldHead, controller: wrong, predicted: p.buttons[wrong], actual: this.inputFor(wrong, p.frame)!.buttons });
        await this.rollbackTo(0);
        await this.fastForward(oldHead);
      }
      if (this.pending.length === 0 && this.bufferedThrough() > this.cur.frame) await this.fastForward(this.cur.frame);
    });
  }

  /**
   * At the agreed end, the frames whose actions never came are promoted as they ran (wasSpeculative); nothing at or past
   * the termination is kept. Returns how many were promoted.
   */
  async promoteAtBoundary(): Promise<number> {
    return this.exclusive('promoteAtBoundary', async () => {
      await this.settleAtTermination();
      const t = this.termination.frame;
      if (t === null) throw new Error('run-ahead: no termination frame agreed yet');
      let promoted = 0;
      let discarded = 0;
      for (const p of this.pending) {
        if (p.frame < t) {
          p.row = { ...p.row, wasSpeculative: true };
          this.commit(p, true);
          promoted++;
        } else {
          this.o.emulator.dropSnapshot(p.snapshot);
          discarded++;
        }
      }
      this.pending = [];
      this.pendingEnd = null;
      this.o.onEvent?.({ type: 'boundary', promoted, discarded });
      return promoted;
    });
  }

  /** Ends at the head as it is (user stop): speculative frames are promoted. */
  async stopHere(): Promise<void> {
    this.proposeTermination(this.cur.frame, 'stopped', 'user');
    await this.promoteAtBoundary();
  }

  /** Forgets the frames run ahead (they only ran on predictions): the head goes back to the last confirmed frame. */
  async rewindToConfirmed(): Promise<void> {
    return this.exclusive('rewindToConfirmed', async () => {
      if (this.pending.length > 0) await this.rollbackTo(0);
    });
  }

  /** The emulator's state changed in place (a RAM write at the head): later frames start from this one. */
  replaceHead(f: EmulatorFrame): void {
    if (this.pending.length > 0) throw new Error('run-ahead: the head cannot change while frames wait for confirmation');
    if (f.frame !== this.cur.frame) throw new Error(`run-ahead: new head is frame ${f.frame}, expected ${this.cur.frame}`);
    this.cur = f;
  }

  dispose(): void {
    this.disposed = true;
    for (const p of this.pending) this.o.emulator.dropSnapshot(p.snapshot);
    this.pending = [];
  }

  // ---- internals ----

  private async exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.running) throw new Error(`run-ahead: ${what} called while ${this.running} is running`);
    if (this.disposed) throw new Error(`run-ahead: ${what} after dispose()`);
    this.running = what;
    try {
      return await fn();
    } finally {
      this.running = null;
    }
  }

  private setInput(c: number, f: number, input: ConfirmedInput): void {
    this.inputs[c].set(f, input);
    this.lastInput[c] = input;
    this.next[c] = f + 1;
  }

  private inputFor(c: number, f: number): ConfirmedInput | undefined {
    if (this.o.players.includes(c)) return this.inputs[c].get(f);
    let input = this.inputs[c].get(f);
    if (!input) {
      const buttons = this.o.fixedInput?.(c, f) ?? 0;
      if (!isButtonMask(buttons)) throw new Error(`run-ahead: input for controller ${c + 1} at frame ${f} must be a mask 0-255, got ${JSON.stringify(buttons)}`);
      input = { buttons };
      this.inputs[c].set(f, input);
    }
    return input;
  }

  private allConfirmed(f: number): boolean {
    return this.o.players.every((p) => this.next[p] > f);
  }

  /** First frame some agent-driven controller has no input for: every frame below it can run on confirmed input. */
  private bufferedThrough(): number {
    if (this.o.players.length === 0) return this.cur.frame;
    return Math.min(...this.o.players.map((p) => this.next[p]));
  }

  /** Runs the head frame; returns undefined when an end fixed while it ran excluded it (the head is put back). */
  private async runFrame(): Promise<PendingFrame | undefined> {
    const f = this.cur.frame;
    const buttons: [number, number] = [0, 0];
    const predicted: [boolean, boolean] = [false, false];
    for (const c of [0, 1]) {
      const input = this.inputFor(c, f);
      if (input) {
        buttons[c] = input.buttons;
      } else {
        // Prediction: the controller keeps its last confirmed buttons.
        buttons[c] = this.lastInput[c]?.buttons ?? 0;
        predicted[c] = true;
      }
    }
    if (predicted[0] || predicted[1]) this.stats.predictedFrames++;
    const snapshot = await this.o.emulator.saveSnapshot();
    const before = this.cur;
    const after = await this.o.emulator.step(buttons, { screen: this.o.screen });
    const { row, end } = this.o.rowFor({ episode: this.o.episode, frame: f, before, after, buttons });
    this.cur = after;
    const t = this.termination.frame;
    if (t !== null && f >= t) {
      // The end was agreed while this frame ran: it is not part of the episode, and the state must stay at the end.
      this.cur = await this.o.emulator.loadSnapshot(snapshot, { screen: this.o.screen });
      this.o.emulator.dropSnapshot(snapshot);
      return undefined;
    }
    const p: PendingFrame = { frame: f, snapshot, buttons, predicted, row, end };
    if (this.pending.length === 0 && !predicted[0] && !predicted[1]) {
      this.commit(p);
    } else {
      this.pending.push(p);
      this.o.sink?.addSpeculativeRow?.(this.withInputs(p, false));
      if (end === 'done_flag') this.pendingEnd = f;
      else if (end) this.proposeTermination(f + 1, end, 'emulator');
    }
    return p;
  }

  /** A frame's row becomes final (its inputs confirmed, or promoted at the end). */
  private commit(p: PendingFrame, atBoundary = false): void {
    const row = this.withInputs(p, atBoundary);
    this.o.emulator.dropSnapshot(p.snapshot);
    this.confirmed = p.frame + 1;
    this.returnsSum[0] += row.rewards[0];
    this.returnsSum[1] += row.rewards[1];
    this.lastConfirmedRow = row;
    this.o.sink?.addRow(row);
    if (this.pendingEnd === p.frame) this.pendingEnd = null;
    if (p.end) this.proposeTermination(p.frame + 1, p.end, 'emulator');
  }

  /** The row with the input facts filled in: held/manual/latency of confirmed inputs; at the boundary, predicted = held. */
  private withInputs(p: PendingFrame, atBoundary: boolean): FrameRow {
    const row: FrameRow = { ...p.row, held: [false, false], manual: [false, false], agentLatencyMs: [null, null], info: { ...p.row.info } };
    for (const c of [0, 1] as const) {
      const input = this.o.players.includes(c) ? this.inputs[c].get(p.frame) : undefined;
      if (input && input.buttons === p.buttons[c]) {
        row.held[c] = !!input.held;
        row.manual[c] = !!input.manual;
        row.agentLatencyMs[c] = input.latencyMs ?? null;
        if (input.info && Object.keys(input.info).length > 0) row.info[`p${c + 1}`] = input.info;
      } else if (this.o.players.includes(c) && atBoundary) {
        row.held[c] = true;
      }
    }
    return row;
  }

  /** Restores the snapshot of pending[index] and forgets it and everything after it. */
  private async rollbackTo(index: number): Promise<void> {
    const target = this.pending[index];
    this.cur = await this.o.emulator.loadSnapshot(target.snapshot, { screen: this.o.screen });
    for (const p of this.pending.slice(index)) this.o.emulator.dropSnapshot(p.snapshot);
    this.pending.length = index;
    if (this.pendingEnd !== null && this.pendingEnd >= target.frame) this.pendingEnd = null;
    this.o.sink?.discardSpeculative?.(this.o.episode, target.frame);
  }

  /**
   * Runs frames up to the old head or as far as inputs are buffered, whichever is further. The termination is read when
   * it starts and caps the target; one agreed while it runs stops it too. It never runs or stores a frame at or past either.
   */
  private async fastForward(minTarget: number): Promise<void> {
    const cap = this.termination.frame;
    let target = Math.max(minTarget, this.bufferedThrough());
    if (cap !== null) target = Math.min(target, cap);
    const from = this.cur.frame;
    let stoppedBy: 'target' | 'termination' | 'pending_end' = 'target';
    while (this.cur.frame < target) {
      const t = this.termination.frame;
      if (t !== null && this.cur.frame >= t) {
        stoppedBy = 'termination';
        break;
      }
      if (this.pendingEnd !== null) {
        stoppedBy = 'pending_end';
        break;
      }
      const ran = await this.runFrame();
      if (!ran) {
        stoppedBy = 'termination';
        break;
      }
      this.stats.replayedFrames++;
      // A frame that ran fully confirmed right behind the last final one is final at once; later ones wait in pending.
      while (this.pending.length > 0 && this.allConfirmed(this.pending[0].frame) && this.inputsMatch(this.pending[0])) this.commit(this.pending.shift()!);
    }
    if (cap !== null && this.cur.frame >= cap) stoppedBy = 'termination';
    this.o.onEvent?.({ type: 'fastForward', from, to: this.cur.frame, target, cap, stoppedBy });
  }

  private inputsMatch(p: PendingFrame): boolean {
    return [0, 1].every((c) => this.inputFor(c, p.frame)!.buttons === p.buttons[c]);
  }

  /** If the end was agreed behind the head, the head goes back to the termination frame and later frames are forgotten. */
  private async settleAtTermination(): Promise<void> {
    const t = this.termination.frame;
    if (t === null || this.cur.frame <= t) return;
    const i = this.pending.findIndex((p) => p.frame === t);
    if (i < 0) throw new Error(`run-ahead: cannot return to termination frame ${t} (head ${this.cur.frame}, last final frame ${this.confirmed - 1})`);
    await this.rollbackTo(i);
  }
}

/**
 * Run-ahead mode (sync.mode "runahead") for the runtime: one RunAheadEngine per episode, agents always shown the newest
 * frame, their answers fed to the engine as confirmed inputs, and the runtime's held frame kept at the engine's head.
 */
export class RunAheadDriver implements FrameDriver {
  /** The engine of the current episode. */
  private engine?: RunAheadEngine;
  private wake?: () => void;
  private signalled = false;
  /** The episode stopEpisode() already ended (its engine is complete; the next advance only moves on). */
  private stopped: number | null = null;
  private readonly totals: RunAheadStats = { rollbacks: 0, replayedFrames: 0, predictedFrames: 0, inputsPastTermination: 0 };
  private readonly inflight: Array<Promise<void> | undefined> = [undefined, undefined];
  private readonly manualNext: Array<number | undefined> = [undefined, undefined];
  private observationTime = 0;
  /** Run-ahead never sends a step for the caller's next advance: its engine already runs ahead on its own. */
  readonly inFlight = false;

  constructor(private readonly h: DriverHost) {}

  /** Run-ahead counters over the whole run (rollbacks, replayed and predicted frames). */
  get runAheadStats(): RunAheadStats {
    const cur = this.engine?.stats;
    const t = this.totals;
    return cur
      ? { rollbacks: t.rollbacks + cur.rollbacks, replayedFrames: t.replayedFrames + cur.replayedFrames, predictedFrames: t.predictedFrames + cur.predictedFrames, inputsPastTermination: t.inputsPastTermination + cur.inputsPastTermination }
      : { ...t };
  }

  confirmedFrame(cur: EmulatorFrame | undefined): number | undefined {
    return this.engine ? this.engine.confirmedFrame : cur?.frame;
  }

  startEpisode(first: EmulatorFrame): void {
    const h = this.h;
    if (this.engine) {
      const s = this.engine.stats;
      this.totals.rollbacks += s.rollbacks;
      this.totals.replayedFrames += s.replayedFrames;
      this.totals.predictedFrames += s.predictedFrames;
      this.totals.inputsPastTermination += s.inputsPastTermination;
      this.engine.dispose();
    }
    this.engine = new RunAheadEngine({
      emulator: h.deps.emulator,
      episode: h.counters.episode,
      first,
      players: h.players,
      rowFor: (f) => this.rowFor(f),
      sink: h.options.recorder,
      maxRunAhead: h.options.runAheadFrames ?? 8,
      screen: h.wantsScreens,
      // Controllers without an agent take hand-supplied buttons, read once per frame so replays reuse them.
      fixedInput: (c) => this.takeManual(c),
      onEvent: (e) => this.onEngineEvent(e),
    });
  }

  heldChanged(): void {}

  supply(p: number, buttons: number, gateOpen: boolean): void {
    const eng = this.engine;
    if (eng && this.h.players.includes(p)) {
      // The buttons become that controller's input for its oldest frame still without one.
      eng.supply(p, eng.nextUnconfirmed(p), { buttons, manual: true });
      this.wakeUp();
      return;
    }
    this.manualNext[p] = buttons;
    if (gateOpen && this.h.players.includes(p)) this.h.gate.supply(p, buttons);
  }

  resync(p: number, cur: EmulatorFrame): void {
    if (!this.inflight[p] && this.h.current() === cur) this.ask(p);
  }

  async beforeEdit(): Promise<void> {
    const eng = this.engine;
    if (eng && eng.speculativeFrames > 0) {
      // The edit applies to the confirmed state: frames run ahead on predictions are dropped and will run again.
      await eng.rewindToConfirmed();
      this.h.rewindBuffer(eng.head.frame);
      this.syncHead(eng);
    }
  }

  afterEdit(fresh: EmulatorFrame): void {
    this.engine?.replaceHead(fresh);
  }

  agentTerminated(frame: number): void {
    this.engine?.proposeTermination(frame + 1, 'agent_terminated', 'agent');
    this.wakeUp();
  }

  async stopEpisode(): Promise<void> {
    const eng = this.engine;
    if (!eng) return;
    // Frames run ahead are promoted as they ran (wasSpeculative): the user stopped here, not at the last confirmed frame.
    await eng.stopHere();
    this.h.counters.returns = eng.returns;
    this.stopped = this.h.counters.episode;
  }

  dispose(): void {
    this.engine?.dispose();
  }

  /**
   * One run-ahead step: applies arrived actions (rollback and fast-forward on a misprediction), then runs the head frame
   * on predicted input if the window allows, else waits for an answer. Returns when the head moved or the episode ended.
   */
  async advance(): Promise<FrameOutcome> {
    const h = this.h;
    const c = h.counters;
    const desyncs: DesyncEvent[] = [];
    const off = h.events.on('desync', (e) => desyncs.push(e));
    const signal = h.interruptSignal();
    let announced = false;
    try {
      while (true) {
        if (h.fault()) throw h.fault();
        const eng = this.engine!;
        this.signalled = false;
        await eng.reconcile();
        this.syncHead(eng);
        if (eng.complete) return await this.endEpisode(desyncs, eng.lastRow);
        for (const p of h.players) if (!this.inflight[p]) this.ask(p);
        if (eng.atBoundary) {
          // An idle agent already answered the last frame it was shown: its buttons stay held to the end.
          let held = false;
          for (const p of h.players) {
            if (!this.inflight[p] && eng.nextUnconfirmed(p) < eng.head.frame) {
              eng.holdThrough(p, eng.head.frame - 1);
              held = true;
            }
          }
          if (held) continue;
        }
        if (eng.canRunAhead) {
          const started = h.now();
          const row = await eng.stepHead();
          if (!row) continue;
          c.lastRewards = [...row.rewards];
          c.lastButtons = [row.buttons[0], row.buttons[1]];
          h.metrics.recordFrame({ frame: row.frame, frameDelayMs: started - this.observationTime, agentLatencyMs: Math.max(row.agentLatencyMs[0] ?? 0, row.agentLatencyMs[1] ?? 0), syncQualityMs: h.buffer.syncQualityMs(row.frame) });
          this.syncHead(eng);
          if (eng.complete) {
            const o = await this.endEpisode(desyncs, row);
            h.events.emit('frame', { row, current: h.current()! });
            return o;
          }
          h.events.emit('frame', { row, current: h.current()! });
          return { advanced: true, frame: eng.head.frame, row, desyncs };
        }
        const res = await this.waitForWake(h.deps.sync.frameTimeoutMs, signal);
        if (res === 'aborted') {
          if (h.fault()) throw h.fault();
          return { advanced: false, frame: h.current()!.frame, desyncs };
        }
        if (res === 'timeout') {
          const missing = h.players.filter((p) => eng.nextUnconfirmed(p) <= eng.confirmedFrame);
          const at = { ...h.current()!, frame: eng.confirmedFrame };
          if (!announced) {
            announced = true;
            h.events.emit('waiting', { frame: at.frame, waitingFor: missing, sinceMs: h.deps.sync.frameTimeoutMs, mode: h.gate.mode });
          }
          const ev = h.detector.record(timeoutEvent(at, missing, h.deps.sync.frameTimeoutMs, h.now()));
          h.handleDesync(ev, null, h.current()!);
          if (h.fault()) continue;
          // Seed's boundary rule: a stalled agent must not hold the episode open; its frames count as they ran.
          if (eng.atBoundary) await eng.promoteAtBoundary();
          else if (h.gate.mode === 'hold') eng.holdOldest();
        }
      }
    } finally {
      off();
    }
  }

  // ---- internals ----

  private takeManual(p: number): number {
    const v = this.manualNext[p];
    this.manualNext[p] = undefined;
    return v ?? 0;
  }

  /** The row for a frame the engine ran; pure in the frame's states and buttons, because rollbacks run frames again. */
  private rowFor(f: RunAheadFrame): { row: FrameRow; end: FrameEndKind | null } {
    const { deps, options, counters } = this.h;
    const ramMap = deps.ramMap;
    const { before, after } = f;
    const rewards: [number, number] = [ramMap.reward(0, before, after), ramMap.reward(1, before, after)];
    const step = f.frame - counters.startFrame;
    const maxSteps = options.maxSteps ?? null;
    const doneFlag = ramMap.isDone(after);
    const agentTerm = counters.agentTerminatedAt !== null && f.frame >= counters.agentTerminatedAt;
    const terminated = doneFlag || agentTerm;
    const truncated = !terminated && maxSteps !== null && step + 1 >= maxSteps;
    const row: FrameRow = {
      episode: f.episode,
      step,
      frame: f.frame,
      timestamp: before.timestamp,
      buttons: [f.buttons[0], f.buttons[1]],
      rewards,
      terminated,
      truncated,
      held: [false, false],
      manual: [false, false],
      wasSpeculative: false,
      agentLatencyMs: [null, null],
      vars: ramMap.read(before),
      // The engine fills in each agent's info once the frame's input is confirmed (rows are built on predictions).
      info: {},
      ...fingerprints(before, this.h.options.recorder !== undefined),
    };
    return { row, end: doneFlag ? 'done_flag' : agentTerm ? 'agent_terminated' : truncated ? 'max_steps' : null };
  }

  private onEngineEvent(e: RunAheadEvent): void {
    switch (e.type) {
      case 'rollback':
        // The abandoned timeline's states must not pair with anything.
        this.h.rewindBuffer(e.frame);
        break;
      case 'boundary':
        if (e.promoted > 0) {
          this.h.events.emit('log', { level: 'warn', message: `episode ${this.h.counters.episode}: ${e.promoted} frame(s) without a confirmed action kept at the episode end (wasSpeculative)` });
        }
        break;
      case 'fastForward':
      case 'termination':
        break;
      default: {
        const _never: never = e;
        throw new Error(`unknown run-ahead event ${JSON.stringify(_never)}`);
      }
    }
  }

  /** Asks an idle agent about the head frame: in run-ahead an agent always sees the newest frame, not a held one. */
  private ask(p: number): void {
    const h = this.h;
    const agent = h.deps.agents[p];
    const eng = this.engine;
    const cur = h.current();
    if (!agent || !eng || !cur || this.inflight[p] || h.closed()) return;
    // At the boundary every frame of the episode has run: there is nothing left to decide.
    if (eng.atBoundary || eng.nextUnconfirmed(p) > cur.frame) return;
    const asked = { episode: h.counters.episode, frame: cur.frame, at: h.now() };
    const obs = h.observation(cur, p as 0 | 1, agent.wantsScreen);
    this.inflight[p] = agent.act(obs).then(
      (action) => {
        this.inflight[p] = undefined;
        this.onAction(p, asked, action);
        this.wakeUp();
      },
      (err: unknown) => {
        this.inflight[p] = undefined;
        h.fail(new RuntimeFault(`agent ${agent.name} (controller ${p + 1}) failed: ${(err as Error)?.message ?? String(err)}`));
        this.wakeUp();
      },
    );
  }

  private onAction(p: number, asked: { episode: number; frame: number; at: number }, action: AgentAction): void {
    const h = this.h;
    if (h.closed()) return;
    const eng = this.engine;
    if (!eng || asked.episode !== h.counters.episode) {
      h.events.emit('log', { level: 'warn', message: `controller ${p + 1}: action for frame ${asked.frame} of episode ${asked.episode} came after that episode ended; dropped` });
      return;
    }
    if (action.frame !== asked.frame) {
      const ev = h.detector.checkFrame(asked.frame, action.frame, { player: p, now: h.now() });
      const cur = h.current();
      if (ev && cur) h.handleDesync(ev, p, cur);
      return;
    }
    try {
      const r = eng.supply(p, asked.frame, { buttons: action.buttons, latencyMs: h.now() - asked.at, ...(action.info ? { info: action.info } : {}) });
      if (r === 'stale') {
        h.events.emit('log', { level: 'warn', message: `controller ${p + 1}: action for frame ${asked.frame} came after that frame was final (held or promoted); dropped` });
      }
    } catch (e) {
      h.fail(new RuntimeFault(`agent ${h.deps.agents[p]?.name ?? '?'} (controller ${p + 1}): ${(e as Error).message}`));
    }
  }

  private wakeUp(): void {
    this.signalled = true;
    this.wake?.();
  }

  private waitForWake(ms: number, signal: AbortSignal): Promise<'woken' | 'timeout' | 'aborted'> {
    if (signal.aborted) return Promise.resolve('aborted');
    if (this.signalled) {
      this.signalled = false;
      return Promise.resolve('woken');
    }
    return new Promise((resolve) => {
      const done = (r: 'woken' | 'timeout' | 'aborted') => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.wake = undefined;
        this.signalled = false;
        resolve(r);
      };
      const onAbort = () => done('aborted');
      const timer = setTimeout(() => done('timeout'), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.wake = () => done('woken');
    });
  }

  /** The runtime's held frame follows the engine's head. */
  private syncHead(eng: RunAheadEngine): void {
    const h = this.h;
    if (eng.head !== h.current()) {
      h.setCurrent(eng.head);
      this.observationTime = h.now();
    }
    h.counters.step = eng.head.frame - h.counters.startFrame;
  }

  private async endEpisode(desyncs: DesyncEvent[], row: FrameRow | undefined): Promise<FrameOutcome> {
    const h = this.h;
    const c = h.counters;
    const eng = this.engine!;
    const t = eng.termination.frame!;
    if (eng.head.frame !== t) throw new Error(`run-ahead: episode ends at frame ${t} but the emulator holds frame ${eng.head.frame}`);
    c.step = t - c.startFrame;
    c.returns = eng.returns;
    if (eng.lastRow) c.lastRewards = [...eng.lastRow.rewards];
    const end = h.makeEpisodeEnd(eng.termination.reason ?? 'max_steps', eng.head);
    // After stopEpisode() the end was already announced; the next advance only starts the next episode.
    const announce = this.stopped !== c.episode;
    this.stopped = null;
    if (announce) {
      await h.options.recorder?.endEpisode(end, eng.head.ram);
      for (const agent of h.deps.agents) await agent?.episodeEnd?.(end);
      h.events.emit('episodeEnd', end);
    }
    const fresh = await h.nextEpisode(end);
    return { advanced: true, frame: fresh.frame, row, desyncs, episodeEnd: announce ? end : undefined };
  }
}
