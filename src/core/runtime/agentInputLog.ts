// What each agent was given and answered per held frame, for a bounded window of frames: the agent's-eye view's record.
import type { AgentAction, AgentPort, GivenInput, Observation } from '../ports';
import type { DesyncEvent } from '../sync/desyncDetector';
import type { FrameRow } from './rows';

/** One agent's side of one frame. */
export interface AgentFrameView {
  player: 0 | 1;
  /** The observation the runtime built for the agent (every agent gets one, whatever its encoding). */
  observation: { vars: Record<string, number>; reward: number; terminated: boolean; truncated: boolean; info: Record<string, unknown>; screen: boolean };
  /** How many times the observation was given (more than 1: it was sent again, a resync). */
  sends: number;
  /** The agent's own encoding of the last send (absent when it has no input tap, or the tap was off then). */
  given?: GivenInput;
  /** Answers received to this frame's observation, in arrival order (the frame id is the agent's claim), with ms since the last send. */
  answers: Array<AgentAction & { afterMs: number }>;
  /** When the observation was last given (the log's clock, ms). */
  givenAt: number;
  /** What the frame ran with, from its row; absent until the frame ran. */
  applied?: { buttons: number; held: boolean; manual: boolean; latencyMs: number | null; info: Record<string, unknown> | null };
  desyncs: Array<{ type: string; message: string; recovery: string | null }>;
}

export interface FrameAgentViews {
  episode: number;
  step: number;
  frame: number;
  players: AgentFrameView[];
}

export interface AgentInputLogOptions {
  /** Frames kept (default 600, stepBackDepth's default). */
  frames?: number;
  /** Screen bytes kept at most (default 64 MiB); older frames go first. */
  screenBytes?: number;
}

const DEFAULT_FRAMES = 600;
const DEFAULT_SCREEN_BYTES = 64 * 1024 * 1024;
/** Round-trip notes kept before filing without waiting for the frame to run. */
const MAX_NOTED = 64;

/** The row info key of each controller's action info. */
const INFO_KEYS = ['p1', 'p2'] as const;

/** An observation given or answered, noted on the round trip and filed into the log when the log is next read or the frame ran. */
type Noted =
  | { kind: 'observed'; obs: Observation; vars: Readonly<Record<string, number>>; reward: number; terminated: boolean; truncated: boolean; screen: boolean; at: number }
  | { kind: 'answered'; obs: Observation; action: AgentAction; at: number };

type Applied = NonNullable<AgentFrameView['applied']>;
type Answer = AgentFrameView['answers'][number];

/**
 * Keyed by (episode, step, frame), so a held frame reached again by step back or travel finds what the agents were given
 * when it was live. A frame observed again after it ran (step back, then run on) starts a fresh record. The records
 * sit in a ring in the order they were made (the oldest leaves first), indexed by step: frame ids repeat across
 * episodes and steps rarely repeat within a window, so a lookup hashes one small integer and checks one record.
 *
 * What the runtime gives and gets on a frame's round trip (observed, answered) is only noted then, with its time and
 * the variables, and filed (the frame's record, the window's trim) when anything reads the log or the frame ran: the
 * agent's answer and the next step go out first.
 *
 * A record that leaves the window is reused for a later frame (its objects are refilled in place), so a run of any
 * length keeps the same few hundred records instead of making ones that outlive the garbage collector's young
 * generation and are collected from the old one: what `get` returns is the log's own and may later show another
 * frame; copy what you keep.
 */
export class AgentInputLog {
  /** The window's records, oldest first: `count` slots of the ring from `head`. */
  private readonly ring: Array<FrameAgentViews | undefined>;
  private head = 0;
  private count = 0;
  /** The records by step: one, or (when records share a step: other episodes, other frames) all of them. */
  private readonly byStep = new Map<number, FrameAgentViews | FrameAgentViews[]>();
  private readonly noted: Noted[] = [];
  private changes = 0;
  private readonly max: number;
  private readonly maxScreenBytes: number;
  private screenBytes = 0;
  private watchers = 0;
  private oldestDropped: { episode: number; step: number; frame: number } | null = null;
  /** Records, views and parts that left the window, for reuse. */
  private readonly spareFrames: FrameAgentViews[] = [];
  private readonly spareViews: AgentFrameView[] = [];
  private readonly spareApplied: Applied[] = [];
  private readonly spareAnswers: Answer[] = [];

  constructor(private readonly agents: ReadonlyArray<AgentPort | undefined>, options: AgentInputLogOptions = {}, private readonly now: () => number = () => performance.now()) {
    this.max = Math.max(1, options.frames ?? DEFAULT_FRAMES);
    this.ring = new Array<FrameAgentViews | undefined>(this.max).fill(undefined);
    this.maxScreenBytes = options.screenBytes ?? DEFAULT_SCREEN_BYTES;
  }

  /** Bumped on every change, so a viewer can tell whether to look again. */
  get version(): number {
    this.file();
    return this.changes;
  }

  /** The window size in frames. */
  get capacity(): number {
    return this.max;
  }

