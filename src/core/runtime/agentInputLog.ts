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

function keyOf(episode: number, step: number, frame: number): string {
  return `${episode}:${step}:${frame}`;
}

/** An observation given or answered, noted on the round trip and filed into the log when the log is next read or the frame ran. */
type Noted =
  | { kind: 'observed'; obs: Observation; observation: AgentFrameView['observation']; at: number }
  | { kind: 'answered'; obs: Observation; action: AgentAction; at: number };

/**
 * Keyed by (episode, step, frame), so a held frame reached again by step back or travel finds what the agents were given
 * when it was live. A frame observed again after it ran (step back, then run on) starts a fresh record.
 *
 * What the runtime gives and gets on a frame's round trip (observed, answered) is only noted then, with its time and
 * a copy of the variables, and filed (the frame's record, the window's trim) when anything reads the log or the frame
 * ran: the agent's answer and the next step go out first.
 */
export class AgentInputLog {
  private readonly frames = new Map<string, FrameAgentViews>();
  private readonly noted: Noted[] = [];
  private changes = 0;
  private readonly max: number;
  private readonly maxScreenBytes: number;
  private screenBytes = 0;
  private watchers = 0;
  private oldestDropped: { episode: number; step: number; frame: number } | null = null;

  constructor(private readonly agents: ReadonlyArray<AgentPort | undefined>, options: AgentInputLogOptions = {}, private readonly now: () => number = () => performance.now()) {
    this.max = Math.max(1, options.frames ?? DEFAULT_FRAMES);
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
    const first = this.frames.values().next();
    return first.done ? null : { episode: first.value.episode, step: first.value.step, frame: first.value.frame };
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
    return this.frames.get(keyOf(episode, step, frame));
  }

  /** The runtime gave this observation to the agent of obs.player (taken as it is now: an agent may change what it is given). */
  observed(obs: Observation): void {
    const observation = { vars: { ...obs.vars }, reward: obs.reward, terminated: obs.terminated, truncated: obs.truncated, info: obs.info, screen: obs.screen !== undefined };
    this.note({ kind: 'observed', obs, observation, at: this.now() });
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
    for (const n of this.noted.splice(0)) {
      if (n.kind === 'observed') this.fileObserved(n.obs, n.observation, n.at);
      else this.fileAnswered(n.obs, n.action, n.at);
    }
  }

  private fileObserved(obs: Observation, observation: AgentFrameView['observation'], at: number): void {
    const f = this.frameFor(obs.episode, obs.step, obs.frame);
    let v = f.players.find((p) => p.player === obs.player);
    if (v?.applied) {
      // The frame ran before and is being run again (after a step back): a new attempt, not a resend.
      this.dropGiven(v);
      f.players.splice(f.players.indexOf(v), 1);
      v = undefined;
    }
    if (!v) {
      v = { player: obs.player, observation, sends: 0, answers: [], desyncs: [], givenAt: 0 };
      f.players.push(v);
      f.players.sort((a, b) => a.player - b.player);
    }
    v.observation = observation;
    v.givenAt = at;
    v.sends++;
    this.changes++;
  }

  private fileAnswered(obs: Observation, action: AgentAction, at: number): void {
    const v = this.frames.get(keyOf(obs.episode, obs.step, obs.frame))?.players.find((p) => p.player === obs.player);
    if (!v) return;
    v.answers.push({ frame: action.frame, buttons: action.buttons, ...(action.info ? { info: action.info } : {}), afterMs: at - v.givenAt });
    this.changes++;
  }

  /** The frame ran: what each controller got. */
  ran(row: FrameRow): void {
    this.file();
    const f = this.frames.get(keyOf(row.episode, row.step, row.frame));
    if (!f) return;
    for (const v of f.players) {
      const p = v.player;
      const info = row.info[`p${p + 1}`];
      v.applied = {
        buttons: row.buttons[p], held: row.held[p], manual: row.manual[p], latencyMs: row.agentLatencyMs[p],
        info: info && typeof info === 'object' ? info as Record<string, unknown> : null,
      };
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
    for (const x of this.frames.values()) if (x.episode === episode && x.frame === ev.frame) f = x;
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
    const v = this.frames.get(keyOf(input.episode, input.step, input.frame))?.players.find((p) => p.player === player);
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

  private frameFor(episode: number, step: number, frame: number): FrameAgentViews {
    const key = keyOf(episode, step, frame);
    let f = this.frames.get(key);
    if (!f) {
      f = { episode, step, frame, players: [] };
      this.frames.set(key, f);
      this.trim();
    }
    return f;
  }

  private trim(): void {
    while (this.frames.size > this.max || (this.screenBytes > this.maxScreenBytes && this.frames.size > 1)) {
      const [key, f] = this.frames.entries().next().value as [string, FrameAgentViews];
      this.frames.delete(key);
      for (const v of f.players) this.dropGiven(v);
      this.oldestDropped = { episode: f.episode, step: f.step, frame: f.frame };
    }
  }
}

function screenSize(g: GivenInput): number {
  return g.screen ? g.screen.stack.reduce((n, s) => n + s.byteLength, 0) : 0;
}
