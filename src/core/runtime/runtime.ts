// The lockstep runtime: one frame at a time, emulator held at frame N until every agent's action for N arrives; detects, recovers, records.
import { hasScreen, type EmulatorFrame, type EmulatorPort, type RomInfo, type SnapshotHandle } from '../ports';
import type { AgentAction, AgentPort, Observation } from '../ports';
import type { SyncConfig } from '../config/config';
import type { RamMap } from '../config/ramMap';
import { FrameGate, type GateMode } from '../sync/frameGate';
import { DesyncDetector, type DesyncEvent, type DesyncType } from '../sync/desyncDetector';
import { RecoveryPolicy, type RecoveryPlan } from '../sync/recovery';
import { SyncBuffer } from '../sync/syncBuffer';
import { SyncMetrics } from '../sync/metrics';
import { ClockSyncScheduler, isClockPingable, type ClockPeer, type ClockRound } from '../sync/clockSyncScheduler';
import { TypedEmitter } from '../typedEmitter';
import { shortHash } from '../episodes/ramHash';
import { RunAheadEngine, type FrameEndKind, type RunAheadEvent, type RunAheadFrame, type RunAheadStats } from './runAheadDriver';
import { isStateExporter } from '../ports';
import type { ReferenceTrack } from '../divergence/referenceTrack';
import type { EpisodeEnd, FrameRow, RowSink } from './rows';
import { SessionHistory, type SessionHistoryOptions } from '../history/sessionHistory';
import { isTimeTravelPort } from '../history/timeTravelPort';
import { SnapshotTimeTravel } from '../history/snapshotTimeTravel';

export interface RuntimeStateBuffered {
  ram: Uint8Array;
  vars: Record<string, number>;
  lag: boolean;
}

export interface FrameOutcome {
  /** False when the wait was interrupted (pause) or the run faulted; the emulator still holds the same frame. */
  advanced: boolean;
  /** The frame the emulator now holds. */
  frame: number;
  row?: FrameRow;
  desyncs: DesyncEvent[];
  episodeEnd?: EpisodeEnd;
}

export interface GateStatus {
  frame: number;
  waitingFor: number[];
  sinceMs: number;
  mode: GateMode;
}

export interface RuntimeEvents {
  frame: { row: FrameRow; current: EmulatorFrame };
  desync: DesyncEvent;
  waiting: GateStatus;
  episodeEnd: EpisodeEnd;
  log: { level: 'info' | 'warn' | 'error'; message: string };
}

export interface RuntimeDeps {
  emulator: EmulatorPort;
  /** Agents by controller: index 0 drives controller 1. A missing agent leaves that controller released. */
  agents: ReadonlyArray<AgentPort | undefined>;
  ramMap: RamMap;
  sync: SyncConfig;
  now?: () => number;
}

export interface RuntimeOptions {
  romPath: string;
  maxSteps?: number | null;
  /**
   * true: capture a screen every frame (recordings); false: never, even while a panel shows screens; absent: capture
   * while someone shows screens (setScreensShown). Agents that want screens get them regardless.
   */
  captureScreens?: boolean;
  /** Snapshots kept for step back (0 = no step back, fastest). */
  stepBackDepth?: number;
  recorder?: RowSink;
  /** sync.mode "runahead": frames the emulator may run on predicted input ahead of the agents' answers (default 8). */
  runAheadFrames?: number;
  /**
   * Every this many steps (lockstep mode, an emulator that can export its state) a row carries the machine state it
   * started from, for the recording's snapshot sidecar. 0 or absent: none.
   */
  snapshotEvery?: number;
  /** A recorded run to compare against: the first frame whose fingerprint differs is a state_divergence desync (once per episode). */
  reference?: ReferenceTrack;
  /**
   * Keep the whole session (SessionHistory) for step back and travel, instead of the last stepBackDepth frames of the
   * episode. Lockstep mode only (ignored in run-ahead).
   */
  history?: SessionHistoryOptions;
}

/** Raised when recovery gives up; the run stops, rows recorded so far are kept. */
export class RuntimeFault extends Error {
  constructor(message: string, readonly event?: DesyncEvent) {
    super(message);
    this.name = 'RuntimeFault';
  }
}

interface HistoryEntry {
  snapshot: SnapshotHandle;
  current: EmulatorFrame;
  episode: number;
  step: number;
  lastButtons: [number, number];
  returns: [number, number];
  lastRewards: [number, number];
}

const wallNow = () => performance.timeOrigin + performance.now();

export class LockstepRuntime {
  readonly events = new TypedEmitter<RuntimeEvents>();
  readonly detector: DesyncDetector;
  readonly recovery: RecoveryPolicy;
  readonly buffer: SyncBuffer<RuntimeStateBuffered, Uint8Array>;
  readonly metrics: SyncMetrics;
  /** Layer 2: clock offsets of the emulator link and the trainers, re-measured every clockSyncInterval frames. */
  readonly clocks: ClockSyncScheduler;
  private readonly gate: FrameGate;
  private readonly now: () => number;
  private readonly players: number[];
  private rom?: RomInfo;
  private cur?: EmulatorFrame;
  private curVars?: Record<string, number>;
  private episodeStart?: SnapshotHandle;
  private episodeStartFrame = 0;
  private episode = 0;
  private step = 0;
  private returns: [number, number] = [0, 0];
  /** Reward of the transition that led to the held frame, per controller (what a Gym step() returns with the observation). */
  private lastRewards: [number, number] = [0, 0];
  private lastButtons: [number, number] = [0, 0];
  private lastAction: Array<AgentAction | undefined> = [undefined, undefined];
  private readonly inflight: Array<Promise<void> | undefined> = [undefined, undefined];
  private readonly askedAt: number[] = [0, 0];
  private readonly latency: Array<number | null> = [null, null];
  private readonly manualNext: Array<number | undefined> = [undefined, undefined];
  /** Frames that ran with held buttons while the agent's answer was still out (frame hold). */
  private readonly heldFrames: [Set<number>, Set<number>] = [new Set(), new Set()];
  private heldFrame: number | null = null;
  private observationTime = 0;
  private interrupt?: AbortController;
  private fault?: RuntimeFault;
  private agentTerminatedAt: number | null = null;
  private history: HistoryEntry[] = [];
  /** The whole session, when kept (options.history); replaces the ring above. */
  private readonly session?: SessionHistory;
  /** The held state's tick in the session history. */
  private tick = -1;
  /** Set while the held state is in a finished episode: forward motion replays the record up to this tick (the present). */
  private replayingUntil: number | null = null;
  private started = false;
  private closed = false;
  /** Run-ahead mode: the engine for the current episode. */
  private runAhead?: RunAheadEngine;
  private raWake?: () => void;
  private raSignalled = false;
  /** Run-ahead: the episode stopEpisode() already ended (its engine is complete; the next advance only moves on). */
  private raStopped: number | null = null;
  private readonly raTotals: RunAheadStats = { rollbacks: 0, replayedFrames: 0, predictedFrames: 0, inputsPastTermination: 0 };
  /** Where the reference divergence was reported in this episode (one report per episode, again after stepping back before it). */
  private referenceReported: { episode: number; step: number } | null = null;
  /** A screen panel (or anything else showing screens) is open: capture follows it unless captureScreens says otherwise. */
  private screensShown = false;

