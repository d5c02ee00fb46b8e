// The lockstep runtime: holds the episode (counters, step-back history or the session history, observations) and hands each frame's advance to the driver of its sync mode; detects, recovers, records.
import { hasScreen, type EmulatorFrame, type RomInfo, type SnapshotHandle } from '../ports';
import type { Observation } from '../ports';
import { FrameGate, type GateMode } from '../sync/frameGate';
import { DesyncDetector, type DesyncEvent, type DesyncType } from '../sync/desyncDetector';
import { RecoveryPolicy, type RecoveryPlan } from '../sync/recovery';
import { SyncBuffer } from '../sync/syncBuffer';
import { SyncMetrics } from '../sync/metrics';
import { ClockSyncScheduler, isClockPingable, type ClockPeer, type ClockRound } from '../sync/clockSyncScheduler';
import { TypedEmitter } from '../typedEmitter';
import { shortHash } from '../episodes/ramHash';
import type { DriverHost, EpisodeCounters, FrameDriver } from './frameDriver';
import { LockstepDriver } from './lockstepDriver';
import { RunAheadDriver } from './runAheadDriver';
import { describePlan } from './runtimeHelpers';
import { RuntimeFault } from './runtimeFault';
import type { EpisodeEnd } from './rows';
import { SessionHistory, type TickState } from '../history/sessionHistory';
import { isTimeTravelPort } from '../history/timeTravelPort';
import { SnapshotTimeTravel } from '../history/snapshotTimeTravel';
import { AgentInputLog } from './agentInputLog';
import type { FrameOutcome, GateStatus, RunAheadStats, RuntimeDeps, RuntimeEvents, RuntimeOptions, RuntimeStateBuffered } from './runtimeTypes';

