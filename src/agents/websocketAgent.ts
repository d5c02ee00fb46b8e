// The external-trainer agent: a trainer process connects to the bridge over WebSocket and drives one controller.
import type { AgentAction, AgentEpisodeEnd, AgentPort, GivenInput, Observation } from '../core/ports';
import type { BridgeLink, BridgeServer } from '../bridge/bridgeServer';
import { AgentLinkRouter, type RoutedAgent, type RouterLog } from './agentLinkRouter';
import { BUTTON_NAMES, isButtonMask, namesToMask } from '../core/buttons';
import type { ClockPingable, ClockSample } from '../core/sync/clockSyncScheduler';
import { CLOSE, MAX_REPEAT, PROTOCOL_VERSION, type AgentStateMsg, type AgentToBridge, type AgentWelcomeMsg, type BridgeToAgent, type PongMsg, type ScreenRequest } from '../bridge/protocol';
import { inertText, parseAgentToBridge, preview } from '../bridge/protocolCodec';
import { LogThrottle } from '../core/sync/logThrottle';
import { decodeScreenFrame, downsample, encodeScreenFrame } from '../bridge/screenFrame';
import { NES_HEIGHT, NES_WIDTH } from '../core/nes';

export interface WebSocketAgentOptions {
  bridge: BridgeServer;
  /** Several agents on one bridge must share one router (the bridge has one 'agent' handler); made when omitted. */
  router?: AgentLinkRouter;
  player: 0 | 1;
  session: string;
  rom: string;
  /** RAM-map variable names in observation order (sent in the welcome). */
  vars: string[];
  /** [min, max] each variable can hold (from its size and sign), in `vars` order; sent in the welcome for observation bounds. */
  varRanges?: Array<[number, number]>;
  maxSteps: number | null;
  /** How long start() waits for a trainer; default Infinity (wait until one connects or the signal aborts). */
  connectTimeoutMs?: number;
  /** The trainer said its episode is over at `frame`; the runtime fixes the synced termination frame. */
  onTerminate?: (frame: number) => void;
  log?: RouterLog;
  /** Wall clock in ms (pong t1, heartbeat timestamps, RTT). */
  now?: () => number;
}

const SCREEN_FACTORS = [1, 2, 4, 8];
/** Unsolicited actions kept for the next act(); a trainer running ahead shows up as frame mismatches, not silence. */
const MAX_QUEUED_ACTIONS = 8;

/** A declared action repeat in progress: the frames the bridge still answers itself, and what they add up to. */
interface Repeat {
  buttons: number;
  /** The frame the next auto-answer is for. */
  next: number;
  left: number;
  /** Frames run on this action so far, and the rewards they earned (sent with the state after the last). */
  frames: number;
  reward: number;
}

interface Pending {
  obs: Observation;
  waiters: Array<{ resolve: (a: AgentAction) => void; reject: (e: Error) => void }>;
}

/** Validates a hello's screen request; null = no screens. */
export function parseScreenRequest(value: unknown): { ok: true; screen: ScreenRequest | null } | { ok: false; error: string } {
  if (value === undefined || value === null || value === false) return { ok: true, screen: null };
  // preview, not JSON.stringify: the hello is untrusted and may nest deeper than JSON.stringify's stack allows.
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: `hello.screen must be an object {format, downsample} or null, got ${preview(value)}` };
  const o = value as Record<string, unknown>;
  const format = o.format ?? 'rgba';
  if (format !== 'rgba' && format !== 'gray') return { ok: false, error: `hello.screen.format must be "rgba" or "gray", got ${preview(o.format)}` };
  const factor = o.downsample ?? 1;
  if (typeof factor !== 'number' || !SCREEN_FACTORS.includes(factor)) {
    return { ok: false, error: `hello.screen.downsample must be one of ${SCREEN_FACTORS.join(', ')}, got ${preview(o.downsample)}` };
  }
  return { ok: true, screen: { format, downsample: factor } };
}