  constructor(private readonly deps: RuntimeDeps, private readonly options: RuntimeOptions) {
    this.now = deps.now ?? wallNow;
    const s = deps.sync;
    this.players = deps.agents.flatMap((a, i) => (a ? [i] : []));
    this.gate = new FrameGate({ players: this.players, now: this.now });
    this.detector = new DesyncDetector({ maxFrameSkip: s.maxFrameSkip, frameTimeoutMs: s.frameTimeoutMs, clockDriftThresholdMs: s.clockDriftThresholdMs });
    this.recovery = new RecoveryPolicy({ maxDesyncCount: s.maxDesyncCount, reconnectAttempts: s.reconnectAttempts, reconnectDelayMs: s.reconnectDelayMs });
    this.buffer = new SyncBuffer(s.syncBufferSize);
    this.metrics = new SyncMetrics({ now: this.now });
    this.gate.mode = s.onTimeout === 'skip' ? 'hold' : 'strict';
    this.clocks = new ClockSyncScheduler({
      peers: clockPeers(deps), intervalFrames: s.clockSyncInterval, timeoutMs: s.heartbeatIntervalMs, now: this.now,
      onRound: (r) => this.onClockRound(r),
    });
    if (options.history && s.mode !== 'runahead') {
      const log = options.history.log ?? ((level: 'info' | 'warn', message: string) => this.events.emit('log', { level, message }));
      // The embedded emulator keeps compressed keyframes itself; any other (FCEUX) lends its snapshots.
      const port = isTimeTravelPort(deps.emulator) ? deps.emulator : new SnapshotTimeTravel(deps.emulator);
      this.session = new SessionHistory(port, { ...options.history, log });
    }
  }

  /** The session history (every held state of every episode), when kept. */
  get sessionHistory(): SessionHistory | undefined {
    return this.session;
  }

  /** The held state's tick in the session history (-1 without one). */
  get currentTick(): number {
    return this.tick;
  }

  /** True while the held state is in a finished episode: advancing replays the record instead of asking the agents. */
  get replayingPast(): boolean {
    return this.replayingUntil !== null;
  }

  get romInfo(): RomInfo | undefined {
    return this.rom;
  }
  get current(): EmulatorFrame | undefined {
    return this.cur;
  }
  get episodeIndex(): number {
    return this.episode;
  }
  get stepIndex(): number {
    return this.step;
  }
  get lastAppliedButtons(): readonly [number, number] {
    return this.lastButtons;
  }
  get gateMode(): GateMode {
    return this.gate.mode;
  }
  set gateMode(m: GateMode) {
    this.gate.mode = m;
  }
  get gateStatus(): GateStatus | null {
    const w = this.gate.waiting;
    return w ? { frame: w.frame, waitingFor: w.waitingFor, sinceMs: this.now() - w.since, mode: this.gate.mode } : null;
  }
  get agentCount(): number {
    return this.players.length;
  }
  get canStepBack(): boolean {
    return this.session ? this.tick > this.session.oldestTick : this.history.length > 0;
  }
  get historyDepth(): number {
    return this.session ? Math.max(0, this.tick - this.session.oldestTick) : this.history.length;
  }
  get wantsScreens(): boolean {
    const configured = this.options.captureScreens;
    return configured === true || (configured !== false && this.screensShown) || this.deps.agents.some((a) => a?.wantsScreen);
  }

  /** The launch configuration's captureScreens (undefined: follow setScreensShown). */
  get screenCaptureSetting(): boolean | undefined {
    return this.options.captureScreens;
  }

  /**
   * Whether something shows this run's screens; capture switches on or off from the next frame (call refreshScreen
   * while stopped to give the held frame its screen). Returns wantsScreens afterwards.
   */
  setScreensShown(shown: boolean): boolean {
    this.screensShown = shown;
    return this.wantsScreens;
  }

  /** Only between frames (stopped): when screens are wanted and the held frame has none, reads it from the emulator. */
  async refreshScreen(): Promise<EmulatorFrame | undefined> {
    const cur = this.cur;
    if (!cur || !this.wantsScreens || hasScreen(cur)) return cur;
    const fresh = await this.deps.emulator.current({ screen: true });
    // Run-ahead may hold the emulator on a frame after the shown one; that frame's screen is not this one's.
    if (fresh.frame !== cur.frame || this.cur !== cur) return this.cur;
    this.runAhead?.replaceHead(fresh);
    // Same frame, same RAM (curVars still hold): only the screen is new, so the state buffer keeps its one row.
    this.cur = fresh;
    if (hasScreen(fresh)) this.buffer.addScreen({ frame: fresh.frame, timestamp: fresh.timestamp, get screen() { return fresh.screen!; } });
    return fresh;
  }

  get isRunAhead(): boolean {
    return this.deps.sync.mode === 'runahead';
  }
  /** Run-ahead counters over the whole run (rollbacks, replayed and predicted frames). */
  get runAheadStats(): RunAheadStats {
    const cur = this.runAhead?.stats;
    const t = this.raTotals;
    return cur
      ? { rollbacks: t.rollbacks + cur.rollbacks, replayedFrames: t.replayedFrames + cur.replayedFrames, predictedFrames: t.predictedFrames + cur.predictedFrames, inputsPastTermination: t.inputsPastTermination + cur.inputsPastTermination }
      : { ...t };
  }
  /** Run-ahead: frames below this have final rows (equals the held frame in lockstep). */
  get confirmedFrame(): number | undefined {
    return this.runAhead ? this.runAhead.confirmedFrame : this.cur?.frame;
  }

  /** Loads the ROM, starts the agents (may wait for a trainer to connect) and holds frame 0 of episode 0. */
  async start(signal?: AbortSignal): Promise<EmulatorFrame> {
    if (this.started) throw new Error('runtime already started');
    this.started = true;
    const { rom, first: powerOn } = await this.deps.emulator.start(this.options.romPath, { screen: this.wantsScreens });
    this.rom = rom;
    let first = powerOn;
    // The game's boot frames (RAM still uninitialised) are not part of any episode: rewards there would be garbage.
    for (let i = 0, n = this.deps.ramMap.warmupFramesFor(this.deps.emulator.kind); i < n; i++) first = await this.deps.emulator.step([0, 0], { screen: this.wantsScreens });
    for (const agent of this.deps.agents) await agent?.start?.(signal);
    // A trainer's screen request is known only once it connected: fetch the first frame's screen then.
    if (this.wantsScreens && !hasScreen(first)) first = await this.deps.emulator.current({ screen: true });
    this.episodeStart = await this.deps.emulator.saveSnapshot();
    this.enterEpisode(first);
    this.recordHeld(first);
    this.checkReference(first);
    this.clocks.connected(first.frame);
    return first;
  }

