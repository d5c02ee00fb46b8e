// Run control of a debug session: run, run N frames, run to the episode end, reverse, pause, pause-until-action and stop checks, reported as typed events.
import type { DesyncEvent } from '../core/sync/desyncDetector';
import type { FrameOutcome, LockstepRuntime } from '../core/runtime/runtime';
import { TypedEmitter } from '../core/typedEmitter';
import { StatusTicker, type WaitInfo } from './statusTicker';
import { searchBackwards } from './historySearch';
import type { StopChecks } from './stopChecks';
import { unrefSleep as sleep } from './unrefSleep';

export type { CheckedState, StopChecks, StopHit } from './stopChecks';

/** `fromConsole`: frames N typed in the Debug Console, which answers when it is done too. */
export type RunGoal = { kind: 'continue' } | { kind: 'frames'; count: number; fromConsole?: boolean } | { kind: 'episode' };
export type RunState = 'idle' | 'starting' | 'stopped' | 'running' | 'terminated';
/** Why the last exception stop happened (a desync that matched a filter, or the run's fault). */
export type LastStop = { kind: 'desync'; event: DesyncEvent; conditionError?: string } | { kind: 'fault'; message: string };

export interface StopInfo {
  reason: string;
  description?: string;
  text?: string;
  hitBreakpointIds?: number[];
}

export interface RunControlEvents {
  /** Running started (`announce`: the client did not ask for it with continue/next, so it must be told). */
  running: { announce: boolean };
  stopped: StopInfo;
  /** Reverse continue moved the held frame back (one frame, or a travel to where it stops over the session history). */
  rewound: { frame: number };
  output: { text: string; category: 'console' | 'stderr' };
}

export interface RunControlOptions {
  /** How long the gate may wait for an agent before the wait is shown (and pause-until-action stops). */
  waitNoticeMs: number;
  /** Interval of status reports while running. */
  statusIntervalMs: number;
}

/** How often a long run gives the event loop a turn (requests such as pause must get through). */
const YIELD_EVERY_MS = 20;

export class RunControl {
  readonly events = new TypedEmitter<RunControlEvents>();
  readonly ticker: StatusTicker;
  private runState: RunState = 'idle';
  private runtime?: LockstepRuntime;
  private checks?: StopChecks;
  private agentControllers: number[] = [];
  private runPromise?: Promise<void>;
  private pauseRequested = false;
  private pendingDesync?: { event: DesyncEvent; conditionError?: string };
  private waitStop?: WaitInfo;
  private halting = false;
  private lastStopValue?: LastStop;
  private faultMessage?: string;
  private frames = 0;
  private runningTotalMs = 0;
  private runStartedAt = 0;
  private pauseUntil = false;
  private stepBackDepth = 0;

  constructor(options: RunControlOptions) {
    this.ticker = new StatusTicker({
      runtime: () => this.runtime,
      isRunning: () => this.runState === 'running',
      waitNoticeMs: options.waitNoticeMs,
      statusIntervalMs: options.statusIntervalMs,
      onWaitShown: (info) => {
        if (this.pauseUntil && !this.waitStop) {
          this.waitStop = info;
          this.runtime?.interruptWait();
        }
      },
    });
  }

  get state(): RunState {
    return this.runState;
  }
  /** The session is being ended: loops return and starts give up. */
  get terminating(): boolean {
    return this.halting;
  }
  get lastStop(): LastStop | undefined {
    return this.lastStopValue;
  }
  /** Why the run stopped for good (the runtime's fault), if it did. */
  get fault(): string | undefined {
    return this.faultMessage;
  }
  get framesRun(): number {
    return this.frames;
  }
  /** Time spent running so far (not stopped). */
  get runningMs(): number {
    return this.runningTotalMs;
  }
  get pauseUntilAction(): boolean {
    return this.pauseUntil;
  }

  /** A launch or attach began: the session is starting. */
  starting(settings: { pauseUntilAction: boolean; stepBackDepth: number }): void {
    this.runState = 'starting';
    this.pauseUntil = settings.pauseUntilAction;
    this.stepBackDepth = settings.stepBackDepth;
  }

  /** The runtime started: run control can drive it. `agents` by controller (index 0 = controller 1). */
  attach(runtime: LockstepRuntime, checks: StopChecks, agents: ReadonlyArray<unknown>): void {
    this.runtime = runtime;
    this.checks = checks;
    this.agentControllers = agents.flatMap((a, i) => (a ? [i] : []));
  }

  /** The session ended (or never started). */
  terminated(): void {
    this.runState = 'terminated';
  }