/** Validates a hello's declared action repeat; absent = 1 (every frame answered by the trainer). */
export function parseFrameskip(value: unknown): { ok: true; frameskip: number } | { ok: false; error: string } {
  if (value === undefined || value === null) return { ok: true, frameskip: 1 };
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_REPEAT) {
    return { ok: false, error: `hello.frameskip must be an integer 1..${MAX_REPEAT}, got ${preview(value)}` };
  }
  return { ok: true, frameskip: value };
}

export class WebSocketAgent implements AgentPort, RoutedAgent, ClockPingable {
  readonly player: 0 | 1;
  /** Round trip of the last heartbeat or ping answered by the trainer, in ms. */
  lastRttMs: number | null = null;
  /** Trainer clock minus bridge clock (ms), from the last pong; null until a ping was answered. */
  clockOffsetMs: number | null = null;
  private readonly router: AgentLinkRouter;
  private readonly log: RouterLog;
  /** What a trainer can make us log as often as it likes (its error reports, stray actions) is capped per second. */
  private readonly noisy: LogThrottle;
  private readonly now: () => number;
  private link?: BridgeLink;
  private linkScreen: ScreenRequest | null = null;
  private linkFrameskip = 1;
  private repeat?: Repeat;
  private trainerName?: string;
  private unlisten: Array<() => void> = [];
  private pending?: Pending;
  private readonly queued: AgentAction[] = [];
  private readonly connectWaiters = new Set<(err?: Error) => void>();
  private readonly ackWaiters = new Map<number, (ok: boolean) => void>();
  private readonly pongWaiters = new Map<number, (pong: PongMsg | null) => void>();
  private seq = 0;
  /** Trainer links attached so far: a new one may be another process or machine, with a clock of its own. */
  private links = 0;
  private closed = false;
  private inputTap: ((input: GivenInput) => void) | undefined;

  constructor(private readonly options: WebSocketAgentOptions) {
    if (options.player !== 0 && options.player !== 1) throw new Error(`websocket agent: player must be 0 or 1, got ${JSON.stringify(options.player)}`);
    if (options.router && options.router.bridge !== options.bridge) throw new Error('websocket agent: the router belongs to a different bridge');
    this.player = options.player;
    this.log = options.log ?? (() => undefined);
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.noisy = new LogThrottle(this.log, { now: this.now });
    this.router = options.router ?? new AgentLinkRouter(options.bridge, this.log);
    this.router.register(this);
  }

  get name(): string {
    return `websocket(controller ${this.player + 1}${this.trainerName ? `, ${this.trainerName}` : ''})`;
  }

  /** True while the connected trainer asked for screens in its hello (a trainer connects before start() resolves). */
  get wantsScreen(): boolean {
    return this.link !== undefined && this.linkScreen !== null;
  }

  setInputTap(tap: ((input: GivenInput) => void) | undefined): void {
    this.inputTap = tap;
  }

  get connected(): boolean {
    return this.link !== undefined;
  }

  /** The screen format the connected trainer asked for, or null. */
  get screenRequest(): ScreenRequest | null {
    return this.link ? this.linkScreen : null;
  }

