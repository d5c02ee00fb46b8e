// Agent's-eye panel webview: the held frame's raw screen beside what each agent got (variables, preprocessed screen stack) and asked for vs what ran.
import './elements';
import { byId, h, imageDataOf } from './dom';
import { formatButtons, formatMs } from './format';
import { SessionBar, startPanel } from './panelShell';
import type { AgentViewAgent, AgentViewScreen, AgentViewUpdate, SessionInfo } from './panelMessages';
import { PanelApi, isRecord } from './vscodeApi';

type AgentViewState = Record<string, never>;

/** Each stacked screen is drawn at this many CSS pixels per agent pixel at most (a 4x-downsampled 64x60 shows at 128x120). */
const STACK_ZOOM = 2;

class AgentViewPanel {
  private readonly api = new PanelApi<AgentViewState>({}, (v): v is Partial<AgentViewState> => isRecord(v));
  private readonly bar = new SessionBar();
  private readonly heldLine: HTMLElement;
  private readonly note: HTMLElement;
  private readonly raw: HTMLCanvasElement;
  private readonly rawCtx: CanvasRenderingContext2D;
  private readonly rawNote: HTMLElement;
  private readonly agents: HTMLElement;
  private readonly status: HTMLElement;

  constructor(root: HTMLElement) {
    this.heldLine = h('div', { id: 'ae-held', class: 'ae-held' }, 'Waiting for a Lockstep session (F5)…');
    this.note = h('div', { id: 'ae-note', class: 'empty', hidden: true });
    this.raw = h('canvas', { id: 'ae-raw', class: 'ae-raw', width: 256, height: 240, 'aria-label': 'Raw screen of the held frame', role: 'img' });
    const ctx = this.raw.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('no 2D canvas context');
    this.rawCtx = ctx;
    this.rawNote = h('div', { class: 'muted', id: 'ae-raw-note' }, 'raw screen');
    this.agents = h('div', { id: 'ae-agents', class: 'ae-agents' });
    this.status = h('span', { id: 'ae-status', class: 'muted' });
    root.append(
      h('div', { class: 'toolbar' }, this.bar.element, h('span', { class: 'spacer' })),
      this.heldLine,
      this.note,
      h('div', { class: 'ae-body' }, h('div', { class: 'ae-raw-box' }, this.raw, this.rawNote), this.agents),
      h('div', { class: 'statusline' }, this.status),
    );
    startPanel('agentView', this.api, this.bar, {
      kinds: ['agentView'],
      session: (s) => this.onSession(s),
      message: (m) => {
        this.render(m.update);
        this.api.post({ type: 'ack', seq: m.seq });
      },
    });
  }

  private onSession(s: SessionInfo | null): void {
    if (!s) {
      this.heldLine.textContent = 'Waiting for a Lockstep session (F5)…';
      this.agents.replaceChildren();
    }
  }

  private render(u: AgentViewUpdate): void {
    const held = u.held;
    this.heldLine.textContent = held ? `Frame ${held.frame} · episode ${held.episode} · step ${held.step}${held.tick >= 0 ? ` · tick ${held.tick}` : ''}` : 'No held frame';
    this.heldLine.dataset.frame = held ? String(held.frame) : '';
    this.heldLine.dataset.episode = held ? String(held.episode) : '';
    this.heldLine.dataset.step = held ? String(held.step) : '';
    this.heldLine.dataset.kept = String(u.kept);
    this.note.hidden = u.reason === null;
    this.note.textContent = u.reason ?? '';
    if (u.raw && u.raw.pixels.length === u.raw.width * u.raw.height * 4) {
      this.rawCtx.putImageData(imageDataOf(u.raw.pixels, u.raw.width, u.raw.height), 0, 0);
      this.raw.dataset.frame = held ? String(held.frame) : '';
      this.rawNote.textContent = `raw screen, frame ${held?.frame ?? '?'} (256×240)`;
    } else {
      this.rawCtx.clearRect(0, 0, this.raw.width, this.raw.height);
      this.raw.dataset.frame = '';
      this.rawNote.textContent = 'No raw screen for this frame (the session captured none).';
    }
    this.agents.replaceChildren(...u.agents.map((a) => this.agentSection(a, held?.frame ?? -1)));
    this.status.textContent = u.oldestKept
      ? `keeps the last ${u.window} frames · oldest kept: frame ${u.oldestKept.frame} (episode ${u.oldestKept.episode}, step ${u.oldestKept.step})`
      : `keeps the last ${u.window} frames`;
  }