  /** Why a run request cannot start now, or undefined when it can. */
  cannotRun(backwards = false): string | undefined {
    if (this.runState === 'running') return 'The game is running: pause first.';
    if (this.runState !== 'stopped' || !this.runtime) return this.runState === 'terminated' ? 'The session has ended.' : 'The session has not started yet.';
    if (this.faultMessage && !backwards) return `The run stopped: ${this.faultMessage}. Restart the debug session to run again.`;
    return undefined;
  }

  noHistoryMessage(): string {
    if (this.runtime?.sessionHistory) return 'No earlier frame: this is the oldest reachable frame of the session history.';
    return this.stepBackDepth > 0
      ? `No earlier frame kept: step back goes at most ${this.stepBackDepth} frames back and not past an episode start.`
      : 'Step back is off (stepBackDepth is 0 in the launch configuration).';
  }

  /** Runs toward the goal in the background; the end comes as a `stopped` event. */
  run(goal: RunGoal, announce: boolean): void {
    this.beginRunning(announce);
    this.runPromise = this.runLoop(goal).catch((e: Error) => {
      this.out(`internal error while running: ${e.stack ?? e.message}`, 'stderr');
      if (this.runState === 'running') this.stopAt('pause', { description: 'Internal error' });
    });
  }

  /**
   * Steps back frame by frame until a breakpoint holds, a pause, or the oldest kept frame; with the session history,
   * searches the recorded past the same way and travels once. Throws when there is nothing to step back to.
   */
  reverse(): void {
    if (!this.requireRuntime().canStepBack) throw new Error(this.noHistoryMessage());
    this.beginRunning(false);
    this.runPromise = this.reverseLoop().catch((e: Error) => {
      this.out(`reverse continue failed: ${e.message}`, 'stderr');
      this.stopAt('pause', { description: 'Reverse continue failed' });
    });
  }

  /** Steps back n frames at once (stopped); returns the frames before and after. */
  async stepBack(n: number): Promise<{ from: number; to: number }> {
    const rt = this.requireRuntime();
    if (!rt.canStepBack) throw new Error(this.noHistoryMessage());
    const from = rt.current!.frame;
    await rt.stepBack(n);
    return { from, to: rt.current!.frame };
  }

  /**
   * Travels to session-history tick `tick` (stopped): the timeline panel's click. Same path as step back, but to any
   * reachable tick, earlier or later than the held one. Throws without a session history or for an unreachable tick.
   */
  async travel(tick: number): Promise<{ from: number; to: number; episode: number; step: number }> {
    const why = this.cannotRun(true);
    if (why) throw new Error(why);
    const rt = this.requireRuntime();
    if (!rt.sessionHistory) throw new Error('The timeline needs the session history: set "timeTravel": true (the default) and the lockstep sync mode in the launch configuration.');
    const from = rt.current!.frame;
    await rt.travelTo(tick);
    this.events.emit('rewound', { frame: rt.current!.frame });
    return { from, to: rt.current!.frame, episode: rt.episodeIndex, step: rt.stepIndex };
  }

  pause(): void {
    if (this.runState !== 'running') return;
    this.pauseRequested = true;
    // The runtime may be waiting at the gate for an agent that never answers: interrupt that wait.
    this.runtime?.interruptWait();
  }

  /** Buttons by hand for the held frame (one controller, or every one awaited); says which frame and controllers they went to. */
  supplyAction(buttons: number, player: 0 | 1 | undefined): { frame: number; players: number[]; applied: 'now' | 'queued' } {
    const rt = this.requireRuntime();
    const waiting = rt.gateStatus;
    const players = player !== undefined ? [player] : waiting?.waitingFor ?? (rt.agentCount > 0 ? this.agentControllers : [0]);
    rt.supplyAction(buttons, player);
    if (waiting) this.ticker.markManual();
    const released = waiting !== null && rt.gateStatus === null;
    const result = { frame: waiting?.frame ?? rt.current!.frame, players, applied: released && this.runState === 'running' ? 'now' as const : 'queued' as const };
    this.ticker.checkWaiting();
    return result;
  }

  setPauseUntilAction(enabled: boolean): void {
    this.pauseUntil = enabled;
    // Turning it on while the gate already waits stops now rather than at the next wait.
    if (enabled && this.runState === 'running' && this.ticker.showingWait) {
      const st = this.runtime?.gateStatus;
      if (st) {
        this.waitStop = { frame: st.frame, waitingFor: st.waitingFor, sinceMs: Math.round(st.sinceMs), mode: st.mode };
        this.runtime!.interruptWait();
      }
    }
    this.ticker.sendStatus();
  }

