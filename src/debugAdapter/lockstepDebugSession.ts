// The Lockstep debug session: translates DAP requests into RunControl and LockstepRuntime calls, and their events into DAP events; knows nothing of VS Code.
import {
  ContinuedEvent, DebugSession, Event, InitializedEvent, InvalidatedEvent, MemoryEvent, OutputEvent, ProgressEndEvent,
  ProgressStartEvent, ProgressUpdateEvent, StoppedEvent, TerminatedEvent,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { basename } from 'node:path';
import type { DesyncEvent } from '../core/sync/desyncDetector';
import type { LockstepRuntime } from '../core/runtime/runtime';
import type { EpisodeEnd, FrameRow } from '../core/runtime/rows';
import { maskToNames, namesToMask } from '../core/buttons';
import type { RamVariable } from '../core/config/ramMap';
import type { BuiltSession, LogFn } from '../session/sessionBuilder';
import { describeAgentSpec, type SessionSpec } from '../session/sessionSpec';
import { lockstepLuaPath } from '../emulators/fceux/fceuxLocator';
import { RunControl, type CheckedState, type StopInfo } from '../session/runControl';
import type { WaitInfo } from '../session/statusTicker';
import { adapterCapabilities } from './adapterCapabilities';
import { BreakpointSet, dataIdFor, hexAddress } from './breakpoints';
import { ON_TIMEOUT_MEANING, consoleHelp, gateModeFor, parseConsoleCommand } from './consoleCommand';
import { consoleCompletions } from './consoleCompletions';
import { dataTargetFor } from './dataTarget';
import { desyncExceptionInfo } from './desyncExceptionInfo';
import { DesyncLines } from './desyncLines';
import { readMemoryWindow, readRamWindow, ramWriteBytes } from './ramMemory';
import { describeSendAction, desyncNotice, sessionInfo, startedLine, statusLine, statusReport, summaryReport, waitingLine } from './sessionReports';
import {
  parseCustomRequest, type CustomEvents, type CustomRequest, type CustomRequests,
  type LockstepStatus, type SendActionResult,
} from './customProtocol';
import { ConsoleEvaluator } from './consoleEvaluator';
import { toSessionSpec, type RequestKind } from './launchArgs';
import { StateScope } from './stateScope';
import { FrameSheetFile, type SheetStore } from './frameSheetFile';
import { RAM_MEMORY_REFERENCE, VariablesView, encodeRamVariable, parseMemoryReference, parseRegionReference, type DetailRegion } from './variablesView';
import { RowHistory } from './rowHistory';
import type { MachineDetail } from '../core/ports';
import { unrefSleep as sleep } from '../session/unrefSleep';

/** Builds the run for a launch/attach; the extension and tests pass their own (e.g. with a recorder). */
export type SessionFactory = (spec: SessionSpec, ctx: { log: LogFn }) => Promise<BuiltSession>;

export interface LockstepDebugSessionOptions {
  createSession: SessionFactory;
  /** Called once the runtime has started, so the extension's panels can use it directly. */
  onSessionStarted?: (built: BuiltSession) => void;
  /** How long the gate may wait for an agent before the wait is shown (and pause-until-action stops). */
  waitNoticeMs?: number;
  /** Interval of `lockstep.status` events while running. */
  statusIntervalMs?: number;
  /** How long launch waits for configurationDone before running anyway. */
  configurationDoneTimeoutMs?: number;
  /** Where the frame sheet (the stopped frame's page) is written; default a file in a new temp folder. */
  sheetStore?: (fileName: string) => SheetStore;
}


const THREAD_ID = 1;
const FRAME_ID = 1;
const START_PROGRESS_ID = 'lockstep.start';

export class LockstepDebugSession extends DebugSession {
  private readonly opts: Required<Omit<LockstepDebugSessionOptions, 'onSessionStarted'>> & Pick<LockstepDebugSessionOptions, 'onSessionStarted'>;
  private client: DebugProtocol.InitializeRequestArguments = { adapterID: 'lockstep' };
  /** Run, pause, reverse and stop checks; this class only translates its events into DAP. */
  private readonly rc: RunControl;
  /** The stopped frame as a text page (see stackTraceRequest), and where it was written for this stop. */
  private sheet?: { store: SheetStore; path: string; text: string };
  private built?: BuiltSession;
  private spec?: SessionSpec;
  private breakpoints?: BreakpointSet;
  private view?: VariablesView;
  private evaluator?: ConsoleEvaluator;
  private lastRow?: FrameRow;
  /** Rows as far back as step back goes, so the Sync scope still shows the action that led to a frame stepped back to. */
  private rowHistory = new RowHistory(1);
  /** Whether a panel shows this session's screens (lockstep.showScreens), remembered until the runtime exists. */
  private screensShown = false;
  private stepBackDepth = 0;
  private readonly configured: Promise<void>;
  private markConfigured!: () => void;
  private closing?: Promise<void>;
  private readonly startAbort = new AbortController();
  private episodesEnded = 0;
  private readonly desyncLines = new DesyncLines();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(options: LockstepDebugSessionOptions) {
    super();
    this.opts = {
      waitNoticeMs: 300,
      statusIntervalMs: 250,
      configurationDoneTimeoutMs: 10_000,
      sheetStore: (fileName) => new FrameSheetFile(fileName),
      ...options,
    };
    this.configured = new Promise<void>((resolve) => {
      this.markConfigured = resolve;
    });
    this.rc = new RunControl({ waitNoticeMs: this.opts.waitNoticeMs, statusIntervalMs: this.opts.statusIntervalMs });
    this.wireRunControl(this.rc);
  }

  // ---- lifecycle ----

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.client = args;
    response.body = { ...response.body, ...adapterCapabilities() };
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): void {
    void this.startSession(response, args, 'launch');
  }

  protected override attachRequest(response: DebugProtocol.AttachResponse, args: DebugProtocol.AttachRequestArguments): void {
    void this.startSession(response, args, 'attach');
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.markConfigured();
    this.sendResponse(response);
  }

  private async startSession(response: DebugProtocol.Response, raw: unknown, kind: RequestKind): Promise<void> {
    if (this.rc.state !== 'idle') return this.fail(response, `this debug session has already been ${kind === 'launch' ? 'launched' : 'attached'}`);
    let parsed: ReturnType<typeof toSessionSpec>;
    try {
      parsed = toSessionSpec(raw, kind);
    } catch (e) {
      return this.fail(response, (e as Error).message);
    }
    for (const w of parsed.warnings) this.out(w, 'stderr');
    const { spec } = parsed;
    this.spec = spec;
    this.stepBackDepth = spec.stepBackDepth ?? 0;
    this.rowHistory = new RowHistory(this.stepBackDepth + 1);
    this.rc.starting({ pauseUntilAction: parsed.pauseUntilAction, stepBackDepth: this.stepBackDepth });
    const title = kind === 'attach' ? 'Waiting for FCEUX' : spec.emulator === 'fceux' ? 'Starting FCEUX' : 'Loading the ROM';
    this.progressStart(title, spec.rom ? basename(spec.rom) : 'demo ROM');
    let first: number;
    try {
      this.built = await this.opts.createSession(spec, { log: (level, message) => this.log(level, message) });
      if (this.rc.terminating) throw new Error('the session was ended while starting');
      this.wireRuntime(this.built);
      this.announceConnections(this.built, kind);
      this.built.runtime.setScreensShown(this.screensShown);
      first = (await this.built.runtime.start(this.startAbort.signal)).frame;
      if (this.rc.terminating) throw new Error('the session was ended while starting');
    } catch (e) {
      this.progressEnd('failed');
      const message = (e as Error).message;
      await this.built?.close().catch(() => undefined);
      this.built = undefined;
      this.rc.terminated();
      return this.fail(response, `Lockstep could not start: ${message}`);
    }
    this.progressEnd('started');
    const built = this.built;
    // A panel may have said so while the ROM was loading.
    if (this.screensShown) await this.showScreens(true);
    const breakpoints = new BreakpointSet(built.ramMap);
    this.breakpoints = breakpoints;
    this.rc.attach(built.runtime, {
      rebase: () => breakpoints.rebase(this.scope()),
      get hasFrameChecks() {
        return breakpoints.hasFrameChecks;
      },
      checkFrame: (before, after, at) => breakpoints.checkFrame(before, after, this.scope(undefined, at)),
      desyncStops: (ev, at) => breakpoints.desyncStops(ev, this.scope(ev, at)),
    }, built.agents);
    this.view = new VariablesView({
      built,
      lastRow: () => this.lastRow,
      agentLabels: [describeAgentSpec(spec.agents[0]), describeAgentSpec(spec.agents[1])],
      pauseUntilAction: () => this.rc.pauseUntilAction,
      stepBackDepth: this.stepBackDepth,
      framesRun: () => this.rc.framesRun,
    });
    this.evaluator = new ConsoleEvaluator(built.ramMap, this.view, () => this.scope(), () => built.runtime.current!);
    try {
      this.opts.onSessionStarted?.(built);
    } catch (e) {
      this.out(`onSessionStarted failed: ${(e as Error).message}`, 'stderr');
    }
    this.emitCustom('lockstep.sessionInfo', sessionInfo(built, spec, this.stepBackDepth));
    this.out(startedLine(built, spec, first));
    this.sendEvent(new InitializedEvent());
    await Promise.race([this.configured, sleep(this.opts.configurationDoneTimeoutMs)]);
    this.sendResponse(response);
    if (this.rc.terminating) return;
    if (parsed.stopOnEntry) this.rc.stopAt('entry', { description: `Stopped on entry at frame ${first}` });
    else this.rc.run({ kind: 'continue' }, false);
  }

  /** Run control's events become DAP events: stopped, continued, output, and the waits and status it notices. */
  private wireRunControl(rc: RunControl): void {
    rc.events.on('running', ({ announce }) => {
      this.view?.reset();
      if (announce) this.sendEvent(new ContinuedEvent(THREAD_ID, true));
    });
    rc.events.on('stopped', (stop) => this.sendStopped(stop));
    rc.events.on('rewound', () => {
      this.lastRow = this.rowLeadingHere();
    });
    rc.events.on('output', ({ text, category }) => this.out(text, category));
    rc.ticker.events.on('waiting', ({ info, first }) => this.onWaiting(info, first));
    rc.ticker.events.on('released', (r) => this.emitCustom('lockstep.released', r));
    rc.ticker.events.on('status', () => this.emitCustom('lockstep.status', this.status()));
  }

  private wireRuntime(built: BuiltSession): void {
    const rt = built.runtime;
    this.unsubscribe.push(
      rt.events.on('frame', ({ row }) => {
        this.lastRow = row;
        this.rowHistory.add(row);
      }),
      rt.events.on('desync', (ev) => this.onDesync(ev)),
      rt.events.on('episodeEnd', (end) => this.onEpisodeEnd(end)),
      rt.events.on('log', (e) => this.log(e.level, e.message)),
      built.emulator.onEvent((e) => {
        if (e.type === 'log') this.log(e.level, e.message);
        else if (e.type === 'exit' && !this.rc.terminating) {
          this.out(`${built.emulator.kind} emulator exited: ${e.reason}`, 'stderr');
          void this.endSession();
        }
      }),
    );
  }

  private announceConnections(built: BuiltSession, kind: RequestKind): void {
    const bridge = built.bridge;
    if (!bridge) return;
    if (kind === 'attach') {
      let luaPath: string | null = null;
      try {
        luaPath = lockstepLuaPath();
      } catch {
        luaPath = null;
      }
      this.emitCustom('lockstep.attachWaiting', { port: bridge.port, token: bridge.token, luaPath });
      this.progressUpdate(`Load lua/lockstep.lua in FCEUX with port ${bridge.port}, token ${bridge.token}`);
    }
    if (this.spec?.agents.some((a) => a?.type === 'websocket')) {
      const where = `ws://127.0.0.1:${bridge.port}/agent (token ${bridge.token})`;
      this.out(`Waiting for the trainer to connect: ${where}`);
      this.progressUpdate(`Waiting for the trainer: ${where}`);
    }
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    void this.shutdownRun().then(() => {
      this.sendResponse(response);
      this.sendEvent(new TerminatedEvent());
    });
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    void this.shutdownRun().then(() => {
      this.sendResponse(response);
      this.shutdown();
    });
  }

  /** Ends the run for good: stops the loop, closes emulator, agents and bridge (no FCEUX left behind), prints the summary. */
  shutdownRun(): Promise<void> {
    this.closing ??= (async () => {
      this.markConfigured();
      this.startAbort.abort();
      const rt = this.built?.runtime;
      await this.rc.halt();
      if (this.built && rt) this.printSummary(rt);
      for (const off of this.unsubscribe.splice(0)) off();
      if (this.built) await Promise.race([this.built.close(), sleep(5000)]).catch((e: Error) => this.out(`while closing: ${e.message}`, 'stderr'));
      this.rc.terminated();
      this.sheet?.store.dispose();
      this.progressEnd('ended');
    })();
    return this.closing;
  }

  private async endSession(): Promise<void> {
    await this.shutdownRun();
    this.sendEvent(new TerminatedEvent());
  }

  private printSummary(rt: LockstepRuntime): void {
    const { line, body } = summaryReport(rt, this.rc, this.episodesEnded);
    this.out(line);
    this.emitCustom('lockstep.summary', body);
  }

  // ---- running and stopping ----

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    if (!this.canRun(response)) return;
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.rc.run({ kind: 'continue' }, false);
  }

  protected override nextRequest(response: DebugProtocol.NextResponse): void {
    if (!this.canRun(response)) return;
    this.sendResponse(response);
    this.rc.run({ kind: 'frames', count: 1 }, false);
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.nextRequest(response);
  }

  /** Step out = run to the end of the episode (the next stop is the first frame of the next one). */
  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    if (!this.canRun(response)) return;
    this.sendResponse(response);
    this.rc.run({ kind: 'episode' }, false);
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.sendResponse(response);
    this.rc.pause();
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    if (!this.canRun(response, true)) return;
    void this.guard(response, async () => {
      const { to } = await this.rc.stepBack(1);
      this.sendResponse(response);
      this.afterJump();
      this.rc.stopAt('step', { description: `Stepped back to frame ${to}` });
    });
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    if (!this.canRun(response, true)) return;
    if (!this.built!.runtime.canStepBack) return this.fail(response, this.rc.noHistoryMessage());
    this.sendResponse(response);
    this.rc.reverse();
  }

  /** Whether a run-type request may start now; answers the request with an error if not. */
  private canRun(response: DebugProtocol.Response, backwards = false): boolean {
    const why = this.rc.cannotRun(backwards);
    if (why) this.fail(response, why);
    return why === undefined;
  }

  /** Rewrites the frame sheet before the stopped event goes out, so VS Code never opens the previous stop's page. */
  private writeSheet(stopReason: string): void {
    const rt = this.built?.runtime;
    const cur = rt?.current;
    if (!this.view || !rt || !cur) return;
    const title = `${basename(this.built!.romPath)} · frame ${cur.frame} (episode ${rt.episodeIndex}, step ${rt.stepIndex})`;
    const text = this.view.frameSheet(title, stopReason);
    const store = this.sheet?.store ?? this.opts.sheetStore(`${basename(this.built!.romPath)} · stopped frame.md`);
    try {
      this.sheet = { store, path: store.write(text), text };
    } catch (e) {
      this.out(`could not write the frame sheet: ${(e as Error).message}`, 'stderr');
    }
  }

  private sendStopped({ reason, ...extra }: StopInfo): void {
    this.view?.reset();
    this.writeSheet(extra.description ? `${reason} (${extra.description})` : reason);
    const ev = new StoppedEvent(reason, THREAD_ID, extra.text) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    if (extra.description) ev.body.description = extra.description;
    if (extra.hitBreakpointIds) ev.body.hitBreakpointIds = extra.hitBreakpointIds;
    this.sendEvent(ev);
  }

  /** After a jump that ran no frame (step back, RAM write): conditions start over from the new state. */
  private afterJump(): void {
    // The last row belongs to a frame that is no longer the past of the held one; the one that led here is kept.
    this.lastRow = this.rowLeadingHere();
    this.breakpoints?.rebase(this.scope());
    this.view?.reset();
  }

  /** The recorded row whose action led to the held frame, while it is still within step back's reach. */
  private rowLeadingHere(): FrameRow | undefined {
    const rt = this.built?.runtime;
    return rt ? this.rowHistory.leadingTo(rt.episodeIndex, rt.stepIndex) : undefined;
  }

  // ---- runtime events ----

  private onDesync(ev: DesyncEvent): void {
    if (!this.built || !this.breakpoints) return;
    const decision = this.rc.noteDesync(ev);
    this.emitCustom('lockstep.desync', desyncNotice(ev, decision.stops));
    for (const line of this.desyncLines.linesFor(ev)) this.out(line, 'stderr');
  }

  private onEpisodeEnd(end: EpisodeEnd): void {
    this.episodesEnded++;
    this.out(`episode ${end.episode} ended at frame ${end.terminationFrame} (${end.reason}): ${end.rows} rows, returns ${end.returns.join(' / ')}`);
    this.emitCustom('lockstep.episodeEnd', {
      episode: end.episode, rows: end.rows, reason: end.reason, startFrame: end.startFrame, terminationFrame: end.terminationFrame, returns: [...end.returns],
    });
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.out(level === 'info' ? message : `[${level}] ${message}`, level === 'info' ? 'console' : 'stderr');
  }

  // ---- waiting at the gate, status ----

  /** A wait at the gate lasted longer than a moment: said once per frame on the console, then a `lockstep.waiting` each second. */
  private onWaiting(info: WaitInfo, first: boolean): void {
    if (first) this.out(waitingLine(info, this.built!.agents.map((a) => a?.name)));
    this.emitCustom('lockstep.waiting', info);
  }

  private status(): LockstepStatus {
    return statusReport(this.built?.runtime, this.rc);
  }

  // ---- breakpoints ----

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    if (!this.breakpoints) return this.fail(response, 'The session has not started yet.');
    response.body = { breakpoints: this.breakpoints.setFunctionBreakpoints(args.breakpoints, this.built?.runtime.current ? this.scope() : undefined) };
    this.sendResponse(response);
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    response.body = {
      breakpoints: (args.breakpoints ?? []).map(() => ({
        verified: false,
        message: 'A ROM has no source lines: use a function breakpoint such as "frame == 1200" or "score_p1 >= 3", a data breakpoint on a RAM variable, or a desync breakpoint.',
      })),
    };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    if (!this.breakpoints) return this.fail(response, 'The session has not started yet.');
    response.body = { breakpoints: this.breakpoints.setExceptionFilters(args.filters ?? [], args.filterOptions ?? []) };
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    const target = this.built ? dataTargetFor(this.built.ramMap, args, (ref) => !!this.view?.isGameScope(ref)) : 'The session has not started yet.';
    if (typeof target === 'string') {
      response.body = { dataId: null, description: target };
    } else {
      response.body = {
        dataId: dataIdFor(target),
        description: `${target.label} (${hexAddress(target.address)}, ${target.length} byte${target.length === 1 ? '' : 's'}) changes`,
        accessTypes: ['write'],
        canPersist: true,
      };
    }
    this.sendResponse(response);
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    if (!this.breakpoints) return this.fail(response, 'The session has not started yet.');
    response.body = { breakpoints: this.breakpoints.setDataBreakpoints(args.breakpoints) };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const s = this.rc.lastStop;
    if (!s) return this.fail(response, 'The session did not stop on a desync.');
    if (s.kind === 'fault') {
      response.body = { exceptionId: 'fault', description: s.message, breakMode: 'always', details: { message: s.message, typeName: 'RuntimeFault' } };
      return this.sendResponse(response);
    }
    response.body = desyncExceptionInfo(s.event, s.conditionError);
    this.sendResponse(response);
  }

  // ---- threads, stack, variables ----

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const rom = this.built ? basename(this.built.romPath) : 'NES';
    response.body = { threads: [{ id: THREAD_ID, name: `NES: ${rom}` }] };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse): void {
    const rt = this.built?.runtime;
    const cur = rt?.current;
    if (!rt || !cur) {
      response.body = { stackFrames: [], totalFrames: 0 };
      return this.sendResponse(response);
    }
    // VS Code focuses (and fills the Variables view for) only a frame with a source it can open, and opens it on every
    // stop. A ROM has no source lines: the source is the frame sheet, the stopped frame as a text page (stopAt writes it).
    const name = `frame ${cur.frame} (episode ${rt.episodeIndex}, step ${rt.stepIndex})`;
    const frame: DebugProtocol.StackFrame = {
      id: FRAME_ID,
      name,
      ...(this.sheet ? { source: { name: basename(this.sheet.path), path: this.sheet.path, origin: 'Lockstep frame sheet (rewritten at every stop)' } } : {}),
      line: 1,
      column: 0,
      presentationHint: 'normal',
    };
    response.body = { stackFrames: [frame], totalFrames: 1 };
    this.sendResponse(response);
  }

  protected override sourceRequest(response: DebugProtocol.SourceResponse): void {
    // Clients that ask rather than read the path get the same page.
    if (!this.sheet) return this.fail(response, 'A ROM has no source lines: see the Variables view and the memory view.');
    response.body = { content: this.sheet.text, mimeType: 'text/markdown' };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse): void {
    void this.guard(response, async () => {
      const view = this.view;
      let detail: MachineDetail | undefined;
      // Registers and PRG-RAM cost the emulator a request: only while stopped, once per stop, and never per frame.
      if (view && this.rc.state === 'stopped') {
        try {
          detail = await view.machineDetail();
        } catch (e) {
          this.out(`CPU registers unavailable: ${(e as Error).message}`, 'stderr');
        }
      }
      response.body = { scopes: view ? view.scopes(detail) : [] };
      this.sendResponse(response);
    });
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    try {
      response.body = { variables: this.view ? this.view.variables(args.variablesReference, args.start, args.count) : [] };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    void this.guard(response, async () => {
      if (!this.view?.isGameScope(args.variablesReference)) throw new Error('Only RAM-map variables (the Game scope) can be changed.');
      const v = this.built!.ramMap.variables.find((x) => x.name === args.name);
      if (!v) throw new Error(`"${args.name}" is not a RAM-map variable`);
      const value = this.evaluator!.number(args.value);
      await this.writeVariable(v, value);
      const shown = this.view.describeRamVariable(v, this.built!.runtime.current!);
      response.body = { value: shown.value, type: shown.type, memoryReference: shown.memoryReference };
      this.sendResponse(response);
    });
  }

  private async writeVariable(v: RamVariable, value: number): Promise<void> {
    await this.writeRam(v.address, encodeRamVariable(v, value));
  }

  private async writeRam(address: number, bytes: Uint8Array): Promise<void> {
    if (this.rc.state !== 'stopped') throw new Error('Pause first: RAM can only be changed while the session is stopped.');
    await this.built!.runtime.writeRam(address, bytes);
    // Variable references stay valid (the views read live values); only conditions start over from the new RAM.
    this.breakpoints?.rebase(this.scope());
    if (this.client.supportsMemoryEvent !== false) this.sendEvent(new MemoryEvent(RAM_MEMORY_REFERENCE, address, bytes.length));
    if (this.client.supportsInvalidatedEvent) this.sendEvent(new InvalidatedEvent(['variables']));
  }

  // ---- memory ----

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    const region = parseRegionReference(args.memoryReference);
    if (region) return this.readRegion(response, args, region.region, region.address);
    const base = parseMemoryReference(args.memoryReference);
    const cur = this.built?.runtime.current;
    if (base === undefined || !cur) return this.fail(response, `unknown memory reference "${args.memoryReference}" (Lockstep exposes "${RAM_MEMORY_REFERENCE}", the 2 KB work RAM, "prgram" ($6000-$7FFF), "nametables", "palette" and "oam")`);
    response.body = readRamWindow(cur.ram, base + (args.offset ?? 0), args.count);
    this.sendResponse(response);
  }

  /** PRG-RAM, nametables, palette or OAM: read from the emulator on demand (once per stop), not from the frame. */
  private readRegion(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments, region: DetailRegion, base: number): void {
    void this.guard(response, async () => {
      const detail = this.view?.machineDetail();
      if (!detail) throw new Error(`this emulator cannot read "${args.memoryReference}"`);
      const all = region.bytes(await detail);
      if (!all) throw new Error(region.missing ?? `this emulator cannot read "${args.memoryReference}"`);
      const bytes = all.subarray(0, region.size);
      response.body = readMemoryWindow(bytes, region.start, base + (args.offset ?? 0), args.count);
      this.sendResponse(response);
    });
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    void this.guard(response, async () => {
      const base = parseMemoryReference(args.memoryReference);
      const region = parseRegionReference(args.memoryReference);
      if (region) throw new Error(`"${args.memoryReference}" (${region.region.label}) is read-only in Lockstep: only work RAM ("${RAM_MEMORY_REFERENCE}") can be written`);
      if (base === undefined) throw new Error(`unknown memory reference "${args.memoryReference}"`);
      const start = base + (args.offset ?? 0);
      const bytes = ramWriteBytes(start, Buffer.from(args.data, 'base64'), !!args.allowPartial);
      await this.writeRam(start, bytes);
      response.body = { offset: args.offset ?? 0, bytesWritten: bytes.length };
      this.sendResponse(response);
    });
  }

  // ---- evaluate (Debug Console, watch) ----

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    const base = this.client.columnsStartAt1 === false ? 0 : 1;
    const names = this.built?.ramMap.variables.map((v) => v.name) ?? [];
    // VS Code places an item by its length alone and reads `start` as a 0-based index into the text to build the filter
    // text (microsoft/vscode#101623): a spec-true 1-based start filters every item out ("No suggestions"). It gets none.
    const vscode = this.client.clientID === 'vscode';
    const targets = consoleCompletions(args.text, args.column - base, names).map(({ start, ...t }) => (vscode ? t : { ...t, start: (start ?? 0) + base }));
    response.body = { targets };
    this.sendResponse(response);
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    void this.guard(response, async () => {
      if (!this.built || !this.view) throw new Error('The session has not started yet.');
      const cmd = args.context === 'repl' ? parseConsoleCommand(args.expression) : { kind: 'expression' as const, text: args.expression };
      const reply = (result: string, extra: Partial<DebugProtocol.EvaluateResponse['body']> = {}) => {
        response.body = { result, variablesReference: 0, ...extra };
        this.sendResponse(response);
      };
      switch (cmd.kind) {
        case 'help':
          return reply(consoleHelp(this.built.ramMap.variables.map((v) => v.name)));
        case 'status': {
          return reply(statusLine(this.status()));
        }
        case 'press': {
          const r = this.sendAction(cmd.buttons, cmd.player);
          return reply(describeSendAction(r, this.rc.state));
        }
        case 'frames':
          if (!this.canRun(response)) return;
          reply(`running ${cmd.count} frame(s)`);
          return this.rc.run({ kind: 'frames', count: cmd.count, fromConsole: true }, true);
        case 'back': {
          if (!this.canRun(response, true)) return;
          const { from, to } = await this.rc.stepBack(cmd.count);
          reply(`stepped back from frame ${from} to frame ${to}`);
          this.afterJump();
          return this.rc.stopAt('step', { description: `Stepped back to frame ${to}` });
        }
        case 'gate':
          this.built.runtime.gateMode = gateModeFor(cmd.onTimeout);
          this.rc.ticker.sendStatus();
          return reply(`on timeout: ${cmd.onTimeout} (${ON_TIMEOUT_MEANING[cmd.onTimeout]})`);
        case 'wait':
          this.setPauseUntilAction(cmd.enabled);
          return reply(`pause-until-action ${cmd.enabled ? 'on' : 'off'}`);
        case 'expression':
          return reply(...this.evaluator!.evaluate(cmd.text));
        default: {
          const _never: never = cmd;
          throw new Error(`unhandled console command ${JSON.stringify(_never)}`);
        }
      }
    });
  }

  // ---- custom requests ----

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    let req: CustomRequest;
    try {
      req = parseCustomRequest(command, args);
    } catch (e) {
      return this.fail(response, (e as Error).message);
    }
    void this.guard(response, async () => {
      switch (req.command) {
        case 'lockstep.stepFrames': {
          if (!this.canRun(response)) return;
          this.respond(response, 'lockstep.stepFrames', { from: this.built!.runtime.current!.frame });
          return this.rc.run({ kind: 'frames', count: req.args.count }, true);
        }
        case 'lockstep.sendAction': {
          const b = req.args.buttons;
          const mask = typeof b === 'number' ? b : namesToMask(b);
          return this.respond(response, 'lockstep.sendAction', this.sendAction(mask, req.args.player));
        }
        case 'lockstep.setGateMode':
          this.requireBuilt().runtime.gateMode = req.args.mode;
          this.rc.ticker.sendStatus();
          return this.respond(response, 'lockstep.setGateMode', { mode: req.args.mode });
        case 'lockstep.setPauseUntilAction':
          this.setPauseUntilAction(req.args.enabled);
          return this.respond(response, 'lockstep.setPauseUntilAction', { enabled: req.args.enabled });
        case 'lockstep.getStatus':
          return this.respond(response, 'lockstep.getStatus', this.status());
        case 'lockstep.showScreens':
          return this.respond(response, 'lockstep.showScreens', { capturing: await this.showScreens(req.args.shown) });
        case 'lockstep.travel': {
          if (!this.canRun(response, true)) return;
          const to = await this.rc.travel(req.args.tick);
          this.respond(response, 'lockstep.travel', { tick: req.args.tick, frame: to.to, episode: to.episode, step: to.step });
          this.afterJump();
          return this.rc.stopAt('goto', { description: `Travelled to frame ${to.to} (episode ${to.episode}, step ${to.step})` });
        }
        default: {
          const _never: never = req;
          throw new Error(`unhandled request ${JSON.stringify(_never)}`);
        }
      }
    });
  }

  /** Capture follows the panels from the next frame; a held frame (stopped, or starting) gets its screen at once. */
  private async showScreens(shown: boolean): Promise<boolean> {
    this.screensShown = shown;
    const rt = this.built?.runtime;
    if (!rt || this.rc.state === 'terminated') return false;
    const capturing = rt.setScreensShown(shown);
    // While running, the next frame brings its screen; otherwise no one else is talking to the emulator (and before
    // the runtime holds its first frame, refreshScreen does nothing: start() fetches the screen itself).
    if (capturing && this.rc.state !== 'running') await rt.refreshScreen();
    return capturing;
  }

  private respond<K extends keyof CustomRequests>(response: DebugProtocol.Response, _command: K, body: CustomRequests[K]['body']): void {
    response.body = body;
    this.sendResponse(response);
  }

  private requireBuilt(): BuiltSession {
    const state = this.rc.state;
    if (!this.built || state === 'starting' || state === 'idle') throw new Error('The session has not started yet.');
    if (state === 'terminated') throw new Error('The session has ended.');
    return this.built;
  }

  private sendAction(buttons: number, player: 0 | 1 | undefined): SendActionResult {
    this.requireBuilt();
    const r = this.rc.supplyAction(buttons, player);
    this.view?.reset();
    return { frame: r.frame, buttons, buttonNames: maskToNames(buttons), applied: r.applied, players: r.players };
  }

  private setPauseUntilAction(enabled: boolean): void {
    this.rc.setPauseUntilAction(enabled);
  }

  protected override cancelRequest(response: DebugProtocol.CancelResponse, args: DebugProtocol.CancelArguments): void {
    if (args.progressId === START_PROGRESS_ID && this.rc.state === 'starting') {
      this.out('Start cancelled.');
      this.startAbort.abort();
      void this.endSession();
    }
    this.sendResponse(response);
  }

  // ---- helpers ----

  /** Expressions see the held frame, or `at`: a recorded frame of the session history (reverse continue searching it). */
  private scope(event?: DesyncEvent, at?: CheckedState): StateScope {
    const rt = this.built!.runtime;
    const cur = rt.current!;
    return new StateScope(this.built!.ramMap, at ?? { frame: cur.frame, episode: rt.episodeIndex, step: rt.stepIndex, ram: cur.ram, prgRam: cur.prgRam }, event);
  }

  private emitCustom<K extends keyof CustomEvents>(name: K, body: CustomEvents[K]): void {
    this.sendEvent(new Event(name, body));
  }

  private out(text: string, category: 'console' | 'stderr' | 'important' = 'console'): void {
    this.sendEvent(new OutputEvent(text.endsWith('\n') ? text : text + '\n', category));
  }

  private progressStart(title: string, message: string): void {
    if (this.client.supportsProgressReporting) {
      const ev = new ProgressStartEvent(START_PROGRESS_ID, title, message) as DebugProtocol.ProgressStartEvent;
      ev.body.cancellable = true;
      this.sendEvent(ev);
    }
    this.out(`${title}: ${message}...`);
  }

  private progressUpdate(message: string): void {
    if (this.client.supportsProgressReporting && this.rc.state === 'starting') this.sendEvent(new ProgressUpdateEvent(START_PROGRESS_ID, message));
  }

  private progressEnd(message: string): void {
    if (this.client.supportsProgressReporting && (this.rc.state === 'starting' || message === 'ended')) {
      this.sendEvent(new ProgressEndEvent(START_PROGRESS_ID, message));
    }
  }

  /** Runs an async handler; any error becomes an error response naming the problem. */
  private async guard(response: DebugProtocol.Response, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.fail(response, (e as Error).message);
    }
  }

  private fail(response: DebugProtocol.Response, message: string): void {
    response.success = false;
    response.message = message;
    // The message goes in a variable so braces in it are never read as format placeholders.
    // A mistyped Debug Console line is answered in the console itself; a notification on top would be noise.
    response.body = { error: { id: 1, format: '{message}', variables: { message }, showUser: response.command !== 'evaluate' } };
    this.sendResponse(response);
  }
}