  private agentSection(a: AgentViewAgent, heldFrame: number): HTMLElement {
    const tags = h('span', { class: 'ae-tags' }, ...a.tags.map((t) => h('span', { class: `ae-tag ${t.replace(/[^a-z]+/g, '-')}`, 'data-tag': t }, t)));
    const vars = h('table', { class: 'kv ae-vars' },
      h('caption', { class: 'muted' }, `observation (${a.varsSource})`),
      ...a.vars.map((v) => h('tr', {}, h('th', {}, v.name), h('td', { 'data-key': `var.${v.name}` }, String(v.value)))),
      h('tr', {}, h('th', {}, 'reward'), h('td', { 'data-key': 'reward' }, String(a.reward))),
      h('tr', {}, h('th', {}, 'terminated · truncated'), h('td', { 'data-key': 'done' }, `${a.terminated} · ${a.truncated}`)),
      h('tr', {}, h('th', {}, 'info'), h('td', { 'data-key': 'info', class: 'ae-json' }, a.info)),
    );
    const vector = a.vector ? h('table', { class: 'kv ae-vector' },
      h('caption', { class: 'muted' }, 'model input vector'),
      ...a.vector.names.map((n, i) => h('tr', {}, h('th', {}, n), h('td', { 'data-key': `in.${n}` }, String(a.vector!.values[i]))))) : null;
    const applied = a.applied;
    const asked = a.answers.length
      ? a.answers.map((x) => `${formatButtons(x.buttons)} for frame ${x.frame}${x.frame !== heldFrame ? ' (mismatch)' : ''}`).join('; ')
      : 'no answer';
    const action = h('table', { class: 'kv ae-action' },
      h('caption', { class: 'muted' }, 'requested vs applied'),
      h('tr', {}, h('th', {}, 'requested'), h('td', { 'data-key': 'requested' }, asked)),
      h('tr', {}, h('th', {}, 'applied'), h('td', { 'data-key': 'applied' }, applied
        ? `${formatButtons(applied.buttons)}${applied.manual ? ' (manual)' : applied.held ? ' (held: previous buttons kept)' : ''}`
        : 'not run yet')),
      h('tr', {}, h('th', {}, 'latency'), h('td', { 'data-key': 'latency' }, latency(a))),
      h('tr', {}, h('th', {}, 'sent'), h('td', { 'data-key': 'sends' }, a.sends === 1 ? 'once' : `${a.sends} times (resync)`)),
      h('tr', {}, h('th', {}, 'action info'), h('td', { 'data-key': 'action-info', class: 'ae-json' }, applied?.info ?? a.answers.at(-1)?.info ?? '—')),
    );
    const desyncs = a.desyncs.length ? h('ul', { class: 'ae-desyncs' }, ...a.desyncs.map((d) => h('li', { 'data-type': d.type }, `${d.type}: ${d.message}${d.recovery ? ` → ${d.recovery}` : ''}`))) : null;
    return h('section', { class: 'ae-agent', 'data-player': a.player },
      h('h3', {}, `Controller ${a.player + 1}: ${a.name} `, tags),
      h('div', { class: 'muted ae-via' }, a.via ? `given as: ${a.via}` : 'given as: the runtime observation'),
      a.note ? h('div', { class: 'muted ae-agent-note' }, a.note) : null,
      a.screen ? this.stack(a.screen) : null,
      h('div', { class: 'ae-tables' }, vars, vector, action),
      desyncs,
    );
  }

  /** The screen as the agent got it: one canvas per stacked frame, oldest first, each labelled with its frame id. */
  private stack(s: AgentViewScreen): HTMLElement {
    const slots = s.stack.map((bytes, i) => {
      const c = h('canvas', {
        class: 'ae-stack-frame', width: s.width, height: s.height, 'data-slot': i, 'data-frame': s.stackFrames[i] ?? '',
        'aria-label': `stacked screen ${i + 1} of ${s.stack.length}, frame ${s.stackFrames[i] ?? '?'}`, role: 'img',
      });
      c.style.width = `${s.width * STACK_ZOOM}px`;
      c.style.height = `${s.height * STACK_ZOOM}px`;
      const ctx = c.getContext('2d', { alpha: false });
      if (ctx && bytes.length === s.width * s.height * s.channels) ctx.putImageData(imageDataOf(toRgba(bytes, s.channels), s.width, s.height), 0, 0);
      const last = i === s.stack.length - 1;
      return h('figure', { class: 'ae-slot' }, c, h('figcaption', { class: 'muted' }, `${i + 1}: frame ${s.stackFrames[i] ?? '?'}${last ? ' (newest)' : i === 0 && s.stack.length > 1 ? ' (oldest)' : ''}`));
    });
    return h('div', { class: 'ae-stack', 'data-width': s.width, 'data-height': s.height, 'data-channels': s.channels },
      h('div', { class: 'muted' }, `screen as given: ${s.width}×${s.height}, ${s.encoding}`),
      h('div', { class: 'ae-slots' }, ...slots));
  }
}

/** The row's agentLatencyMs; without one (manual, held, not run yet) how long the agent's answer took, said so. */
function latency(a: AgentViewAgent): string {
  if (a.applied?.latencyMs != null) return formatMs(a.applied.latencyMs);
  const last = a.answers.at(-1);
  if (!last) return '—';
  return `answered after ${formatMs(last.afterMs)} (not in the row: ${a.applied ? 'its answer was not used' : 'the frame has not run'})`;
}

/** Grey (1) or RGB (3) bytes per pixel to RGBA for a canvas; RGBA passes through with alpha forced opaque. */
function toRgba(bytes: Uint8Array, channels: 1 | 3 | 4): Uint8Array {
  const n = bytes.length / channels;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    if (channels === 1) {
      out[i * 4] = out[i * 4 + 1] = out[i * 4 + 2] = bytes[i];
    } else {
      out[i * 4] = bytes[i * channels];
      out[i * 4 + 1] = bytes[i * channels + 1];
      out[i * 4 + 2] = bytes[i * channels + 2];
    }
    out[i * 4 + 3] = 255;
  }
  return out;
}

new AgentViewPanel(byId('app'));