  /** Stops waiting for agents at the held frame (pause); advance() then returns with advanced=false. */
  interruptWait(): void {
    this.interrupt?.abort();
  }

  /** Supplies buttons by hand for the held frame: for one controller, or every controller still awaited. */
  supplyAction(buttons: number, player?: number): void {
    const waiting = this.gate.waiting;
    const targets = player !== undefined ? [player] : (waiting?.waitingFor ?? (this.players.length ? this.players : [0]));
    for (const p of targets) {
      if (p !== 0 && p !== 1) throw new Error(`controller must be 1 or 2, got ${p + 1}`);
      if (this.runAhead && this.players.includes(p)) {
        // Run-ahead: the buttons become that controller's input for its oldest frame still without one.
        this.runAhead.supply(p, this.runAhead.nextUnconfirmed(p), { buttons, manual: true });
        this.wakeRunAhead();
        continue;
      }
      this.manualNext[p] = buttons;
      // Before the frame is held (between frames) the buttons wait in manualNext and reach the gate when it opens.
      if (waiting && this.players.includes(p)) this.gate.supply(p, buttons);
    }
  }

  /** Runs exactly one frame (or returns early when interrupted). */
  async advance(): Promise<FrameOutcome> {
    const cur = this.requireCurrent();
    if (this.fault) throw this.fault;
    if (this.runAhead) return this.clocked(await this.advanceRunAhead());
    if (this.replayingUntil !== null) return this.replayForward();
    const desyncs: DesyncEvent[] = [];
    const off = this.events.on('desync', (e) => desyncs.push(e));
    try {
      if (this.heldFrame !== cur.frame) {
        this.heldFrame = cur.frame;
        this.gate.open(cur.frame);
        this.observationTime = this.now();
        for (const p of this.players) if (this.manualNext[p] !== undefined) this.gate.supply(p, this.manualNext[p]!);
        for (const p of this.players) if (!this.inflight[p]) this.ask(p, cur);
      }
      const gateResult = await this.awaitActions(cur);
      if (!gateResult) return { advanced: false, frame: cur.frame, desyncs };
      const outcome = await this.applyFrame(cur, gateResult.buttons, gateResult.held, gateResult.latency);
      outcome.desyncs = desyncs;
      return this.clocked(outcome);
    } finally {
      off();
    }
  }

  /** Runs frames until `until` says stop, an episode limit, or an interrupt; returns the last outcome. */
  async run(until: (o: FrameOutcome) => boolean): Promise<FrameOutcome> {
    while (true) {
      const o = await this.advance();
      if (!o.advanced || until(o)) return o;
    }
  }

  /** Steps back n frames from the snapshot ring: RAM, screen, frame id, buffers, episode counters and recorded rows. */
  async stepBack(n = 1): Promise<EmulatorFrame> {
    if (this.session) {
      if (n < 1 || this.tick <= this.session.oldestTick) throw new Error(`nothing to step back to: tick ${this.tick} is the oldest reachable`);
      return this.travelTo(Math.max(this.session.oldestTick, this.tick - n));
    }
    if (n < 1 || this.history.length === 0) throw new Error('nothing to step back to');
    const k = Math.min(n, this.history.length);
    const target = this.history[this.history.length - k];
    for (const e of this.history.splice(this.history.length - k)) {
      if (e !== target) this.deps.emulator.dropSnapshot(e.snapshot);
    }
    const restored = await this.deps.emulator.loadSnapshot(target.snapshot, { screen: this.wantsScreens });
    this.deps.emulator.dropSnapshot(target.snapshot);
    this.episode = target.episode;
    this.step = target.step;
    this.lastButtons = [...target.lastButtons];
    this.returns = [...target.returns];
    this.lastRewards = [...target.lastRewards];
    this.options.recorder?.truncate(this.episode, this.step);
    this.rewindBuffer(restored.frame);
    this.setCurrent(restored);
    return restored;
  }

  /**
   * Holds the state of session tick `tick` (any episode), restored from the history and checked by its determinism
   * guard. Within the current episode the run goes on from there (later ticks and rows are dropped, as with step back);
   * in a finished episode the past is read-only: advancing replays the recorded inputs until the present.
   */
  async travelTo(tick: number): Promise<EmulatorFrame> {
    const h = this.session;
    if (!h) throw new Error('travel needs the session history (timeTravel on, lockstep mode)');
    if (!this.cur) throw new Error('runtime not started');
    if (!Number.isInteger(tick) || tick < h.oldestTick || tick > h.headTick) {
      throw new Error(`tick ${tick} is outside the reachable history (${h.oldestTick}..${h.headTick})`);
    }
    const present = h.episodes.at(-1)!;
    const { frame, state } = await h.restore(tick, { screen: this.wantsScreens });
    this.episode = state.episode;
    this.step = state.step;
    this.episodeStartFrame = state.frame - state.step;
    this.lastButtons = [...state.lastButtons];
    this.returns = [...state.returns];
    this.lastRewards = [...state.lastRewards];
    this.tick = tick;
    if (tick >= present.firstTick) {
      h.truncateAfter(tick);
      this.replayingUntil = null;
      this.options.recorder?.truncate(this.episode, this.step);
      this.rewindBuffer(frame.frame);
    } else {
      this.replayingUntil = h.headTick;
      this.buffer.clear();
    }
    this.setCurrent(frame);
    return frame;
  }

  /** One recorded frame forward from the past (no agents asked, nothing recorded), checked like a restore. */
  private async replayForward(): Promise<FrameOutcome> {
    const h = this.session!;
    const next = this.tick + 1;
    let frame: EmulatorFrame;
    if (h.startsEpisode(next)) {
      frame = await this.deps.emulator.loadSnapshot(this.episodeStart!, { screen: this.wantsScreens });
    } else {
      frame = await this.deps.emulator.step(h.buttonsAt(this.tick), { screen: this.wantsScreens });
    }
    const writes = h.writesAt(next);
    for (const w of writes) await this.deps.emulator.writeRam(w.address, w.bytes);
    if (writes.length) frame = await this.deps.emulator.current({ screen: this.wantsScreens });
    h.check(next, frame.ram);
    const state = h.stateAt(next);
    const endedEpisode = state.episode !== this.episode;
    this.episode = state.episode;
    this.step = state.step;
    this.episodeStartFrame = state.frame - state.step;
    this.lastButtons = [...state.lastButtons];
    this.returns = [...state.returns];
    this.lastRewards = [...state.lastRewards];
    this.tick = next;
    if (next >= this.replayingUntil!) this.replayingUntil = null;
    if (endedEpisode) this.buffer.clear();
    this.setCurrent(frame);
    return { advanced: true, frame: frame.frame, desyncs: [] };
  }