  /** A desync was reported: while running, a matching desync breakpoint stops the run at the held frame. */
  noteDesync(ev: DesyncEvent): { stops: boolean; error?: string } {
    if (!this.runtime || !this.checks) return { stops: false };
    const decision = this.runState === 'running' ? this.checks.desyncStops(ev) : { stops: false as const };
    if (decision.stops && !this.pendingDesync) {
      this.pendingDesync = { event: ev, conditionError: decision.error };
      this.runtime.interruptWait();
    }
    return decision;
  }

  /** Stops (the session decides it, e.g. on entry or after a step back, or a loop reached its goal). */
  stopAt(reason: string, extra: Omit<StopInfo, 'reason'> = {}): void {
    if (this.runState === 'running') this.runningTotalMs += performance.now() - this.runStartedAt;
    this.runtime?.metrics.markRunEnd();
    this.runState = 'stopped';
    this.ticker.stop();
    if (reason !== 'exception') this.lastStopValue = undefined;
    this.markStop(reason, extra);
    this.events.emit('stopped', { reason, ...extra });
    this.ticker.checkWaiting();
    this.ticker.sendStatus();
  }

  /** Ends running for good: loops return (waited for at most 3 s) and the ticker stops. */
  async halt(): Promise<void> {
    this.halting = true;
    this.runtime?.interruptWait();
    if (this.runPromise) await Promise.race([this.runPromise, sleep(3000)]);
    this.ticker.stop();
    if (this.runState === 'running') this.runningTotalMs += performance.now() - this.runStartedAt;
  }

  // ---- internals ----

  private requireRuntime(): LockstepRuntime {
    if (!this.runtime) throw new Error('The session has not started yet.');
    return this.runtime;
  }

  private beginRunning(announce: boolean): void {
    this.runState = 'running';
    this.pauseRequested = false;
    this.pendingDesync = undefined;
    this.waitStop = undefined;
    this.runStartedAt = performance.now();
    // The panels and the status bar show this run's rate, not a window average that counts the time spent stopped.
    this.runtime?.metrics.markRunStart();
    this.events.emit('running', { announce });
    this.ticker.start();
  }

  private async runLoop(goal: RunGoal): Promise<void> {
    const rt = this.runtime!;
    const checks = this.checks!;
    let remaining = goal.kind === 'frames' ? goal.count : Infinity;
    let lastYield = performance.now();
    checks.rebase();
    while (true) {
      if (this.halting) return;
      if (this.pauseRequested) return this.stopAt('pause', { description: `Paused at frame ${rt.current?.frame}` });
      let before = rt.current!;
      // Eager when nothing is checked between frames, more frames are to run and no yield is due: the next frame's step
      // goes out before this frame's row, metrics and events, and the emulator runs it meanwhile.
      const eager = !checks.hasFrameChecks && remaining > 1 && performance.now() - lastYield <= YIELD_EVERY_MS;
      let o: FrameOutcome;
      try {
        o = await rt.advance({ eager });
        if (this.halting) return;
        if (o.advanced) {
          this.frames++;
          remaining--;
        }
        if (rt.inFlight && (this.pendingDesync || checks.hasFrameChecks || this.pauseRequested)) {
          // A stop or a breakpoint came while the next frame's step was out: that frame runs to its end, and is the
          // one checked and stopped on.
          before = rt.current!;
          const settled = await rt.settle();
          if (this.halting) return;
          if (settled?.advanced) {
            o = settled;
            this.frames++;
            remaining--;
          }
        }
      } catch (e) {
        if (this.halting) return;
        return this.onFault(e as Error);
      }
      if (this.pendingDesync) {
        const p = this.pendingDesync;
        this.pendingDesync = undefined;
        this.lastStopValue = { kind: 'desync', event: p.event, conditionError: p.conditionError };
        return this.stopAt('exception', { description: `Desync: ${p.event.type} at frame ${p.event.frame}`, text: p.event.message });
      }
      if (!o.advanced) {
        if (this.waitStop) {
          const w = this.waitStop;
          return this.stopAt('pause', {
            description: `Waiting for an action: controller ${w.waitingFor.map((p) => p + 1).join(' and ')}, frame ${w.frame}`,
            text: 'Supply it with "press ..." in the Debug Console (or the Send Action command), then step or continue.',
          });
        }
        if (this.pauseRequested) continue;
        // Interrupted for no reason of ours (e.g. someone else called interruptWait): keep waiting.
        await yieldToEvents();
        continue;
      }
      if (checks.hasFrameChecks) {
        const hit = checks.checkFrame(before, rt.current!);
        if (hit) return this.stopAt(hit.reason, { description: hit.description, hitBreakpointIds: hit.ids });
      }
      if (goal.kind === 'episode' && o.episodeEnd) return this.stopAt('step', { description: `Episode ${o.episodeEnd.episode} ended (${o.episodeEnd.reason})` });
      if (remaining <= 0) {
        // `frames 60` typed in the Debug Console answers when it is done, not only when it starts.
        if (goal.kind === 'frames' && goal.fromConsole) this.out(`ran ${goal.count} frame(s): holding frame ${rt.current!.frame}`, 'console');
        return this.stopAt('step');
      }
      // Never with a step out (the advance after an overdue yield is not eager): requests that come in meanwhile see a held frame.
      if (!rt.inFlight && performance.now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEvents();
        lastYield = performance.now();
      }
    }
  }