  /** Resolves once a trainer is connected and welcomed. */
  start(signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.name} is closed`));
    if (this.link) return Promise.resolve();
    const limit = this.options.connectTimeoutMs ?? Infinity;
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (err?: Error) => {
        this.connectWaiters.delete(onConnect);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onConnect = (err?: Error) => done(err);
      const onAbort = () => done(abortError(`${this.name}: stopped while waiting for a trainer to connect`));
      if (signal?.aborted) return onAbort();
      this.connectWaiters.add(onConnect);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(limit)) {
        timer = setTimeout(() => done(new Error(
          `no trainer connected to ${this.options.bridge.url('agent')} for controller ${this.player + 1} within ${limit} ms`)), limit);
      }
    });
  }

  /** Sends the observation and resolves with the trainer's answer, whatever frame id it carries; waits across reconnects. */
  act(obs: Observation, signal?: AbortSignal): Promise<AgentAction> {
    if (this.closed) return Promise.reject(new Error(`${this.name} is closed`));
    const rep = this.repeat;
    if (rep && (obs.frame !== rep.next || obs.episode !== this.repeatEpisode)) this.repeat = undefined;
    else if (rep && rep.left > 0) {
      // A declared repeat: answered here, no round trip; the row is marked so a dataset tells it from a trainer's choice.
      rep.left--;
      rep.next++;
      rep.frames++;
      rep.reward += obs.reward;
      return Promise.resolve({ frame: obs.frame, buttons: rep.buttons, info: { repeated: true } });
    }
    const early = this.queued.shift();
    if (early) return Promise.resolve(early);
    return new Promise<AgentAction>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(`${this.name}: stopped while waiting for an action`));
      // A newer observation supersedes an older unanswered one; both callers get the trainer's next answer.
      const waiters = this.pending?.waiters ?? [];
      const entry = { resolve, reject };
      waiters.push(entry);
      this.pending = { obs, waiters };
      signal?.addEventListener('abort', () => {
        const p = this.pending;
        if (!p) return;
        const i = p.waiters.indexOf(entry);
        if (i < 0) return;
        p.waiters.splice(i, 1);
        if (p.waiters.length === 0) this.pending = undefined;
        reject(abortError(`${this.name}: stopped while waiting for an action`));
      }, { once: true });
      if (this.link) this.sendState(this.link, obs);
      // The trainer left while the previous frame ran (it had answered it): this is the frame held for the next one.
      else if (waiters.length === 1) this.log('warn', `${this.name}: no trainer connected; holding frame ${obs.frame} until a trainer reconnects`);
    });
  }

  private repeatEpisode = -1;

  episodeEnd(end: AgentEpisodeEnd): void {
    const rep = this.repeat;
    this.repeat = undefined;
    const last = end.lastRewards?.[this.player];
    const reward = rep && last !== undefined ? rep.reward + last : last;
    const link = this.link;
    const f = end.final;
    // The state after the last frame, in the same shape as a state message; its screen follows as a binary frame.
    const screen = link && f?.screen && this.linkScreen ? this.screenFrame(f.frame, f.screen, this.linkScreen) : undefined;
    this.send({
      type: 'episode_end', episode: end.episode, terminationFrame: end.terminationFrame, rows: end.rows, reason: end.reason,
      ...(reward !== undefined ? { reward } : {}),
      ...(f ? { final: { frame: f.frame, timestamp: f.timestamp, vars: orderedVars(this.options.vars, f.vars), info: f.info, screen: screen !== undefined } } : {}),
      ...(rep ? { frames: rep.frames } : {}),
    });
    if (link && screen) link.sendBinary(screen);
  }

  /** Sends a heartbeat and resolves true when the trainer acknowledges it within timeoutMs; false without a trainer. */
  heartbeat(timeoutMs: number): Promise<boolean> {
    const link = this.link;
    if (!link || this.closed) return Promise.resolve(false);
    const seq = ++this.seq;
    const sent = this.now();
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.ackWaiters.delete(seq);
        if (ok) this.lastRttMs = this.now() - sent;
        resolve(ok);
      };
      this.ackWaiters.set(seq, finish);
      this.send({ type: 'heartbeat', seq, timestamp: sent });
    });
  }

  /** Clock-sync ping: resolves with the round trip in ms, or null when unanswered within timeoutMs. */
  async ping(timeoutMs: number): Promise<number | null> {
    const s = await this.clockPing(this.now, timeoutMs);
    return s ? s.t3 - s.t0 : null;
  }

  /** One NTP-style exchange stamped with `now`: t1 is the trainer's clock when it answered; null when unanswered in time. */
  clockPing(now: () => number, timeoutMs: number): Promise<ClockSample | null> {
    const link = this.link;
    if (!link || this.closed) return Promise.resolve(null);
    const id = ++this.seq;
    const t0 = now();
    return new Promise<ClockSample | null>((resolve) => {
      const timer = setTimeout(() => finish(null), Math.max(0, timeoutMs));
      const finish = (pong: PongMsg | null) => {
        const t3 = now();
        clearTimeout(timer);
        this.pongWaiters.delete(id);
        if (!pong) return resolve(null);
        const rtt = t3 - t0;
        this.lastRttMs = rtt;
        this.clockOffsetMs = pong.t1 - (t0 + rtt / 2);
        resolve({ t0, t1: pong.t1, t3 });
      };
      this.pongWaiters.set(id, finish);
      this.send({ type: 'ping', id, t0 });
    });
  }

  get clockLinkId(): number {
    return this.links;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const link = this.link;
    this.noisy.flush();
    if (link) {
      this.send({ type: 'quit', code: CLOSE.normal, reason: 'session ended' });
      this.detach();
      link.close(CLOSE.normal, 'session ended');
    }
    this.router.unregister(this);
    const err = new Error(`${this.name} closed`);
    for (const w of [...this.connectWaiters]) w(err);
    for (const w of this.pending?.waiters ?? []) w.reject(err);
    this.pending = undefined;
    for (const w of [...this.ackWaiters.values()]) w(false);
    for (const w of [...this.pongWaiters.values()]) w(null);
  }

  /** Called by the router with an authenticated link for this controller. */
  attach(link: BridgeLink): void {
    if (this.closed) {
      link.close(CLOSE.normal, 'session ended');
      return;
    }
    const screen = parseScreenRequest(link.hello.screen);
    if (!screen.ok) {
      this.refuse(link, CLOSE.malformed, screen.error);
      return;
    }
    const skip = parseFrameskip(link.hello.frameskip);
    if (!skip.ok) {
      this.refuse(link, CLOSE.malformed, skip.error);
      return;
    }
    const old = this.link;
    if (old) {
      this.log('warn', `${this.name}: a new trainer connection from ${link.remote} replaces ${old.remote}`);
      this.detach();
      old.close(CLOSE.replaced, `replaced by a new trainer connection for controller ${this.player + 1}`);
    }
    this.link = link;
    this.links++;
    this.linkScreen = screen.screen;
    this.linkFrameskip = skip.frameskip;
    this.trainerName = typeof link.hello.name === 'string' ? inertText(link.hello.name, 60) : undefined;
    // Answers from an earlier trainer must not answer the new one's observations.
    this.queued.length = 0;
    this.unlisten = [
      link.onMessage((data) => this.onData(link, data)),
      link.onClose((code, reason) => this.onLinkClosed(link, code, reason)),
    ];
    const welcome: AgentWelcomeMsg = {
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      session: this.options.session,
      player: this.player,
      rom: this.options.rom,
      vars: [...this.options.vars],
      ...(this.options.varRanges ? { varRanges: this.options.varRanges.map(([lo, hi]) => [lo, hi] as [number, number]) } : {}),
      maxSteps: this.options.maxSteps,
      buttons: [...BUTTON_NAMES],
      screen: screen.screen,
    };
    link.sendJson(welcome);
    this.log('info', `${this.name}: trainer connected from ${link.remote}`);
    for (const w of [...this.connectWaiters]) w();
    // Pause-until-action: the held observation goes to whoever connects.
    if (this.pending) this.sendState(link, this.pending.obs);
  }

  private refuse(link: BridgeLink, code: number, reason: string): void {
    this.log('warn', `${this.name}: closing trainer link ${link.remote}: ${reason}`);
    // Detach first: whatever else the bad link sends before the close completes is ignored.
    if (this.link === link) this.detach();
    link.sendJson({ type: 'error', code: 'malformed', message: reason });
    link.close(code, reason);
  }

  private detach(): void {
    for (const off of this.unlisten) off();
    this.unlisten = [];
    this.link = undefined;
    for (const w of [...this.ackWaiters.values()]) w(false);
    for (const w of [...this.pongWaiters.values()]) w(null);
  }

  private onLinkClosed(link: BridgeLink, code: number, reason: string): void {
    if (this.link !== link) return;
    this.detach();
    this.log(code === CLOSE.normal ? 'info' : 'warn',
      `${this.name}: trainer disconnected (${code}${reason ? ` ${reason}` : ''})${this.pending ? `; holding frame ${this.pending.obs.frame} until a trainer reconnects` : ''}`);
  }

  private send(msg: BridgeToAgent): void {
    this.link?.sendJson(msg);
  }

  private sendState(link: BridgeLink, obs: Observation): void {
    const frame = this.linkScreen && obs.screen ? this.screenFrame(obs.frame, obs.screen, this.linkScreen) : undefined;
    // The state after a declared repeat: its reward is the sum over the repeated frames.
    const rep = this.repeat && this.repeat.next === obs.frame && this.repeat.left === 0 ? this.repeat : undefined;
    const msg: AgentStateMsg = {
      type: 'state',
      frame: obs.frame,
      step: obs.step,
      episode: obs.episode,
      timestamp: obs.timestamp,
      vars: orderedVars(this.options.vars, obs.vars),
      reward: rep ? rep.reward + obs.reward : obs.reward,
      terminated: obs.terminated,
      truncated: obs.truncated,
      info: obs.info,
      screen: frame !== undefined,
      ...(rep ? { frames: rep.frames } : {}),
    };
    link.sendJson(msg);
    if (frame) link.sendBinary(frame);
    if (this.inputTap) this.inputTap(givenInput(msg, obs, frame, this.linkScreen));
  }

  /** The observation's screen in the trainer's format; undefined (state says screen: false) when it cannot be made. */
  private screenFrame(frame: number, rgba: Uint8Array, req: ScreenRequest): Uint8Array | undefined {
    try {
      const small = req.downsample === 1 && req.format === 'rgba'
        ? { width: NES_WIDTH, height: NES_HEIGHT, pixels: rgba }
        : downsample(rgba, NES_WIDTH, NES_HEIGHT, req.downsample, req.format);
      return encodeScreenFrame({ frame, width: small.width, height: small.height, format: req.format, pixels: small.pixels });
    } catch (e) {
      this.log('warn', `${this.name}: no screen for frame ${frame}: ${(e as Error).message}`);
      return undefined;
    }
  }

  private onData(link: BridgeLink, data: string | Uint8Array): void {
    if (this.link !== link) return;
    if (typeof data !== 'string') {
      this.refuse(link, CLOSE.malformed, `binary message of ${data.byteLength} bytes: a trainer sends JSON text messages only`);
      return;
    }
    const parsed = parseAgentToBridge(data);
    if (!parsed.ok) {
      this.refuse(link, CLOSE.malformed, `invalid message: ${parsed.error}`);
      return;
    }
    this.onMessage(link, parsed.msg);
  }

  private onMessage(link: BridgeLink, m: AgentToBridge): void {
    switch (m.type) {
      case 'action': {
        // The codec already turns names into a mask; converting here too keeps this correct if it ever passes names through.
        let buttons: number;
        try {
          buttons = typeof m.buttons === 'number' ? m.buttons : namesToMask(m.buttons);
        } catch (e) {
          return this.refuse(link, CLOSE.malformed, `action.buttons: ${(e as Error).message}`);
        }
        if (!isButtonMask(buttons)) return this.refuse(link, CLOSE.malformed, `action.buttons must be a mask 0..255, got ${JSON.stringify(m.buttons)}`);
        const repeat = m.repeat ?? this.linkFrameskip;
        // The repeat covers the frames after this one, for as long as they follow it in the same episode (see act()).
        this.repeat = repeat > 1 && this.pending?.obs.frame === m.frame
          ? { buttons, next: m.frame + 1, left: repeat - 1, frames: 1, reward: 0 }
          : undefined;
        if (this.repeat) this.repeatEpisode = this.pending!.obs.episode;
        this.deliver({ frame: m.frame, buttons, ...(m.info ? { info: m.info } : {}) });
        return;
      }
      case 'terminate':
        this.log('info', `${this.name}: trainer terminated its episode at frame ${m.frame}`);
        this.options.onTerminate?.(m.frame);
        return;
      case 'heartbeat':
        this.send({ type: 'heartbeat_ack', seq: m.seq, timestamp: this.now() });
        return;
      case 'heartbeat_ack':
        this.ackWaiters.get(m.seq)?.(true);
        return;
      case 'ping':
        this.send({ type: 'pong', id: m.id, t0: m.t0, t1: this.now() });
        return;
      case 'pong': {
        this.pongWaiters.get(m.id)?.(m);
        return;
      }
      case 'resync_request':
        // Only an unanswered observation is resent: resending an answered one would draw a second action for it.
        if (this.pending) this.sendState(link, this.pending.obs);
        else this.send({ type: 'error', code: 'nothing_to_resync', message: 'no observation is waiting for an action' });
        return;
      case 'quit':
        this.log('info', `${this.name}: trainer quit${m.reason ? ` (${inertText(m.reason, 200)})` : ''}`);
        this.detach();
        link.close(CLOSE.normal, 'trainer quit');
        return;
      case 'error':
        this.noisy.log(`${this.name}: trainer reported`, 'warn', `${this.name}: trainer reported ${inertText(m.code, 60)}: ${inertText(m.message, 200)}`);
        return;
      case 'hello':
        return this.refuse(link, CLOSE.malformed, 'unexpected hello: this link is already welcomed');
      default: {
        const _never: never = m;
        return this.refuse(link, CLOSE.malformed, `unknown message type ${JSON.stringify((_never as { type?: unknown }).type)}`);
      }
    }
  }

  private deliver(action: AgentAction): void {
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      for (const w of p.waiters) w.resolve(action);
      return;
    }
    this.queued.push(action);
    if (this.queued.length > MAX_QUEUED_ACTIONS) {
      const dropped = this.queued.shift()!;
      this.noisy.log(`${this.name}: unsolicited actions`, 'warn', `${this.name}: trainer sent actions nobody asked for; dropped the one for frame ${dropped.frame}`);
    }
  }
}

/** What the trainer got: the state message's fields and the pixels of the screen frame as encoded for its screen request. */
function givenInput(msg: AgentStateMsg, obs: Observation, frame: Uint8Array | undefined, req: ScreenRequest | null): GivenInput {
  const decoded = frame ? decodeScreenFrame(frame) : undefined;
  return {
    frame: msg.frame, episode: msg.episode, step: msg.step, via: 'WebSocket state message' + (frame ? ' + screen frame' : ''),
    vars: { ...msg.vars }, info: msg.info, reward: msg.reward,
    ...(decoded && req ? {
      screen: {
        width: decoded.width, height: decoded.height, channels: decoded.format === 'gray' ? 1 : 4, stack: [decoded.pixels.slice()], stackFrames: [decoded.frame],
        encoding: `${decoded.format}, downsample ${req.downsample}, as sent (the trainer stacks frames itself)`,
      },
    } : {}),
    ...(req && obs.screen && !frame ? { note: 'the trainer asked for screens but this one could not be encoded (see the log)' } : {}),
    ...(req && !obs.screen ? { note: 'the trainer asked for screens but this observation had none' } : {}),
  };
}

/** The trainer sees variables in the welcome's order, whatever order the RAM map produced them in. */
function orderedVars(order: readonly string[], vars: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of order) if (k in vars) out[k] = vars[k];
  for (const k of Object.keys(vars)) if (!(k in out)) out[k] = vars[k];
  return out;
}

function abortError(message: string): Error {
  const e = new Error(message);
  e.name = 'AbortError';
  return e;
}
