// Lockstep mode: the emulator holds frame N at the gate until every agent's action for N arrives, then runs it and records its row.
import type { DesyncEvent } from '../sync/desyncDetector';
import type { GateReady } from '../sync/frameGate';
import { isStateExporter, type AgentAction, type AgentPort, type EmulatorFrame, type EmulatorPort, type Observation, type StateExporter, type StepNow } from '../ports';
import { describePlan, fingerprints, sleep } from './runtimeHelpers';
import { timeoutEvent, type DriverHost, type FrameDriver } from './frameDriver';
import { RuntimeFault } from './runtimeFault';
import type { FrameRow } from './rows';
import type { FrameOutcome, RunAheadStats } from './runtimeTypes';

interface GateResult {
  buttons: [number, number];
  held: [boolean, boolean];
  latency: [number | null, number | null];
}

/** What a launch takes before anything waits (see begin). */
interface LaunchStart {
  manual: [boolean, boolean];
  /** When every action was in, and when the frame was held (the frame delay is the time between). */
  ready: number;
  observationTime: number;
}

/** A held frame whose step is on its way: what its row needs from before the step, and the step itself. */
interface Launch extends GateResult, LaunchStart {
  cur: EmulatorFrame;
  info: Record<string, unknown>;
  checkpoint?: { format: string; state: Uint8Array };
  stepping: Promise<EmulatorFrame>;
  prints: ReturnType<typeof fingerprints>;
  vars: Record<string, number>;
  /** Set when the step's frame was taken in as it arrived (see arrived), before the step's promise settled. */
  arrival?: { value: Arrival } | { error: unknown };
}

/** What a frame's arrival settles: the transition's counters and end, and whether the next frame was held before the row. */
interface Arrival {
  rewards: [number, number];
  stepIndex: number;
  episode: number;
  doneFlag: boolean;
  agentTerm: boolean;
  terminated: boolean;
  truncated: boolean;
  overrun: DesyncEvent | null;
  heldEarly: boolean;
}

export class LockstepDriver implements FrameDriver {
  private readonly inflight: Array<Promise<void> | undefined> = [undefined, undefined];
  private readonly askedAt: number[] = [0, 0];
  private readonly latency: Array<number | null> = [null, null];
  private readonly manualNext: Array<number | undefined> = [undefined, undefined];
  /** Frames that ran with held buttons while the agent's answer was still out (frame hold). */
  private readonly heldFrames: [Set<number>, Set<number>] = [new Set(), new Set()];
  /** The frame the gate is open for; null once the held frame changed, so the next advance opens it again. */
  private heldFrame: number | null = null;
  private observationTime = 0;
  /**
   * The next frame's step, sent before the last frame's row, metrics and events were done (an eager advance): the
   * emulator runs it while this process does that bookkeeping. The next advance takes it over instead of opening the gate.
   */
  private launched: Launch | undefined;
  /** The launch whose step applyFrame waits for, with that advance's eagerness and desyncs (see arrived). */
  private awaiting: { launch: Launch; eager: boolean; desyncs: DesyncEvent[] } | undefined;
  private remote: boolean | undefined;

  constructor(private readonly h: DriverHost) {}

  get inFlight(): boolean {
    return this.launched !== undefined;
  }

  get runAheadStats(): RunAheadStats {
    return { rollbacks: 0, replayedFrames: 0, predictedFrames: 0, inputsPastTermination: 0 };
  }

  confirmedFrame(cur: EmulatorFrame | undefined): number | undefined {
    return cur?.frame;
  }

  startEpisode(): void {}

  heldChanged(): void {
    this.heldFrame = null;
  }

  supply(p: number, buttons: number, gateOpen: boolean): void {
    this.manualNext[p] = buttons;
    // Before the frame is held (between frames) the buttons wait in manualNext and reach the gate when it opens.
    if (gateOpen && this.h.players.includes(p)) this.h.gate.supply(p, buttons);
  }

  resync(p: number, cur: EmulatorFrame): void {
    if (!this.inflight[p] && this.h.current() === cur) this.ask(p, cur);
  }

  async beforeEdit(): Promise<void> {}

  afterEdit(): void {}

  agentTerminated(): void {}

  async stopEpisode(): Promise<void> {}

  dispose(): void {
    this.launched = undefined;
    this.awaiting = undefined;
  }