export type { FrameOutcome, GateStatus, RunAheadStats, RuntimeDeps, RuntimeEvents, RuntimeOptions, RuntimeStateBuffered } from './runtimeTypes';
export { RuntimeFault };

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
  /** What each agent was given and answered, per frame, over a bounded window (the agent's-eye view). */
  readonly agentInputs: AgentInputLog;
  private readonly gate: FrameGate;
  private readonly now: () => number;
  private readonly players: number[];
  /** Advances frames in the sync mode chosen at construction (lockstep or run-ahead). */
  private readonly driver: FrameDriver;
  private readonly counters: EpisodeCounters = { episode: 0, step: 0, startFrame: 0, returns: [0, 0], lastRewards: [0, 0], lastButtons: [0, 0], agentTerminatedAt: null };
  private rom?: RomInfo;
  private cur?: EmulatorFrame;
  private curVars?: Record<string, number>;
  private episodeStart?: SnapshotHandle;
  private interrupt?: AbortController;
  /** Advances under way (one, unless a request is served in the middle of a run's advance). */
  private advancing = 0;
  private fault?: RuntimeFault;
  private history: HistoryEntry[] = [];
  /** The whole session, when kept (options.history); replaces the ring above. */
  private readonly session?: SessionHistory;
  /** The held state's tick in the session history. */
  private tick = -1;
  /** Set while the held state is in a finished episode: forward motion replays the record up to this tick (the present). */
  private replayingUntil: number | null = null;
  private started = false;
  private closed = false;
  /** Where the reference divergence was reported in this episode (one report per episode, again after stepping back before it). */
  private referenceReported: { episode: number; step: number } | null = null;
  /** A screen panel (or anything else showing screens) is open: capture follows it unless captureScreens says otherwise. */
  private screensShown = false;
  /**
   * The held state came from a history keyframe kept without its picture, no frame run since: the emulator would
   * show another frame's picture, so a screen for it comes from a restore that runs a frame (refreshScreen).
   */
  private heldPictureUnknown = false;

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
    this.agentInputs = new AgentInputLog(deps.agents, options.agentInputs, this.now);
    this.events.on('frame', ({ row }) => this.agentInputs.ran(row));
    this.events.on('desync', (ev) => this.agentInputs.desync(ev, this.counters.episode));
    const host = this.driverHost();
    this.driver = this.isRunAhead ? new RunAheadDriver(host) : new LockstepDriver(host);
    if (options.history && !this.isRunAhead) {
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
    return this.counters.episode;
  }
  get stepIndex(): number {
    return this.counters.step;
  }
  get lastAppliedButtons(): readonly [number, number] {
    return this.counters.lastButtons;
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
  /** Each controller's agent name (index 0 = controller 1), undefined where none drives it. */
  get agentNames(): Array<string | undefined> {
    return this.deps.agents.map((a) => a?.name);
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
    await this.settle();
    const cur = this.cur;
    if (!cur || !this.wantsScreens || hasScreen(cur)) return cur;
    const fresh = this.heldPictureUnknown && this.session
      ? (await this.session.restore(this.tick, { screen: true })).frame
      : await this.deps.emulator.current({ screen: true });
    // Run-ahead may hold the emulator on a frame after the shown one; that frame's screen is not this one's.
    if (fresh.frame !== cur.frame || this.cur !== cur) return this.cur;
    // The held frame's record changed in place (its screen was read): run-ahead keeps its head in step.
    this.driver.afterEdit(fresh);
    // Same frame, same RAM (curVars still hold): only the screen is new, so the state buffer keeps its one row.
    this.cur = fresh;
    this.heldPictureUnknown = false;
    if (hasScreen(fresh)) this.buffer.addScreen({ frame: fresh.frame, timestamp: fresh.timestamp, get screen() { return fresh.screen!; } });
    return fresh;
  }
  get isRunAhead(): boolean {
    return this.deps.sync.mode === 'runahead';
  }
  /** Run-ahead counters over the whole run (rollbacks, replayed and predicted frames). */
  get runAheadStats(): RunAheadStats {
    return this.driver.runAheadStats;
  }
  /** Run-ahead: frames below this have final rows (equals the held frame in lockstep). */
  get confirmedFrame(): number | undefined {
    return this.driver.confirmedFrame(this.cur);
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
      this.driver.supply(p, buttons, !!waiting);
    }
  }

  /**
   * Runs exactly one frame (or returns early when interrupted). `eager`: the caller will advance again at once (a run
   * with nothing to check between frames), so the next frame's step may be sent before this one's row, metrics and
   * events are done, and the emulator runs it meanwhile. After an eager advance the caller must advance again or call
   * settle() before anything else; the runtime's own operations settle first.
   */
  async advance(options: { eager?: boolean } = {}): Promise<FrameOutcome> {
    const cur = this.requireCurrent();
    if (this.fault) throw this.fault;
    // The past of a finished episode is read-only: the record is replayed, no driver (agents, gate) is involved.
    if (this.replayingUntil !== null) return this.replayForward();
    this.advancing++;
    try {
      return this.clocked(await this.driver.advance(cur, options.eager === true));
    } finally {
      this.advancing--;
    }
  }

  /** Whether an eager advance sent the held frame's step and no advance has taken it over yet (see settle). */
  get inFlight(): boolean {
    return this.driver.inFlight;
  }

  /**
   * Finishes the step an eager advance sent, if any: that frame's row is recorded and the frame after it is held.
   * Returns its outcome, or undefined when nothing was in flight. A run stopping (pause, end of a count) calls this.
   */
  async settle(): Promise<FrameOutcome | undefined> {
    // Inside someone's advance (a request served while a run waits for the emulator) the run's own loop takes it over.
    if (!this.driver.inFlight || this.closed || this.advancing > 0) return undefined;
    return this.advance();
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
    await this.settle();
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
    const c = this.counters;
    c.episode = target.episode;
    c.step = target.step;
    c.lastButtons = [...target.lastButtons];
    c.returns = [...target.returns];
    c.lastRewards = [...target.lastRewards];
    this.options.recorder?.truncate(c.episode, c.step);
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
    await this.settle();
    const h = this.session;
    if (!h) throw new Error('travel needs the session history (timeTravel on, lockstep mode)');
    if (!this.cur) throw new Error('runtime not started');
    if (!Number.isInteger(tick) || tick < h.oldestTick || tick > h.headTick) {
      throw new Error(`tick ${tick} is outside the reachable history (${h.oldestTick}..${h.headTick})`);
    }
    const present = h.episodes.at(-1)!;
    const { frame, state, pictureKnown } = await h.restore(tick, { screen: this.wantsScreens });
    this.holdTickState(state);
    this.tick = tick;
    if (tick >= present.firstTick) {
      h.truncateAfter(tick);
      this.replayingUntil = null;
      this.options.recorder?.truncate(this.counters.episode, this.counters.step);
      this.rewindBuffer(frame.frame);
    } else {
      this.replayingUntil = h.headTick;
      this.buffer.clear();
    }
    this.setCurrent(frame);
    this.heldPictureUnknown = !pictureKnown;
    return frame;
  }

  /** The observation an agent would get for the held frame. */
  observation(player: 0 | 1, withScreen = false): Observation {
    const cur = this.requireCurrent();
    return this.makeObservation(cur, player, withScreen);
  }

  async writeRam(address: number, bytes: Uint8Array): Promise<EmulatorFrame> {
    await this.settle();
    if (this.replayingUntil !== null) throw new Error('the held frame is in a finished episode (read-only past): step or continue to the present, or travel into the current episode, before writing RAM');
    await this.driver.beforeEdit();
    await this.deps.emulator.writeRam(address, bytes);
    this.options.recorder?.noteExternalEdit?.(this.counters.episode, this.cur?.frame ?? 0, `${bytes.length} byte(s) written at $${address.toString(16).padStart(4, '0')}`);
    const fresh = await this.deps.emulator.current({ screen: this.wantsScreens });
    this.driver.afterEdit(fresh);
    // A RAM write runs no frame: a picture unknown before still is (and the history replays the write with the rest).
    const pictureUnknown = this.heldPictureUnknown;
    this.setCurrent(fresh);
    this.heldPictureUnknown = pictureUnknown;
    this.session?.wrote(address, bytes, fresh.ram);
    return fresh;
  }

  /** The trainer said its episode is over at `frame`: fixes the synced termination after that frame's row. */
  agentTerminated(frame: number): void {
    const c = this.counters;
    c.agentTerminatedAt = c.agentTerminatedAt === null ? frame : Math.min(c.agentTerminatedAt, frame);
    this.driver.agentTerminated(frame);
  }

  /** Ends the current episode early (user stop); recorded rows stay. */
  async stopEpisode(): Promise<EpisodeEnd | undefined> {
    await this.settle();
    if (!this.cur || this.counters.step === 0) return undefined;
    if (this.replayingUntil !== null) throw new Error('the held frame is in a finished episode: it has ended already');
    await this.driver.stopEpisode();
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
    this.driver.dispose();
    await Promise.allSettled(this.deps.agents.map((a) => a?.close()));
    await this.deps.emulator.close();
  }

  // ---- internals ----

  /** What the driver may use of the runtime: its parts, the episode counters, and the bookkeeping both modes share. */
  private driverHost(): DriverHost {
    const wantsScreens = () => this.wantsScreens;
    // The session history is made after the driver: read when asked.
    const historyAtOnce = () => this.snapshotRingDepth === 0;
    return {
      deps: this.deps,
      options: this.options,
      events: this.events,
      gate: this.gate,
      detector: this.detector,
      recovery: this.recovery,
      buffer: this.buffer,
      metrics: this.metrics,
      players: this.players,
      counters: this.counters,
      // A getter: an agent's screen request is known only once it connected.
      get wantsScreens() {
        return wantsScreens();
      },
      get historyAtOnce() {
        return historyAtOnce();
      },
      now: this.now,
      current: () => this.cur,
      setCurrent: (f) => this.setCurrent(f),
      holdNext: (f) => this.holdNext(f),
      fault: () => this.fault,
      closed: () => this.closed,
      fail: (f) => this.fail(f),
      interruptSignal: () => this.interruptSignal(),
      varsOf: (f) => this.varsOf(f),
      observation: (cur, player, withScreen) => {
        const obs = this.makeObservation(cur, player, withScreen);
        // For the held frame the log keeps the runtime's own read of the same variables (no agent is given it) instead
        // of a copy; for another frame it copies the observation's (its one read of the RAM).
        this.agentInputs.observed(obs, this.heldVars(cur));
        return obs;
      },
      agentInputs: this.agentInputs,
      rewindBuffer: (toFrame) => this.rewindBuffer(toFrame),
      handleDesync: (ev, p, cur) => this.handleDesync(ev, p, cur),
      pushHistory: (cur, buttons) => this.pushHistory(cur, buttons),
      checkReference: (f) => this.checkReference(f),
      makeEpisodeEnd: (reason, after) => this.makeEpisodeEnd(reason, after),
      nextEpisode: (end) => this.nextEpisode(end),
    };
  }

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
    const c = this.counters;
    c.step = 0;
    c.returns = [0, 0];
    c.lastRewards = [0, 0];
    c.agentTerminatedAt = null;
    c.startFrame = first.frame;
    this.driver.startEpisode(first);
    this.setCurrent(first);
  }

  private async nextEpisode(end: EpisodeEnd): Promise<EmulatorFrame> {
    this.session?.episodeEnded(end.reason);
    this.counters.episode++;
    this.clearHistory();
    const fresh = await this.deps.emulator.loadSnapshot(this.episodeStart!, { screen: this.wantsScreens });
    this.enterEpisode(fresh);
    this.recordHeld(fresh);
    return fresh;
  }

  /** A frame ran: it becomes the held frame and, with the session history, its next tick. */
  private holdNext(f: EmulatorFrame): void {
    this.setCurrent(f);
    this.recordHeld(f);
  }

  /** Adds the held state to the session history as a new tick. */
  private recordHeld(f: EmulatorFrame): void {
    if (!this.session) return;
    const c = this.counters;
    this.tick = this.session.held(
      { episode: c.episode, step: c.step, frame: f.frame, lastButtons: c.lastButtons, returns: c.returns, lastRewards: c.lastRewards },
      f.ram,
    );
  }

  /** Takes a recorded tick's episode counters (travel, replay of the past). */
  private holdTickState(state: TickState): void {
    const c = this.counters;
    c.episode = state.episode;
    c.step = state.step;
    c.startFrame = state.frame - state.step;
    c.lastButtons = [...state.lastButtons];
    c.returns = [...state.returns];
    c.lastRewards = [...state.lastRewards];
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
    const endedEpisode = state.episode !== this.counters.episode;
    this.holdTickState(state);
    this.tick = next;
    if (next >= this.replayingUntil!) this.replayingUntil = null;
    if (endedEpisode) this.buffer.clear();
    this.setCurrent(frame);
    return { advanced: true, frame: frame.frame, desyncs: [] };
  }

  private setCurrent(f: EmulatorFrame): void {
    this.cur = f;
    this.heldPictureUnknown = false;
    this.driver.heldChanged();
    const vars = this.deps.ramMap.read(f);
    this.curVars = vars;
    // Buffered in the bridge's clock (the emulator's stamp minus its measured offset): pairing and sync quality compare
    // times from one clock even when the emulator runs on another machine.
    const timestamp = this.bridgeTime(f.timestamp);
    this.buffer.addState({ frame: f.frame, timestamp, state: { ram: f.ram, vars, lag: f.lag }, episode: this.counters.episode });
    // The buffer reads the screen when someone looks at it: storing it must not convert it (see hasScreen).
    if (hasScreen(f)) this.buffer.addScreen({ frame: f.frame, timestamp, get screen() { return f.screen!; } });
  }

  /** The RAM-map variables of the held frame, read once when it became current. */
  private varsOf(f: EmulatorFrame): Record<string, number> {
    return this.heldVars(f) ?? this.deps.ramMap.read(f);
  }

  /** The held frame's variables as read when it became current; undefined for any other frame. */
  private heldVars(f: EmulatorFrame): Record<string, number> | undefined {
    return f === this.cur ? this.curVars : undefined;
  }

  private rewindBuffer(toFrame: number): void {
    const states = this.buffer.states().filter((s) => s.frame < toFrame);
    const screens = this.buffer.screens().filter((s) => s.frame !== null && s.frame < toFrame);
    this.buffer.clear();
    for (const s of states) this.buffer.addState(s);
    for (const s of screens) this.buffer.addScreen(s);
  }

  private makeObservation(cur: EmulatorFrame, player: 0 | 1, withScreen: boolean): Observation {
    // An object of its own: an agent may keep or change what it is given. For the held frame, a copy of the read made
    // when it became current (no second read of the RAM on the round trip); for another frame, a fresh read.
    const held = this.heldVars(cur);
    const vars = held ? { ...held } : this.deps.ramMap.read(cur);
    return {
      frame: cur.frame,
      step: this.counters.step,
      episode: this.counters.episode,
      player,
      timestamp: cur.timestamp,
      ram: cur.ram,
      vars,
      reward: this.counters.lastRewards[player],
      terminated: false,
      truncated: false,
      info: { lag: cur.lag },
      screen: withScreen ? cur.screen : undefined,
    };
  }

  /**
   * Keeps what step back needs before the held frame runs with `buttons`: with the session history, the buttons that
   * leave the held tick; else the state the held frame starts from (a ring of stepBackDepth snapshots).
   */
  private async pushHistory(cur: EmulatorFrame, buttons: [number, number]): Promise<void> {
    if (this.session) {
      this.session.stepped(buttons);
      return;
    }
    const depth = this.snapshotRingDepth;
    if (depth === 0) return;
    const c = this.counters;
    const snapshot = await this.deps.emulator.saveSnapshot();
    this.history.push({ snapshot, current: cur, episode: c.episode, step: c.step, lastButtons: [...c.lastButtons], returns: [...c.returns], lastRewards: [...c.lastRewards] });
    while (this.history.length > depth) this.deps.emulator.dropSnapshot(this.history.shift()!.snapshot);
  }

  /** Snapshots the step-back ring keeps: none with the session history (it keeps buttons) or without stepBackDepth. */
  private get snapshotRingDepth(): number {
    return this.session ? 0 : Math.max(0, this.options.stepBackDepth ?? 0);
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
          if (p !== null) this.driver.resync(p, cur);
          break;
        case 'clear_buffer':
          this.buffer.clear();
          // Keep the mark on the held frame: the buffer view must still show why it was cleared.
          this.buffer.addState({ frame: cur.frame, timestamp: this.bridgeTime(cur.timestamp), state: { ram: cur.ram, vars: this.deps.ramMap.read(cur), lag: cur.lag }, episode: this.counters.episode, desync: [ev.type] });
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

  /**
   * Compares the held frame with the reference run's same step (lockstep mode): the first step whose RAM fingerprint (or,
   * for a reference from another emulator, RAM-map variables) differs is reported as state_divergence, once per episode.
   * Reported on arrival at the frame, so a debugger stops holding the first frame that starts from a different state.
   */
  private checkReference(f: EmulatorFrame): void {
    const ref = this.options.reference;
    if (!ref || this.isRunAhead) return;
    const { episode, step } = this.counters;
    const seen = this.referenceReported;
    if (seen && seen.episode === episode && step >= seen.step) return;
    const want = ref.expected(episode, step);
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
      const vars = this.deps.ramMap.read(f);
      const differ = Object.keys(vars).filter((n) => n in want.vars && want.vars[n] !== vars[n]);
      if (differ.length === 0) return;
      expected = differ.map((n) => `${n}=${want.vars[n]}`).join(', ');
      actual = differ.map((n) => `${n}=${vars[n]}`).join(', ');
      what = 'RAM-map variables';
    }
    const ev = this.detector.checkState(f.frame, expected, actual, { now: this.now(), what: `${what} of reference ${ref.label} (step ${step}, its frame ${want.frame})` });
    if (!ev) return;
    this.referenceReported = { episode, step };
    this.handleDesync(ev, null, f);
  }

  /** `after` is the frame the emulator holds once the episode's last frame ran (see AgentEpisodeEnd.final). */
  private makeEpisodeEnd(reason: EpisodeEnd['reason'], after: EmulatorFrame): EpisodeEnd {
    const c = this.counters;
    return {
      episode: c.episode,
      terminationFrame: c.startFrame + c.step,
      rows: c.step,
      reason,
      startFrame: c.startFrame,
      returns: [...c.returns],
      lastRewards: [...c.lastRewards],
      final: {
        frame: after.frame,
        timestamp: after.timestamp,
        vars: this.deps.ramMap.read(after),
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