  /** Adds the held state to the session history as a new tick. */
  private recordHeld(f: EmulatorFrame): void {
    if (!this.session) return;
    this.tick = this.session.held(
      { episode: this.episode, step: this.step, frame: f.frame, lastButtons: this.lastButtons, returns: this.returns, lastRewards: this.lastRewards },
      f.ram,
    );
  }

  /** The observation an agent would get for the held frame. */
  observation(player: 0 | 1, withScreen = false): Observation {
    const cur = this.requireCurrent();
    return this.makeObservation(cur, player, withScreen);
  }

  async writeRam(address: number, bytes: Uint8Array): Promise<EmulatorFrame> {
    if (this.replayingUntil !== null) throw new Error('the held frame is in a finished episode (read-only past): step or continue to the present, or travel into the current episode, before writing RAM');
    if (this.runAhead && this.runAhead.speculativeFrames > 0) {
      // The edit applies to the confirmed state: frames run ahead on predictions are dropped and will run again.
      await this.runAhead.rewindToConfirmed();
      this.rewindBuffer(this.runAhead.head.frame);
      this.syncHead(this.runAhead);
    }
    await this.deps.emulator.writeRam(address, bytes);
    this.options.recorder?.noteExternalEdit?.(this.episode, this.cur?.frame ?? 0, `${bytes.length} byte(s) written at $${address.toString(16).padStart(4, '0')}`);
    const fresh = await this.deps.emulator.current({ screen: this.wantsScreens });
    this.runAhead?.replaceHead(fresh);
    this.setCurrent(fresh);
    this.session?.wrote(address, bytes, fresh.ram);
    return fresh;
  }

  /** The trainer said its episode is over at `frame`: fixes the synced termination after that frame's row. */
  agentTerminated(frame: number): void {
    this.agentTerminatedAt = this.agentTerminatedAt === null ? frame : Math.min(this.agentTerminatedAt, frame);
    this.runAhead?.proposeTermination(frame + 1, 'agent_terminated', 'agent');
    this.wakeRunAhead();
  }

  /** Ends the current episode early (user stop); recorded rows stay. */
  async stopEpisode(): Promise<EpisodeEnd | undefined> {
    if (!this.cur || this.step === 0) return undefined;
    if (this.replayingUntil !== null) throw new Error('the held frame is in a finished episode: it has ended already');
    if (this.runAhead) {
      // Frames run ahead are promoted as they ran (wasSpeculative): the user stopped here, not at the last confirmed frame.
      await this.runAhead.stopHere();
      this.returns = this.runAhead.returns;
      this.raStopped = this.episode;
    }
    const end = this.makeEpisodeEnd('stopped', this.cur);
    await this.options.recorder?.endEpisode(end, this.cur.ram);
    this.events.emit('episodeEnd', end);
    return end;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clocks.close();
    this.interrupt?.abort();
    this.runAhead?.dispose();
    await Promise.allSettled(this.deps.agents.map((a) => a?.close()));
    await this.deps.emulator.close();
  }

  // ---- internals ----

  /** An emulator timestamp in the bridge's clock, once the emulator link's offset is measured (unchanged before, and for in-process emulators). */
  private bridgeTime(emulatorMs: number): number {
    const offset = this.clocks.offsetOf('emulator');
    return offset === null ? emulatorMs : emulatorMs - offset;
  }

  /** Counts a frame that ran towards the next clock sync. */
  private clocked(o: FrameOutcome): FrameOutcome {
    if (o.advanced) this.clocks.frameRan(o.frame);
    return o;
  }

  /** A clock-sync round finished: the offset goes to the metrics, and a move beyond the threshold is a clock_drift desync. */
  private onClockRound(r: ClockRound): void {
    const cur = this.cur;
    if (this.closed || !cur) return;
    if (r.newLink) this.detector.resetClock(r.peer.name);
    this.metrics.recordClocks(this.clocks.clocks);
    const ev = this.detector.checkClock(r.offsetMs, { frame: cur.frame, now: this.now(), peer: r.peer.name, player: r.peer.player, uncertaintyMs: r.rttMs / 2 });
    if (ev) this.handleDesync(ev, null, cur);
  }

  private requireCurrent(): EmulatorFrame {
    if (!this.cur) throw new Error('runtime not started');
    return this.cur;
  }

  private enterEpisode(first: EmulatorFrame): void {
    this.step = 0;
    this.returns = [0, 0];
    this.lastRewards = [0, 0];
    this.agentTerminatedAt = null;
    this.episodeStartFrame = first.frame;
    if (this.isRunAhead) this.startRunAheadEpisode(first);
    this.setCurrent(first);
  }

  private setCurrent(f: EmulatorFrame): void {
    this.cur = f;
    this.heldFrame = null;
    const vars = this.deps.ramMap.read(f.ram);
    this.curVars = vars;
    // Buffered in the bridge's clock (the emulator's stamp minus its measured offset): pairing and sync quality compare
    // times from one clock even when the emulator runs on another machine.
    const timestamp = this.bridgeTime(f.timestamp);
    this.buffer.addState({ frame: f.frame, timestamp, state: { ram: f.ram, vars, lag: f.lag }, episode: this.episode });
    // The buffer reads the screen when someone looks at it: storing it must not convert it (see hasScreen).
    if (hasScreen(f)) this.buffer.addScreen({ frame: f.frame, timestamp, get screen() { return f.screen!; } });
  }

  /** The RAM-map variables of the held frame, read once when it became current. */
  private varsOf(f: EmulatorFrame): Record<string, number> {
    return f === this.cur && this.curVars ? this.curVars : this.deps.ramMap.read(f.ram);
  }

  private rewindBuffer(toFrame: number): void {
    const states = this.buffer.states().filter((s) => s.frame < toFrame);
    const screens = this.buffer.screens().filter((s) => s.frame !== null && s.frame < toFrame);
    this.buffer.clear();
    for (const s of states) this.buffer.addState(s);
    for (const s of screens) this.buffer.addScreen(s);
  }

  private makeObservation(cur: EmulatorFrame, player: 0 | 1, withScreen: boolean): Observation {
    // A fresh read: an agent may keep or change what it is given.
    const vars = this.deps.ramMap.read(cur.ram);
    return {
      frame: cur.frame,
      step: this.step,
      episode: this.episode,
      player,
      timestamp: cur.timestamp,
      ram: cur.ram,
      vars,
      reward: this.lastRewards[player],
      terminated: false,
      truncated: false,
      info: { lag: cur.lag },
      screen: withScreen ? cur.screen : undefined,
    };
  }