  async advance(cur: EmulatorFrame, eager = false): Promise<FrameOutcome> {
    const h = this.h;
    const desyncs: DesyncEvent[] = [];
    const off = h.events.on('desync', (e) => desyncs.push(e));
    try {
      let launch = this.launched;
      this.launched = undefined;
      if (launch?.cur !== cur) {
        // A launch is for the frame the runtime holds: the runtime settles it before anything replaces that frame.
        launch = undefined;
        if (this.heldFrame !== cur.frame) this.openHeld(cur);
        const gateResult = await this.awaitActions(cur);
        if (!gateResult) return { advanced: false, frame: cur.frame, desyncs };
        launch = await this.launch(cur, gateResult);
      }
      const outcome = await this.applyFrame(launch, eager, desyncs);
      outcome.desyncs = desyncs;
      return outcome;
    } finally {
      off();
    }
  }

  /** Whether an agent is behind a link (it answers heartbeats): a trainer in another process, maybe another machine. */
  private remoteAgents(): boolean {
    // The agents are fixed for the runtime's life: looked up once, not on every frame.
    if (this.remote === undefined) {
      const agents = this.h.deps.agents;
      this.remote = this.h.players.some((p) => typeof agents[p]?.heartbeat === 'function');
    }
    return this.remote;
  }

  /** Holds `cur` at the gate and sends its observation to every agent not still thinking about an earlier one. */
  private openHeld(cur: EmulatorFrame): void {
    const h = this.h;
    this.heldFrame = cur.frame;
    h.gate.open(cur.frame);
    this.observationTime = h.now();
    for (const p of h.players) if (this.manualNext[p] !== undefined) h.gate.supply(p, this.manualNext[p]!);
    for (const p of h.players) if (!this.inflight[p]) this.ask(p, cur);
  }

  /** Sends the held frame's observation to one agent; its answer goes to the gate (or the detector on a mismatch). */
  private ask(p: number, cur: EmulatorFrame): void {
    const agent = this.h.deps.agents[p];
    if (!agent) return;
    this.askedAt[p] = this.h.now();
    const obs = this.h.observation(cur, p as 0 | 1, agent.wantsScreen);
    if (agent.actNow) {
      this.answerNow(p, agent, obs);
      return;
    }
    const pending = agent.act(obs).then(
      (action) => {
        this.inflight[p] = undefined;
        this.h.agentInputs.answered(obs, action);
        this.onAction(p, action);
      },
      (err: unknown) => {
        this.inflight[p] = undefined;
        this.agentFailed(p, agent, err);
      },
    );
    this.inflight[p] = pending;
  }

  /** An agent that decides at once: its answer reaches the gate before ask returns. */
  private answerNow(p: number, agent: AgentPort, obs: Observation): void {
    let action: AgentAction;
    try {
      action = agent.actNow!(obs);
    } catch (err) {
      this.agentFailed(p, agent, err);
      return;
    }
    this.h.agentInputs.answered(obs, action);
    this.onAction(p, action);
  }

  private agentFailed(p: number, agent: AgentPort, err: unknown): void {
    this.h.fail(new RuntimeFault(`agent ${agent.name} (controller ${p + 1}) failed: ${(err as Error)?.message ?? String(err)}`));
  }

  private onAction(p: number, action: AgentAction): void {
    const h = this.h;
    if (h.closed()) return;
    const cur = h.current();
    if (!cur) return;
    if (this.heldFrames[p].delete(action.frame)) {
      // That frame already ran with held buttons (frame hold): the late answer is stale, not a rewind. Ask again for the held frame.
      h.events.emit('log', { level: 'warn', message: `controller ${p + 1}: late action for frame ${action.frame} dropped (frame ran with held buttons)` });
      if (this.heldFrame === cur.frame && !h.gate.isManual(p)) this.ask(p, cur);
      return;
    }
    const r = h.gate.offer(p, action.frame, action.buttons, action.info);
    if (r.accepted) {
      this.latency[p] = h.now() - this.askedAt[p];
      return;
    }
    const ev = h.detector.checkFrame(r.expected, r.received, { player: p, now: h.now() });
    if (!ev) return;
    h.handleDesync(ev, p, cur);
  }

