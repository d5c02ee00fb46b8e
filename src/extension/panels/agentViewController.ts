// Agent's-eye panel host logic: for the held frame, what each agent was given (variables, preprocessed screen stack), what it answered and what ran.
import { NES_HEIGHT, NES_WIDTH } from '../../core/nes';
import type { AgentFrameView, FrameAgentViews } from '../../core/runtime/agentInputLog';
import type { LockstepRuntime } from '../../core/runtime/runtime';
import type { AgentViewAgent, AgentViewUpdate, HostMessage } from '../../webview/panelMessages';
import { PanelController, ownBytes, type PanelChannel, type PanelServices, type StreamSettings } from './panelController';
import type { PanelSession, RuntimeSource } from './runtimeSource';

/** One view in flight: a newer held frame replaces an unsent one (only the held frame is ever shown). */
export const AGENT_VIEW_STREAM: StreamSettings = { highWatermark: 1, lowWatermark: 0, stallTimeoutMs: 2000 };

export class AgentViewController extends PanelController<AgentViewUpdate> {
  private lastKey = '';

  constructor(channel: PanelChannel, source: RuntimeSource, services: PanelServices, stream: StreamSettings = AGENT_VIEW_STREAM) {
    super('agentView', channel, source, services, stream);
    this.start();
  }

  protected onSession(session: PanelSession): void {
    this.lastKey = '';
    // While this panel shows the session, agents with an input tap report their own encoding of each observation.
    this.listen(session.runtime.agentInputs.watch());
  }

  protected onReady(): void {
    this.lastKey = '';
    this.onPoll();
  }

  protected onPoll(): void {
    const rt = this.runtime;
    const cur = rt?.current;
    const key = JSON.stringify([rt ? rt.episodeIndex : null, rt?.stepIndex, cur?.frame, rt?.currentTick, rt?.agentInputs.version, cur?.screen !== undefined, this.live]);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.flow.offer(this.snapshot());
  }

  protected build(update: AgentViewUpdate, seq: number): HostMessage {
    return { type: 'agentView', seq, update };
  }

  protected override sameItem(): boolean {
    return true;
  }

  /** What the panel shows for the runtime's held frame now. */
  snapshot(): AgentViewUpdate {
    const rt = this.runtime;
    const cur = rt?.current;
    if (!rt || !cur) {
      return { held: null, kept: false, reason: rt ? 'The session has no held frame yet.' : 'Waiting for a Lockstep session (F5)…', window: 0, oldestKept: null, raw: null, agents: [] };
    }
    const log = rt.agentInputs;
    const held = { episode: rt.episodeIndex, step: rt.stepIndex, frame: cur.frame, tick: rt.currentTick };
    const raw = cur.screen ? { width: NES_WIDTH, height: NES_HEIGHT, pixels: ownBytes(cur.screen) } : null;
    const entry = log.get(held.episode, held.step, held.frame);
    const base = { held, window: log.capacity, oldestKept: log.oldest, raw };
    if (rt.agentCount === 0) return { ...base, kept: false, reason: 'No agent drives this session: every controller is played by hand.', agents: [] };
    if (!entry || entry.players.length === 0) return { ...base, kept: false, reason: notKeptReason(rt, held), agents: [] };
    return { ...base, kept: true, reason: null, agents: entry.players.map((v) => agentView(rt, entry, v)) };
  }
}

function notKeptReason(rt: LockstepRuntime, held: { episode: number; step: number; frame: number }): string {
  const oldest = rt.agentInputs.oldest;
  const where = `frame ${held.frame} (episode ${held.episode}, step ${held.step})`;
  if (rt.replayingPast || (oldest && (held.episode < oldest.episode || (held.episode === oldest.episode && held.step < oldest.step)))) {
    return `What the agents got for ${where} is no longer kept: the agent's-eye view keeps the last ${rt.agentInputs.capacity} frames`
      + (oldest ? ` (oldest kept: frame ${oldest.frame}, episode ${oldest.episode}, step ${oldest.step}).` : '.');
  }
  return `No agent has been given ${where} yet: it is shown once the runtime asks the agents for it (continue or step).`;
}

function agentView(rt: LockstepRuntime, entry: FrameAgentViews, v: AgentFrameView): AgentViewAgent {
  const g = v.given;
  const sentVars = g?.vars;
  const vars = Object.entries(sentVars ?? v.observation.vars).map(([name, value]) => ({ name, value }));
  const tags: string[] = [];
  const a = v.applied;
  if (!a) tags.push(v.answers.length ? 'answered, not run yet' : 'waiting');
  else if (a.manual) tags.push('manual');
  else if (a.held) tags.push('held');
  else tags.push('answered');
  if (v.desyncs.some((d) => d.type === 'timeout')) tags.push('late');
  if (v.answers.some((x) => x.frame !== entry.frame)) tags.push('mismatch');
  if (v.sends > 1) tags.push('resync');
  if (a?.info?.repeated === true) tags.push('repeat');
  let note: string | null = g?.note ?? null;
  if (!g) {
    note = rt.agentNames[v.player] && !rt.agentInputs.watched
      ? 'This agent reported no input of its own for this frame (the view was closed then): the runtime\'s observation is shown.'
      : 'This agent reports no encoding of its own (only WebSocket trainers and ONNX policies do): the runtime\'s observation is shown.';
  }
  return {
    player: v.player,
    name: rt.agentNames[v.player] ?? `controller ${v.player + 1}`,
    via: g?.via ?? null,
    vars,
    varsSource: sentVars ? 'as sent' : 'runtime observation',
    vector: g?.vector ? { names: [...g.vector.names], values: [...g.vector.values] } : null,
    reward: g?.reward ?? v.observation.reward,
    terminated: v.observation.terminated,
    truncated: v.observation.truncated,
    info: JSON.stringify(g?.info ?? v.observation.info),
    screen: g?.screen ? { ...g.screen, stack: g.screen.stack.map((s) => ownBytes(s)), stackFrames: [...g.screen.stackFrames] } : null,
    note,
    sends: v.sends,
    answers: v.answers.map((x) => ({ frame: x.frame, buttons: x.buttons, info: x.info ? JSON.stringify(x.info) : null, afterMs: x.afterMs })),
    applied: a ? { buttons: a.buttons, held: a.held, manual: a.manual, latencyMs: a.latencyMs, info: a.info ? JSON.stringify(a.info) : null } : null,
    tags,
    desyncs: v.desyncs.map((d) => ({ ...d })),
  };
}