  /** Sends the held frame's observation to one agent; its answer goes to the gate (or the detector on a mismatch). */
  private ask(p: number, cur: EmulatorFrame): void {
    if (this.runAhead) return this.askRunAhead(p);
    const agent = this.deps.agents[p];
    if (!agent) return;
    this.askedAt[p] = this.now();
    const obs = this.makeObservation(cur, p as 0 | 1, agent.wantsScreen);
    const pending = agent.act(obs).then(
      (action) => {
        this.inflight[p] = undefined;
        this.onAction(p, action);
      },
      (err: unknown) => {
        this.inflight[p] = undefined;
        this.fail(new RuntimeFault(`agent ${agent.name} (controller ${p + 1}) failed: ${(err as Error)?.message ?? String(err)}`));
      },
    );
    this.inflight[p] = pending;
  }

  private onAction(p: number, action: AgentAction): void {
    if (this.closed) return;
    const cur = this.cur;
    if (!cur) return;
    this.lastAction[p] = action;
    if (this.heldFrames[p].delete(action.frame)) {
      // That frame already ran with held buttons (frame hold): the late answer is stale, not a rewind. Ask again for the held frame.
      this.events.emit('log', { level: 'warn', message: `controller ${p + 1}: late action for frame ${action.frame} dropped (frame ran with held buttons)` });
      if (this.heldFrame === cur.frame && !this.gate.isManual(p)) this.ask(p, cur);
      return;
    }
    const r = this.gate.offer(p, action.frame, action.buttons, action.info);
    if (r.accepted) {
      this.latency[p] = this.now() - this.askedAt[p];
      return;
    }
    const ev = this.detector.checkFrame(r.expected, r.received, { player: p, now: this.now() });
    if (!ev) return;
    this.handleDesync(ev, p, cur);
  }