  /** The row's info: what each agent sent with the action the gate counted for the held frame, as `{p1, p2}`. */
  private rowInfo(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const p of this.h.players) {
      const info = this.h.gate.actionInfo(p);
      if (info && Object.keys(info).length > 0) out[`p${p + 1}`] = info;
    }
    return out;
  }

  /** Waits at the gate; handles timeouts through the recovery policy. Returns undefined when interrupted. */
  private async awaitActions(cur: EmulatorFrame): Promise<GateResult | undefined> {
    const h = this.h;
    const held: [boolean, boolean] = [false, false];
    if (h.players.length === 0) {
      return { buttons: [this.takeManual(0), this.takeManual(1)], held, latency: [null, null] };
    }
    // Taken before anything yields: a pause that comes while the gate is open must abort this wait, not an earlier one.
    const signal = h.interruptSignal();
    // An agent that answers at once (built-in agents are async functions) has its answer one microtask away: letting
    // it land first spares the wait's timeout timer and abort listener, which cost more than the rest of the frame's gate work.
    if (!h.gate.complete) await Promise.resolve();
    let announced = false;
    while (true) {
      if (h.fault()) throw h.fault();
      const timeout = h.deps.sync.frameTimeoutMs;
      const res = await h.gate.wait(timeout, signal);
      if (h.fault()) throw h.fault();
      if (res.status === 'ready') return this.gateResult(res, held);
      if (res.status === 'aborted') return undefined;
      // Timeout: the action for the held frame is late.
      if (!announced) {
        announced = true;
        const w = h.gate.waiting;
        if (w) h.events.emit('waiting', { frame: w.frame, waitingFor: w.waitingFor, sinceMs: h.now() - w.since, mode: h.gate.mode });
      }
      const ev = h.detector.checkTiming(this.observationTime, h.now(), { frame: cur.frame, player: res.missing[0] })
        ?? h.detector.record(timeoutEvent(cur, res.missing, res.waitedMs, h.now()));
      let plan = h.handleDesync(ev, null, cur);
      if (plan.actions.includes('heartbeat')) {
        const alive = await this.heartbeat(res.missing);
        plan = h.recovery.heartbeatResult(alive);
        ev.recovery = `${ev.recovery ?? ''}; heartbeat ${alive ? 'answered' : 'unanswered'} -> ${describePlan(plan)}`;
        if (plan.actions.includes('give_up')) h.fail(new RuntimeFault(`agent unreachable: ${plan.reason}`, ev));
        if (plan.actions.includes('reconnect') && plan.delayMs > 0) await sleep(plan.delayMs, signal);
      }
      if (h.gate.mode === 'hold' && !h.fault()) {
        // Frame hold: a late agent's controller keeps its previous buttons and the emulator moves on.
        for (const p of res.missing) {
          held[p] = true;
          if (this.inflight[p]) this.heldFrames[p].add(cur.frame);
          h.gate.supply(p, h.counters.lastButtons[p]);
        }
      }
    }
  }

  /** The held frame's buttons once every agent answered (manual ones for controllers no agent drives), and the latencies. */
  private gateResult(res: GateReady, held: [boolean, boolean]): GateResult {
    const h = this.h;
    // Every agent answered: whoever was being waited for is back, so a later outage gets the full reconnect budget again.
    if (h.recovery.reconnectAttemptsMade > 0) h.recovery.reconnectResult(true);
    const buttons: [number, number] = [res.buttons[0], res.buttons[1]];
    for (let p = 0; p < 2; p++) {
      if (!h.players.includes(p)) buttons[p] = this.takeManual(p);
    }
    const latency: [number | null, number | null] = [this.latency[0], this.latency[1]];
    this.latency[0] = this.latency[1] = null;
    return { buttons, held, latency };
  }

  private async heartbeat(players: number[]): Promise<boolean> {
    const checks = players.map(async (p) => {
      const agent = this.h.deps.agents[p] as (AgentPort & { heartbeat?: (ms: number) => Promise<boolean> }) | undefined;
      if (!agent) return true;
      return agent.heartbeat ? agent.heartbeat(this.h.deps.sync.heartbeatIntervalMs) : true;
    });
    return (await Promise.all(checks)).every(Boolean);
  }

  private takeManual(p: number): number {
    const v = this.manualNext[p];
    this.manualNext[p] = undefined;
    return v ?? 0;
  }

  /** Sends the held frame's step with the gate's buttons; what its row needs from before the step is taken meanwhile. */
  private async launch(cur: EmulatorFrame, gate: GateResult): Promise<Launch> {
    const h = this.h;
    const start = this.begin();
    await h.pushHistory(cur, gate.buttons);
    const exporter = this.checkpointDue();
    const checkpoint = exporter ? { format: exporter.stateFormat, state: await exporter.exportState() } : undefined;
    return this.send(cur, gate, start, checkpoint);
  }

  /**
   * What a launch takes before anything waits: which controllers' actions were given by hand (taken: the next frame
   * starts without them), when every action was in, and when the frame was held.
   */
  private begin(): LaunchStart {
    const manual: [boolean, boolean] = [false, false];
    for (let p = 0; p < 2; p++) {
      if (this.h.players.includes(p) && this.manualNext[p] !== undefined) {
        manual[p] = true;
        this.manualNext[p] = undefined;
      }
    }
    return { manual, ready: this.h.now(), observationTime: this.observationTime };
  }

  /**
   * The emulator, when the held frame's row carries a checkpoint (its whole state, every snapshotEvery steps, from an
   * emulator that can export it); undefined otherwise.
   */
  private checkpointDue(): (EmulatorPort & StateExporter) | undefined {
    const every = this.h.options.snapshotEvery ?? 0;
    const emulator = this.h.deps.emulator;
    return every > 0 && this.h.counters.step % every === 0 && isStateExporter(emulator) ? emulator : undefined;
  }

  /**
   * Sends the step (through `stepNow` when given: from inside the previous step's arrival) and takes the held frame's
   * fingerprints and variables while the emulator runs it: hashing, and converting a screen nothing else needed, off the
   * round trip; the screen's only for a recording, the one reader of it (see fingerprints).
   */
  private send(cur: EmulatorFrame, { buttons, held, latency }: GateResult, start: LaunchStart, checkpoint: Launch['checkpoint'], stepNow?: StepNow): Launch {
    const h = this.h;
    // The arrival names its step: the emulator calls it only after step() returned, once the frame is in.
    const options = { screen: h.wantsScreens, arrived: (next: EmulatorFrame, now: StepNow) => this.arrived(stepping, next, now) };
    const stepping: Promise<EmulatorFrame> = stepNow?.(buttons, options) ?? h.deps.emulator.step(buttons, options);
    // Whoever awaits the step handles its failure; until then a rejection must not count as unhandled.
    stepping.catch(() => undefined);
    // What the row needs of the held frame is taken once the step is out (the gate keeps it until the next frame is held).
    const info = this.rowInfo();
    const prints = fingerprints(cur, h.options.recorder !== undefined);
    const vars = h.varsOf(cur);
    // Every field named (no spread of `start`): one object shape for every launch, made without copying properties.
    return { cur, buttons, held, latency, manual: start.manual, ready: start.ready, observationTime: start.observationTime, info, checkpoint, stepping, prints, vars, arrival: undefined };
  }

  /**
   * A launched step's frame arrived (an emulator on a socket calls this before the step's promise settles): while an
   * advance waits for that step, the frame is taken in at once (see arrive), and with every action already in the
   * next step goes out in the same turn, before the event loop's turns between the socket and the waiting advance.
   */
  private arrived(stepping: Promise<EmulatorFrame>, next: EmulatorFrame, stepNow: StepNow): void {
    const a = this.awaiting;
    if (a?.launch.stepping !== stepping) return;
    const launch = a.launch;
    try {
      launch.arrival = { value: this.arrive(launch, next, a.eager, a.desyncs, stepNow) };
    } catch (error) {
      launch.arrival = { error };
    }
  }

  /**
   * Waits for a launched step and records its frame. `eager`: the caller advances again at once, so when the next frame
   * goes on with every action in hand and nothing to stop for, its step is sent before this frame's row, metrics and
   * events, and the emulator runs it meanwhile.
   */
  private async applyFrame(launch: Launch, eager: boolean, desyncs: DesyncEvent[]): Promise<FrameOutcome> {
    const h = this.h;
    const { cur, buttons, held, latency, manual, ready, info, checkpoint, prints, vars } = launch;
    this.awaiting = { launch, eager, desyncs };
    let next: EmulatorFrame;
    try {
      next = await launch.stepping;
    } finally {
      if (this.awaiting?.launch === launch) this.awaiting = undefined;
    }
    const taken = launch.arrival;
    if (taken && 'error' in taken) throw taken.error;
    const { rewards, stepIndex, episode, doneFlag, agentTerm, terminated, truncated, overrun, heldEarly } =
      taken?.value ?? this.arrive(launch, next, eager, desyncs);
    if (heldEarly && eager && !overrun && !this.launched) await this.launchEarly(next, desyncs);
    // The row is built once the next frame's step is out (an eager advance): nothing before that needs it.
    const row: FrameRow = {
      episode,
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
    if (overrun) {
      // Never record a row at or past the synced termination: that is how datasets get 451 rows.
      h.handleDesync(overrun, null, cur);
    } else {
      h.options.recorder?.addRow(row);
    }
    const agentLatency = Math.max(latency[0] ?? 0, latency[1] ?? 0);
    h.metrics.recordFrame({ frame: cur.frame, frameDelayMs: ready - launch.observationTime, agentLatencyMs: agentLatency, syncQualityMs: h.buffer.syncQualityMs(cur.frame) });
    const outcome: FrameOutcome = { advanced: true, frame: next.frame, row, desyncs: [] };
    if (terminated || truncated) {
      const end = h.makeEpisodeEnd(doneFlag ? 'done_flag' : agentTerm ? 'agent_terminated' : 'max_steps', next);
      outcome.episodeEnd = end;
      await h.options.recorder?.endEpisode(end, next.ram);
      for (const agent of h.deps.agents) await agent?.episodeEnd?.(end);
      h.events.emit('episodeEnd', end);
      const fresh = await h.nextEpisode(end);
      outcome.frame = fresh.frame;
      h.checkReference(fresh);
    } else if (h.current() !== next) {
      h.holdNext(next);
      h.checkReference(next);
    }
    h.events.emit('frame', { row, current: h.current()! });
    return outcome;
  }

  /**
   * Takes in the frame a step ran to: the transition's counters, reward and end. When the episode goes on and the
   * caller advances again at once (or an agent is behind a link), the next frame is held and its observation goes out
   * now, before this frame's row is recorded: an agent behind a link (a trainer process) thinks while the row, metrics
   * and events are done here, instead of after them. Agents in this process are asked now only for an eager advance
   * (otherwise when the next frame is advanced). With `stepNow` (inside the step's arrival) the next step may go too.
   */
  private arrive(launch: Launch, next: EmulatorFrame, eager: boolean, desyncs: DesyncEvent[], stepNow?: StepNow): Arrival {
    const h = this.h;
    const c = h.counters;
    const { cur, buttons } = launch;
    c.lastButtons = buttons;
    const ramMap = h.deps.ramMap;
    const rewards: [number, number] = [ramMap.reward(0, cur, next), ramMap.reward(1, cur, next)];
    c.returns[0] += rewards[0];
    c.returns[1] += rewards[1];
    c.lastRewards = rewards;
    const stepIndex = c.step;
    const episode = c.episode;
    c.step++;
    const maxSteps = h.options.maxSteps ?? null;
    const doneFlag = ramMap.isDone(next);
    const agentTerm = c.agentTerminatedAt !== null && cur.frame >= c.agentTerminatedAt;
    const terminated = doneFlag || agentTerm;
    const truncated = !terminated && maxSteps !== null && c.step >= maxSteps;
    const overrun = maxSteps !== null ? h.detector.checkEpisode(stepIndex, maxSteps, { now: h.now() }) : null;
    const heldEarly = !terminated && !truncated && (eager || this.remoteAgents());
    if (heldEarly) {
      h.holdNext(next);
      h.checkReference(next);
      this.openHeld(next);
      if (eager && !overrun && stepNow) this.launchNow(next, desyncs, stepNow);
    }
    return { rewards, stepIndex, episode, doneFlag, agentTerm, terminated, truncated, overrun, heldEarly };
  }

  /** Whether a step sent for `next` now would go with the gate's actions: nothing to stop for, every action in. */
  private mayLaunch(next: EmulatorFrame, desyncs: DesyncEvent[]): boolean {
    const h = this.h;
    return h.gate.complete && desyncs.length === 0 && !h.fault() && !h.closed() && h.current() === next;
  }

  /**
   * Sends the step of `next` (just held, its observation out) when its actions are already in: agents in this process
   * answer within a microtask or two. Anything that may stop the run (a desync, a fault, an interrupt) leaves it held
   * at the gate, where the next advance picks it up as usual.
   */
  private async launchEarly(next: EmulatorFrame, desyncs: DesyncEvent[]): Promise<void> {
    const h = this.h;
    for (let i = 0; i < 3 && !h.gate.complete; i++) await Promise.resolve();
    if (!this.mayLaunch(next, desyncs)) return;
    const gateResult = await this.awaitActions(next);
    if (!gateResult || h.current() !== next) return;
    this.launched = await this.launch(next, gateResult);
  }

  /**
   * launchEarly in the same turn, from inside the arrival of `next`: when its actions are in (agents that answer at
   * once) and keeping its history and row need nothing from the emulator first. Otherwise launchEarly does it later.
   */
  private launchNow(next: EmulatorFrame, desyncs: DesyncEvent[], stepNow: StepNow): void {
    const h = this.h;
    const ready = h.gate.readyNow();
    if (!ready || !this.mayLaunch(next, desyncs) || !h.historyAtOnce || this.checkpointDue()) return;
    const gate = this.gateResult(ready, [false, false]);
    const start = this.begin();
    // Done before it returns (historyAtOnce): the promise has nothing left to wait for.
    void h.pushHistory(next, gate.buttons);
    this.launched = this.send(next, gate, start, undefined, stepNow);
  }
}