  /** The newest frame that left the window, or null while none has. */
  get lastDropped(): { episode: number; step: number; frame: number } | null {
    this.file();
    return this.oldestDropped;
  }

  /** The oldest frame still kept. */
  get oldest(): { episode: number; step: number; frame: number } | null {
    this.file();
    const first = this.count > 0 ? this.ring[this.head]! : undefined;
    return first ? { episode: first.episode, step: first.step, frame: first.frame } : null;
  }

  /**
   * Asks agents with an input tap to report their own encoding while someone watches (an open agent's-eye panel);
   * disposing the result stops it when the last watcher leaves. Without watchers only the runtime's side is kept.
   */
  watch(): () => void {
    if (this.watchers++ === 0) this.setTaps(true);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.watchers === 0) this.setTaps(false);
    };
  }

  get watched(): boolean {
    return this.watchers > 0;
  }

  get(episode: number, step: number, frame: number): FrameAgentViews | undefined {
    this.file();
    return this.find(episode, step, frame);
  }

  /**
   * The runtime gave this observation to the agent of obs.player, taken as it is now (an agent may change what it is
   * given). `vars`: the same variables in an object no agent is given and nobody changes (the runtime's own read of the
   * frame), kept instead of a copy of obs.vars.
   */
  observed(obs: Observation, vars?: Readonly<Record<string, number>>): void {
    this.note({ kind: 'observed', obs, vars: vars ?? { ...obs.vars }, reward: obs.reward, terminated: obs.terminated, truncated: obs.truncated, screen: obs.screen !== undefined, at: this.now() });
  }

  /** The agent answered the observation of `obs` with `action` (whatever frame id the action claims). */
  answered(obs: Observation, action: AgentAction): void {
    this.note({ kind: 'answered', obs, action, at: this.now() });
  }

  private note(n: Noted): void {
    this.noted.push(n);
    // Filed every frame when it ran; a run that notes without running frames (agents asked again and again) files here.
    if (this.noted.length > MAX_NOTED) this.file();
  }

  /** Files what was noted on the round trip, in the order it happened. */
  private file(): void {
    if (this.noted.length === 0) return;
    const noted = this.noted;
    for (let i = 0; i < noted.length; i++) {
      const n = noted[i];
      if (n.kind === 'observed') this.fileObserved(n);
      else this.fileAnswered(n.obs, n.action, n.at);
    }
    noted.length = 0;
  }

  private fileObserved(n: Extract<Noted, { kind: 'observed' }>): void {
    const obs = n.obs;
    const f = this.frameFor(obs.episode, obs.step, obs.frame);
    let v = viewOf(f, obs.player);
    if (v?.applied) {
      // The frame ran before and is being run again (after a step back): a new attempt, not a resend.
      f.players.splice(f.players.indexOf(v), 1);
      this.spare(v);
      v = undefined;
    }
    if (!v) {
      v = this.newView(obs.player);
      f.players.push(v);
      if (f.players.length > 1) f.players.sort((a, b) => a.player - b.player);
    }
    const o = v.observation;
    o.vars = refill(o.vars, n.vars);
    o.reward = n.reward;
    o.terminated = n.terminated;
    o.truncated = n.truncated;
    o.info = refill(o.info, obs.info);
    o.screen = n.screen;
    v.givenAt = n.at;
    v.sends++;
    this.changes++;
  }

  /** A view for a frame's agent: one that left the window, emptied, or a new one. */
  private newView(player: 0 | 1): AgentFrameView {
    const v = this.spareViews.pop();
    if (!v) {
      return { player, observation: { vars: {}, reward: 0, terminated: false, truncated: false, info: {}, screen: false }, sends: 0, given: undefined, answers: [], givenAt: 0, applied: undefined, desyncs: [] };
    }
    v.player = player;
    v.sends = 0;
    v.givenAt = 0;
    return v;
  }

  /** Keeps a view that left the log (and its parts) for reuse. */
  private spare(v: AgentFrameView): void {
    this.dropGiven(v);
    if (v.applied) this.spareApplied.push(v.applied);
    v.applied = undefined;
    const answers = v.answers;
    while (answers.length > 0) {
      const a = answers.pop()!;
      if (!('info' in a)) this.spareAnswers.push(a);
    }
    while (v.desyncs.length > 0) v.desyncs.pop();
    this.spareViews.push(v);
  }

  private fileAnswered(obs: Observation, action: AgentAction, at: number): void {
    const f = this.find(obs.episode, obs.step, obs.frame);
    const v = f && viewOf(f, obs.player);
    if (!v) return;
    const afterMs = at - v.givenAt;
    let a: Answer | undefined;
    if (action.info) a = { frame: action.frame, buttons: action.buttons, info: action.info, afterMs };
    else if ((a = this.spareAnswers.pop())) {
      a.frame = action.frame;
      a.buttons = action.buttons;
      a.afterMs = afterMs;
    } else a = { frame: action.frame, buttons: action.buttons, afterMs };
    v.answers.push(a);
    this.changes++;
  }

  /** The frame ran: what each controller got. */
  ran(row: FrameRow): void {
    this.file();
    const f = this.find(row.episode, row.step, row.frame);
    if (!f) return;
    for (const v of f.players) {
      const p = v.player;
      const info = row.info[INFO_KEYS[p]];
      const a = v.applied ?? this.spareApplied.pop() ?? { buttons: 0, held: false, manual: false, latencyMs: null, info: null };
      a.buttons = row.buttons[p];
      a.held = row.held[p];
      a.manual = row.manual[p];
      a.latencyMs = row.agentLatencyMs[p];
      a.info = info && typeof info === 'object' ? info as Record<string, unknown> : null;
      v.applied = a;
    }
    this.changes++;
  }

  /**
   * A desync on the held frame: kept with the agent it concerns (every agent of the frame when it names none). Found by
   * episode and frame id, newest first: an agent behind a link may already have been given the next frame.
   */
  desync(ev: DesyncEvent, episode: number): void {
    this.file();
    let f: FrameAgentViews | undefined;
    for (let i = 0; i < this.count; i++) {
      const x = this.ring[(this.head + i) % this.max]!;
      if (x.episode === episode && x.frame === ev.frame) f = x;
    }
    if (!f) return;
    for (const v of f.players) {
      if (ev.player !== null && ev.player !== v.player) continue;
      v.desyncs.push({ type: ev.type, message: ev.message, recovery: ev.recovery ?? null });
    }
    this.changes++;
  }

  private setTaps(on: boolean): void {
    this.agents.forEach((a, i) => {
      if (!a?.setInputTap) return;
      a.setInputTap(on ? (input) => this.given(i as 0 | 1, input) : undefined);
    });
  }

  private given(player: 0 | 1, input: GivenInput): void {
    this.file();
    const f = this.find(input.episode, input.step, input.frame);
    const v = f && viewOf(f, player);
    if (!v) return;
    this.dropGiven(v);
    v.given = input;
    this.screenBytes += screenSize(input);
    this.changes++;
    this.trim();
  }

  private dropGiven(v: AgentFrameView): void {
    if (v.given) this.screenBytes -= screenSize(v.given);
    v.given = undefined;
  }

  /** The record of (episode, step, frame), if the window holds it. */
  private find(episode: number, step: number, frame: number): FrameAgentViews | undefined {
    const at = this.byStep.get(step);
    if (at === undefined) return undefined;
    if (!Array.isArray(at)) return at.episode === episode && at.frame === frame ? at : undefined;
    for (const f of at) if (f.episode === episode && f.frame === frame) return f;
    return undefined;
  }

  private frameFor(episode: number, step: number, frame: number): FrameAgentViews {
    let f = this.find(episode, step, frame);
    if (!f) {
      // Room first, so the record that leaves is the one refilled.
      this.trim(1);
      f = this.spareFrames.pop();
      if (f) {
        f.episode = episode;
        f.step = step;
        f.frame = frame;
      } else f = { episode, step, frame, players: [] };
      this.ring[(this.head + this.count) % this.max] = f;
      this.count++;
      const at = this.byStep.get(step);
      if (at === undefined) this.byStep.set(step, f);
      else if (Array.isArray(at)) at.push(f);
      else this.byStep.set(step, [at, f]);
    }
    return f;
  }

  /** Drops the oldest frames until the window has `room` frames free and the screens fit their budget. */
  private trim(room = 0): void {
    while (this.count > 0 && (this.count + room > this.max || (this.screenBytes > this.maxScreenBytes && this.count > 1))) {
      const f = this.ring[this.head]!;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.max;
      this.count--;
      const at = this.byStep.get(f.step);
      if (at === f) this.byStep.delete(f.step);
      else if (Array.isArray(at)) {
        at.splice(at.indexOf(f), 1);
        if (at.length === 1) this.byStep.set(f.step, at[0]);
      }
      while (f.players.length > 0) this.spare(f.players.pop()!);
      this.spareFrames.push(f);
      this.oldestDropped = { episode: f.episode, step: f.step, frame: f.frame };
    }
  }
}

/** The view of `player` in a frame's record. */
function viewOf(f: FrameAgentViews, player: number): AgentFrameView | undefined {
  const players = f.players;
  for (let i = 0; i < players.length; i++) if (players[i].player === player) return players[i];
  return undefined;
}

/**
 * `from`'s entries written into `into` when both have the same own keys (the common case: a RAM map's variables, the
 * runtime's observation info), else a copy of `from`.
 */
function refill<T>(into: Record<string, T>, from: Readonly<Record<string, T>>): Record<string, T> {
  for (const k in into) if (!Object.hasOwn(from, k)) return { ...from };
  for (const k in from) if (!Object.hasOwn(into, k)) return { ...from };
  for (const k in from) into[k] = from[k];
  return into;
}

function screenSize(g: GivenInput): number {
  return g.screen ? g.screen.stack.reduce((n, s) => n + s.byteLength, 0) : 0;
}