  /** The row's info: what each agent sent with the action the gate counted for the held frame, as `{p1, p2}`. */
  private rowInfo(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const p of this.players) {
      const info = this.gate.actionInfo(p);
      if (info && Object.keys(info).length > 0) out[`p${p + 1}`] = info;
    }
    return out;
  }

  private handleDesync(ev: DesyncEvent, p: number | null, cur: EmulatorFrame): RecoveryPlan {
    const plan = this.recovery.plan(ev);
    ev.recovery = describePlan(plan);
    this.metrics.recordDesync(ev.type);
    this.buffer.markDesync(cur.frame, ev.type);
    this.session?.mark({ kind: 'desync', text: `${ev.type}: ${ev.message}`, desync: ev });
    this.events.emit('desync', ev);
    this.executeSimplePlan(plan, ev, p, cur);
    return plan;
  }

  /** Executes the parts of a plan that need no waiting (resync, buffer clear, counter reset, give up). */
  private executeSimplePlan(plan: RecoveryPlan, ev: DesyncEvent, p: number | null, cur: EmulatorFrame): void {
    for (const a of plan.actions) {
      switch (a) {
        case 'resync':
          // The agent is told the held frame's state again; its frame counter follows the state it receives.
          if (p !== null && !this.inflight[p] && this.cur === cur) this.ask(p, cur);
          break;
        case 'clear_buffer':
          this.buffer.clear();
          // Keep the mark on the held frame: the buffer view must still show why it was cleared.
          this.buffer.addState({ frame: cur.frame, timestamp: this.bridgeTime(cur.timestamp), state: { ram: cur.ram, vars: this.deps.ramMap.read(cur.ram), lag: cur.lag }, episode: this.episode, desync: [ev.type] });
          break;
        case 'reset_counter':
          // The agent's frame count follows the state it is sent again (resync); the detector's counts are the run's
          // record of desyncs (CLI summary, serve, debugger) and must not be zeroed here.
          break;
        case 'give_up':
          this.fail(new RuntimeFault(`giving up after repeated desyncs: ${plan.reason}`, ev));
          break;
        case 'heartbeat':
        case 'hold':
        case 'reconnect':
        case 'none':
          break;
        default: {
          const _never: never = a;
          throw new Error(`unknown recovery action ${String(_never)}`);
        }
      }
    }
  }

  private fail(f: RuntimeFault): void {
    // After close() the agents reject what they were asked (they were closed under it): an ending, not a fault.
    if (this.fault || this.closed) return;
    this.fault = f;
    this.events.emit('log', { level: 'error', message: f.message });
    this.interrupt?.abort();
  }

  /**
   * The signal that ends the coming wait when the run is interrupted. One controller serves every wait until it is
   * used (a new one per frame cost more than the rest of the gate's work); an interrupt made between waits is dropped,
   * as it always was: the next wait gets a fresh controller.
   */
  private interruptSignal(): AbortSignal {
    if (!this.interrupt || this.interrupt.signal.aborted) this.interrupt = new AbortController();
    return this.interrupt.signal;
  }

  /** Waits at the gate; handles timeouts through the recovery policy. Returns undefined when interrupted. */
  private async awaitActions(cur: EmulatorFrame): Promise<{ buttons: [number, number]; held: [boolean, boolean]; latency: [number | null, number | null] } | undefined> {
    const held: [boolean, boolean] = [false, false];
    if (this.players.length === 0) {
      return { buttons: [this.takeManual(0), this.takeManual(1)], held, latency: [null, null] };
    }
    // An agent that answers at once (built-in agents are async functions) has its answer one microtask away: letting
    // it land first spares the wait's timeout timer and abort listener, which cost more than the rest of the frame's gate work.
    if (!this.gate.complete) await Promise.resolve();
    const signal = this.interruptSignal();
    let announced = false;
    while (true) {
      if (this.fault) throw this.fault;
      const timeout = this.deps.sync.frameTimeoutMs;
      const res = await this.gate.wait(timeout, signal);
      if (this.fault) throw this.fault;
      if (res.status === 'ready') {
        // Every agent answered: whoever was being waited for is back, so a later outage gets the full reconnect budget again.
        if (this.recovery.reconnectAttemptsMade > 0) this.recovery.reconnectResult(true);
        const buttons: [number, number] = [res.buttons[0], res.buttons[1]];
        for (let p = 0; p < 2; p++) {
          if (!this.players.includes(p)) buttons[p] = this.takeManual(p);
        }
        const latency: [number | null, number | null] = [this.latency[0], this.latency[1]];
        this.latency[0] = this.latency[1] = null;
        return { buttons, held, latency };
      }
      if (res.status === 'aborted') return undefined;
      // Timeout: the action for the held frame is late.
      if (!announced) {
        announced = true;
        const st = this.gateStatus;
        if (st) this.events.emit('waiting', st);
      }
      const ev = this.detector.checkTiming(this.observationTime, this.now(), { frame: cur.frame, player: res.missing[0] })
        ?? this.detector.record(this.syntheticTimeout(cur, res.missing, res.waitedMs));
      let plan = this.handleDesync(ev, null, cur);
      if (plan.actions.includes('heartbeat')) {
        const alive = await this.heartbeat(res.missing);
        plan = this.recovery.heartbeatResult(alive);
        ev.recovery = `${ev.recovery ?? ''}; heartbeat ${alive ? 'answered' : 'unanswered'} -> ${describePlan(plan)}`;
        if (plan.actions.includes('give_up')) this.fail(new RuntimeFault(`agent unreachable: ${plan.reason}`, ev));
        if (plan.actions.includes('reconnect') && plan.delayMs > 0) await sleep(plan.delayMs, signal);
      }
      if (this.gate.mode === 'hold' && !this.fault) {
        // Frame hold: a late agent's controller keeps its previous buttons and the emulator moves on.
        for (const p of res.missing) {
          held[p] = true;
          if (this.inflight[p]) this.heldFrames[p].add(cur.frame);
          this.gate.supply(p, this.lastButtons[p]);
        }
      }
    }
  }

  private syntheticTimeout(cur: EmulatorFrame, missing: number[], waited: number): DesyncEvent {
    return {
      type: 'timeout',
      frame: cur.frame,
      expectedFrame: cur.frame,
      receivedFrame: null,
      gap: null,
      delayMs: waited,
      clockOffsetMs: null,
      player: missing[0] ?? null,
      timestamp: this.now(),
      message: `no action for frame ${cur.frame} from controller ${missing.map((m) => m + 1).join(', ')} after ${Math.round(waited)} ms`,
    };
  }

  private async heartbeat(players: number[]): Promise<boolean> {
    const checks = players.map(async (p) => {
      const agent = this.deps.agents[p] as (AgentPort & { heartbeat?: (ms: number) => Promise<boolean> }) | undefined;
      if (!agent) return true;
      return agent.heartbeat ? agent.heartbeat(this.deps.sync.heartbeatIntervalMs) : true;
    });
    return (await Promise.all(checks)).every(Boolean);
  }

  private takeManual(p: number): number {
    const v = this.manualNext[p];
    this.manualNext[p] = undefined;
    return v ?? 0;
  }

  private async applyFrame(cur: EmulatorFrame, buttons: [number, number], held: [boolean, boolean], latency: [number | null, number | null]): Promise<FrameOutcome> {
    const manual: [boolean, boolean] = [false, false];
    for (let p = 0; p < 2; p++) {
      if (this.players.includes(p) && this.manualNext[p] !== undefined) {
        manual[p] = true;
        this.manualNext[p] = undefined;
      }
    }
    const ready = this.now();
    const depth = this.session ? 0 : this.options.stepBackDepth ?? 0;
    this.session?.stepped(buttons);
    if (depth > 0) {
      const snapshot = await this.deps.emulator.saveSnapshot();
      this.history.push({ snapshot, current: cur, episode: this.episode, step: this.step, lastButtons: [...this.lastButtons], returns: [...this.returns], lastRewards: [...this.lastRewards] });
      while (this.history.length > depth) this.deps.emulator.dropSnapshot(this.history.shift()!.snapshot);
    }
    const every = this.options.snapshotEvery ?? 0;
    const emulator = this.deps.emulator;
    const checkpoint = every > 0 && this.step % every === 0 && isStateExporter(emulator)
      ? { format: emulator.stateFormat, state: await emulator.exportState() }
      : undefined;
    const info = this.rowInfo();
    const stepping = this.deps.emulator.step(buttons, { screen: this.wantsScreens });
    // The emulator runs the frame now (FCEUX and the worker in processes or threads of their own): the held frame's
    // fingerprints (hashing, and converting a screen nothing else needed) are taken meanwhile, off the round trip.
    const prints = fingerprints(cur);
    const vars = this.varsOf(cur);
    const next = await stepping;
    this.lastButtons = buttons;
    const ramMap = this.deps.ramMap;
    const rewards: [number, number] = [ramMap.reward(0, cur.ram, next.ram), ramMap.reward(1, cur.ram, next.ram)];
    this.returns[0] += rewards[0];
    this.returns[1] += rewards[1];
    this.lastRewards = rewards;
    const stepIndex = this.step;
    this.step++;
    const maxSteps = this.options.maxSteps ?? null;
    const doneFlag = ramMap.isDone(next.ram);
    const agentTerm = this.agentTerminatedAt !== null && cur.frame >= this.agentTerminatedAt;
    const terminated = doneFlag || agentTerm;
    const truncated = !terminated && maxSteps !== null && this.step >= maxSteps;
    const row: FrameRow = {
      episode: this.episode,
      step: stepIndex,
      frame: cur.frame,
      timestamp: cur.timestamp,
      buttons,
      rewards,
      terminated,
      truncated,
      held,
      manual,
      wasSpeculative: false,
      agentLatencyMs: latency,
      vars,
      info,
      ...prints,
      ...(checkpoint ? { checkpoint } : {}),
    };
    const overrun = maxSteps !== null ? this.detector.checkEpisode(stepIndex, maxSteps, { now: this.now() }) : null;
    if (overrun) {
      // Never record a row at or past the synced termination: that is how datasets get 451 rows.
      this.handleDesync(overrun, null, cur);
    } else {
      this.options.recorder?.addRow(row);
    }
    const pair = this.buffer.pair(cur.frame);
    const agentLatency = Math.max(latency[0] ?? 0, latency[1] ?? 0);
    this.metrics.recordFrame({ frame: cur.frame, frameDelayMs: ready - this.observationTime, agentLatencyMs: agentLatency, syncQualityMs: pair?.syncQualityMs ?? null });
    const outcome: FrameOutcome = { advanced: true, frame: next.frame, row, desyncs: [] };
    if (terminated || truncated) {
      const end = this.makeEpisodeEnd(doneFlag ? 'done_flag' : agentTerm ? 'agent_terminated' : 'max_steps', next);
      outcome.episodeEnd = end;
      await this.options.recorder?.endEpisode(end, next.ram);
      for (const agent of this.deps.agents) await agent?.episodeEnd?.(end);
      this.events.emit('episodeEnd', end);
      this.session?.episodeEnded(end.reason);
      this.episode++;
      this.clearHistory();
      const fresh = await this.deps.emulator.loadSnapshot(this.episodeStart!, { screen: this.wantsScreens });
      this.enterEpisode(fresh);
      this.recordHeld(fresh);
      outcome.frame = fresh.frame;
      this.checkReference(fresh);
    } else {
      this.setCurrent(next);
      this.recordHeld(next);
      this.checkReference(next);
    }
    this.events.emit('frame', { row, current: this.cur! });
    return outcome;
  }

  // ---- run-ahead mode (sync.mode "runahead") ----

  private startRunAheadEpisode(first: EmulatorFrame): void {
    if (this.runAhead) {
      const s = this.runAhead.stats;
      this.raTotals.rollbacks += s.rollbacks;
      this.raTotals.replayedFrames += s.replayedFrames;
      this.raTotals.predictedFrames += s.predictedFrames;
      this.raTotals.inputsPastTermination += s.inputsPastTermination;
      this.runAhead.dispose();
    }
    this.runAhead = new RunAheadEngine({
      emulator: this.deps.emulator,
      episode: this.episode,
      first,
      players: this.players,
      rowFor: (f) => this.runAheadRow(f),
      sink: this.options.recorder,
      maxRunAhead: this.options.runAheadFrames ?? 8,
      screen: this.wantsScreens,
      // Controllers without an agent take hand-supplied buttons, read once per frame so replays reuse them.
      fixedInput: (c) => this.takeManual(c),
      onEvent: (e) => this.onRunAheadEvent(e),
    });
  }

  /** The row for a frame the engine ran; pure in the frame's states and buttons, because rollbacks run frames again. */
  private runAheadRow(f: RunAheadFrame): { row: FrameRow; end: FrameEndKind | null } {
    const ramMap = this.deps.ramMap;
    const { before, after } = f;
    const rewards: [number, number] = [ramMap.reward(0, before.ram, after.ram), ramMap.reward(1, before.ram, after.ram)];
    const step = f.frame - this.episodeStartFrame;
    const maxSteps = this.options.maxSteps ?? null;
    const doneFlag = ramMap.isDone(after.ram);
    const agentTerm = this.agentTerminatedAt !== null && f.frame >= this.agentTerminatedAt;
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
      vars: ramMap.read(before.ram),
      // The engine fills in each agent's info once the frame's input is confirmed (rows are built on predictions).
      info: {},
      ...fingerprints(before),
    };
    return { row, end: doneFlag ? 'done_flag' : agentTerm ? 'agent_terminated' : truncated ? 'max_steps' : null };
  }

  private onRunAheadEvent(e: RunAheadEvent): void {
    switch (e.type) {
      case 'rollback':
        // The abandoned timeline's states must not pair with anything.
        this.rewindBuffer(e.frame);
        break;
      case 'boundary':
        if (e.promoted > 0) {
          this.events.emit('log', { level: 'warn', message: `episode ${this.episode}: ${e.promoted} frame(s) without a confirmed action kept at the episode end (wasSpeculative)` });
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
  private askRunAhead(p: number): void {
    const agent = this.deps.agents[p];
    const eng = this.runAhead;
    const cur = this.cur;
    if (!agent || !eng || !cur || this.inflight[p] || this.closed) return;
    // At the boundary every frame of the episode has run: there is nothing left to decide.
    if (eng.atBoundary || eng.nextUnconfirmed(p) > cur.frame) return;
    const asked = { episode: this.episode, frame: cur.frame, at: this.now() };
    this.askedAt[p] = asked.at;
    const obs = this.makeObservation(cur, p as 0 | 1, agent.wantsScreen);
    this.inflight[p] = agent.act(obs).then(
      (action) => {
        this.inflight[p] = undefined;
        this.onRunAheadAction(p, asked, action);
        this.wakeRunAhead();
      },
      (err: unknown) => {
        this.inflight[p] = undefined;
        this.fail(new RuntimeFault(`agent ${agent.name} (controller ${p + 1}) failed: ${(err as Error)?.message ?? String(err)}`));
        this.wakeRunAhead();
      },
    );
  }

  private onRunAheadAction(p: number, asked: { episode: number; frame: number; at: number }, action: AgentAction): void {
    if (this.closed) return;
    const eng = this.runAhead;
    if (!eng || asked.episode !== this.episode) {
      this.events.emit('log', { level: 'warn', message: `controller ${p + 1}: action for frame ${asked.frame} of episode ${asked.episode} came after that episode ended; dropped` });
      return;
    }
    this.lastAction[p] = action;
    if (action.frame !== asked.frame) {
      const ev = this.detector.checkFrame(asked.frame, action.frame, { player: p, now: this.now() });
      if (ev && this.cur) this.handleDesync(ev, p, this.cur);
      return;
    }
    try {
      const r = eng.supply(p, asked.frame, { buttons: action.buttons, latencyMs: this.now() - asked.at, ...(action.info ? { info: action.info } : {}) });
      if (r === 'stale') {
        this.events.emit('log', { level: 'warn', message: `controller ${p + 1}: action for frame ${asked.frame} came after that frame was final (held or promoted); dropped` });
      }
    } catch (e) {
      this.fail(new RuntimeFault(`agent ${this.deps.agents[p]?.name ?? '?'} (controller ${p + 1}): ${(e as Error).message}`));
    }
  }

  private wakeRunAhead(): void {
    this.raSignalled = true;
    this.raWake?.();
  }

  private waitRunAhead(ms: number, signal: AbortSignal): Promise<'woken' | 'timeout' | 'aborted'> {
    if (signal.aborted) return Promise.resolve('aborted');
    if (this.raSignalled) {
      this.raSignalled = false;
      return Promise.resolve('woken');
    }
    return new Promise((resolve) => {
      const done = (r: 'woken' | 'timeout' | 'aborted') => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.raWake = undefined;
        this.raSignalled = false;
        resolve(r);
      };
      const onAbort = () => done('aborted');
      const timer = setTimeout(() => done('timeout'), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.raWake = () => done('woken');
    });
  }

  private syncHead(eng: RunAheadEngine): void {
    if (eng.head !== this.cur) {
      this.setCurrent(eng.head);
      this.observationTime = this.now();
    }
    this.step = eng.head.frame - this.episodeStartFrame;
  }

  /**
   * One run-ahead step: applies arrived actions (rollback and fast-forward on a misprediction), then runs the head frame
   * on predicted input if the window allows, else waits for an answer. Returns when the head moved or the episode ended.
   */
  private async advanceRunAhead(): Promise<FrameOutcome> {
    const desyncs: DesyncEvent[] = [];
    const off = this.events.on('desync', (e) => desyncs.push(e));
    const signal = this.interruptSignal();
    let announced = false;
    try {
      while (true) {
        if (this.fault) throw this.fault;
        const eng = this.runAhead!;
        this.raSignalled = false;
        await eng.reconcile();
        this.syncHead(eng);
        if (eng.complete) return await this.endRunAheadEpisode(desyncs, eng.lastRow);
        for (const p of this.players) if (!this.inflight[p]) this.askRunAhead(p);
        if (eng.atBoundary) {
          // An idle agent already answered the last frame it was shown: its buttons stay held to the end.
          let held = false;
          for (const p of this.players) {
            if (!this.inflight[p] && eng.nextUnconfirmed(p) < eng.head.frame) {
              eng.holdThrough(p, eng.head.frame - 1);
              held = true;
            }
          }
          if (held) continue;
        }
        if (eng.canRunAhead) {
          const started = this.now();
          const row = await eng.stepHead();
          if (!row) continue;
          this.lastRewards = [...row.rewards];
          this.lastButtons = [row.buttons[0], row.buttons[1]];
          const pair = this.buffer.pair(row.frame);
          this.metrics.recordFrame({ frame: row.frame, frameDelayMs: started - this.observationTime, agentLatencyMs: Math.max(row.agentLatencyMs[0] ?? 0, row.agentLatencyMs[1] ?? 0), syncQualityMs: pair?.syncQualityMs ?? null });
          this.syncHead(eng);
          if (eng.complete) {
            const o = await this.endRunAheadEpisode(desyncs, row);
            this.events.emit('frame', { row, current: this.cur! });
            return o;
          }
          this.events.emit('frame', { row, current: this.cur! });
          return { advanced: true, frame: eng.head.frame, row, desyncs };
        }
        const res = await this.waitRunAhead(this.deps.sync.frameTimeoutMs, signal);
        if (res === 'aborted') {
          if (this.fault) throw this.fault;
          return { advanced: false, frame: this.cur!.frame, desyncs };
        }
        if (res === 'timeout') {
          const missing = this.players.filter((p) => eng.nextUnconfirmed(p) <= eng.confirmedFrame);
          const at = { ...this.cur!, frame: eng.confirmedFrame };
          if (!announced) {
            announced = true;
            this.events.emit('waiting', { frame: at.frame, waitingFor: missing, sinceMs: this.deps.sync.frameTimeoutMs, mode: this.gate.mode });
          }
          const ev = this.detector.record(this.syntheticTimeout(at, missing, this.deps.sync.frameTimeoutMs));
          this.handleDesync(ev, null, this.cur!);
          if (this.fault) continue;
          // Seed's boundary rule: a stalled agent must not hold the episode open; its frames count as they ran.
          if (eng.atBoundary) await eng.promoteAtBoundary();
          else if (this.gate.mode === 'hold') eng.holdOldest();
        }
      }
    } finally {
      off();
    }
  }

  private async endRunAheadEpisode(desyncs: DesyncEvent[], row: FrameRow | undefined): Promise<FrameOutcome> {
    const eng = this.runAhead!;
    const t = eng.termination.frame!;
    if (eng.head.frame !== t) throw new Error(`run-ahead: episode ends at frame ${t} but the emulator holds frame ${eng.head.frame}`);
    this.step = t - this.episodeStartFrame;
    this.returns = eng.returns;
    if (eng.lastRow) this.lastRewards = [...eng.lastRow.rewards];
    const end = this.makeEpisodeEnd(eng.termination.reason ?? 'max_steps', eng.head);
    // After stopEpisode() the end was already announced; the next advance only starts the next episode.
    const announce = this.raStopped !== this.episode;
    this.raStopped = null;
    if (announce) {
      await this.options.recorder?.endEpisode(end, eng.head.ram);
      for (const agent of this.deps.agents) await agent?.episodeEnd?.(end);
      this.events.emit('episodeEnd', end);
    }
    this.episode++;
    this.clearHistory();
    const fresh = await this.deps.emulator.loadSnapshot(this.episodeStart!, { screen: this.wantsScreens });
    this.enterEpisode(fresh);
    return { advanced: true, frame: fresh.frame, row, desyncs, episodeEnd: announce ? end : undefined };
  }

  /**
   * Compares the held frame with the reference run's same step (lockstep mode): the first step whose RAM fingerprint (or,
   * for a reference from another emulator, RAM-map variables) differs is reported as state_divergence, once per episode.
   * Reported on arrival at the frame, so a debugger stops holding the first frame that starts from a different state.
   */
  private checkReference(f: EmulatorFrame): void {
    const ref = this.options.reference;
    if (!ref || this.runAhead) return;
    const seen = this.referenceReported;
    if (seen && seen.episode === this.episode && this.step >= seen.step) return;
    const want = ref.expected(this.episode, this.step);
    if (!want) return;
    let expected: string;
    let actual: string;
    let what: string;
    if (ref.compare === 'ram') {
      if (!want.ramHash) return;
      expected = want.ramHash;
      actual = shortHash(f.ram);
      what = 'RAM fingerprint';
    } else {
      const vars = this.deps.ramMap.read(f.ram);
      const differ = Object.keys(vars).filter((n) => n in want.vars && want.vars[n] !== vars[n]);
      if (differ.length === 0) return;
      expected = differ.map((n) => `${n}=${want.vars[n]}`).join(', ');
      actual = differ.map((n) => `${n}=${vars[n]}`).join(', ');
      what = 'RAM-map variables';
    }
    const ev = this.detector.checkState(f.frame, expected, actual, { now: this.now(), what: `${what} of reference ${ref.label} (step ${this.step}, its frame ${want.frame})` });
    if (!ev) return;
    this.referenceReported = { episode: this.episode, step: this.step };
    this.handleDesync(ev, null, f);
  }

  /** `after` is the frame the emulator holds once the episode's last frame ran (see AgentEpisodeEnd.final). */
  private makeEpisodeEnd(reason: EpisodeEnd['reason'], after: EmulatorFrame): EpisodeEnd {
    return {
      episode: this.episode,
      terminationFrame: this.episodeStartFrame + this.step,
      rows: this.step,
      reason,
      startFrame: this.episodeStartFrame,
      returns: [...this.returns],
      lastRewards: [...this.lastRewards],
      final: {
        frame: after.frame,
        timestamp: after.timestamp,
        vars: this.deps.ramMap.read(after.ram),
        info: { lag: after.lag },
        ...(this.wantsScreens && hasScreen(after) ? { screen: after.screen } : {}),
      },
    };
  }

  private clearHistory(): void {
    for (const e of this.history) this.deps.emulator.dropSnapshot(e.snapshot);
    this.history = [];
  }
}

/** Compact fingerprints of the state a frame started from (RAM always, the screen when captured). */
function fingerprints(f: EmulatorFrame): { ramFingerprint: string; screenFingerprint?: string } {
  return f.screen ? { ramFingerprint: shortHash(f.ram), screenFingerprint: shortHash(f.screen) } : { ramFingerprint: shortHash(f.ram) };
}

function describePlan(plan: RecoveryPlan): string {
  return plan.actions.join('+') + (plan.delayMs > 0 ? ` after ${plan.delayMs} ms` : '') + (plan.reason ? ` (${plan.reason})` : '');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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

export type { DesyncType };

/** The runtime's clock-sync peers: the emulator link and every agent that answers pings (trainers over WebSocket). */
function clockPeers(deps: RuntimeDeps): ClockPeer[] {
  const peers: ClockPeer[] = [];
  if (isClockPingable(deps.emulator)) peers.push({ name: 'emulator', player: null, port: deps.emulator });
  deps.agents.forEach((a, p) => {
    if (isClockPingable(a)) peers.push({ name: `controller ${p + 1}`, player: p, port: a });
  });
  return peers;
}