  private async reverseLoop(): Promise<void> {
    const rt = this.runtime!;
    const checks = this.checks!;
    checks.rebase();
    if (rt.sessionHistory) return this.reverseOverHistory();
    let lastYield = performance.now();
    while (rt.canStepBack) {
      if (this.halting) return;
      if (this.pauseRequested) return this.stopAt('pause', { description: 'Paused while stepping back' });
      const newer = rt.current!;
      await rt.stepBack(1);
      this.events.emit('rewound', { frame: rt.current!.frame });
      const hit = checks.checkFrame(newer, rt.current!);
      if (hit) return this.stopAt(hit.reason, { description: `${hit.description} (going back)`, hitBreakpointIds: hit.ids });
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEvents();
        lastYield = performance.now();
      }
    }
    this.stopAt('step', { description: `Reached the oldest kept frame (${rt.current?.frame})` });
  }

  /** Reverse continue with the session history: search the recorded past (no emulator runs), then travel once to where it stops. */
  private async reverseOverHistory(): Promise<void> {
    const rt = this.runtime!;
    const h = rt.sessionHistory!;
    const found = await searchBackwards(h, rt.currentTick, this.checks!, {
      interrupted: () => this.halting || this.pauseRequested,
      yieldEveryMs: YIELD_EVERY_MS,
    });
    if (this.halting) return;
    await rt.travelTo(found.tick);
    this.events.emit('rewound', { frame: rt.current!.frame });
    const s = h.stateAt(found.tick);
    const where = `episode ${s.episode}, step ${s.step}, frame ${s.frame}`;
    switch (found.kind) {
      case 'hit':
        return this.stopAt(found.hit.reason, { description: `${found.hit.description} (going back; ${where})`, hitBreakpointIds: found.hit.ids });
      case 'desync':
        this.lastStopValue = { kind: 'desync', event: found.event, conditionError: found.conditionError };
        return this.stopAt('exception', { description: `Desync: ${found.event.type} at frame ${found.event.frame} (going back; ${where})`, text: found.event.message });
      case 'interrupted':
        return this.stopAt('pause', { description: `Paused while going back (${where})` });
      case 'oldest':
        return this.stopAt('step', { description: `Reached the oldest kept frame (${s.frame}) of the session history (episode ${s.episode}, step ${s.step})` });
    }
  }

  /**
   * Every stop shows on the timeline: breakpoint hits (forward and backward) as such, the rest as stops. A desync stop's
   * desync is marked by the runtime already, and travelling there (`goto`) is not a new event of the run.
   */
  private markStop(reason: string, extra: Omit<StopInfo, 'reason'>): void {
    const h = this.runtime?.sessionHistory;
    if (!h || this.runtime!.currentTick < 0 || reason === 'goto' || (reason === 'exception' && this.lastStopValue?.kind === 'desync')) return;
    const text = extra.description ?? reason;
    const kind = extra.hitBreakpointIds?.length || reason === 'breakpoint' || reason === 'function breakpoint' || reason === 'data breakpoint' ? 'breakpoint' : 'stop';
    h.mark({ tick: this.runtime!.currentTick, kind, text });
  }

  private onFault(e: Error): void {
    this.faultMessage = e.message;
    this.lastStopValue = { kind: 'fault', message: e.message };
    this.out(`The run stopped: ${e.message}`, 'stderr');
    this.stopAt('exception', { description: 'The run stopped', text: e.message });
  }

  private out(text: string, category: 'console' | 'stderr'): void {
    this.events.emit('output', { text, category });
  }
}

function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
