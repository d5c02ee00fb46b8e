// Timeline panel webview: the session history as a strip (episodes, desyncs, breakpoint hits, stops), hover peek (thumbnail + row), click to travel.
import './elements';
import { byId, h, imageDataOf } from './dom';
import { formatButtons } from './format';
import { SessionBar, startPanel } from './panelShell';
import type { SessionInfo, TimelinePeek, TimelineUpdate } from './panelMessages';
import { PanelApi, isRecord } from './vscodeApi';

type TimelineState = Record<string, never>;

const KIND_LABEL = { desync: 'desync', breakpoint: 'breakpoint hit', stop: 'stop' } as const;

class TimelinePanel {
  private readonly api = new PanelApi<TimelineState>({}, (v): v is Partial<TimelineState> => isRecord(v));
  private readonly bar = new SessionBar();
  private readonly strip: HTMLElement;
  private readonly lanes: HTMLElement;
  private readonly cursor: HTMLElement;
  private readonly hoverLine: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly peekBox: HTMLElement;
  private readonly thumb: HTMLCanvasElement;
  private readonly thumbCtx: CanvasRenderingContext2D;
  private readonly thumbNote: HTMLElement;
  private readonly rowTable: HTMLElement;
  private readonly status: HTMLElement;
  private readonly travelStatus: HTMLElement;
  private update: TimelineUpdate | null = null;
  /** The tick under the pointer (or chosen with the keyboard), and the one whose peek is being asked for. */
  private hovered: number | null = null;
  private peekAsked: number | null = null;
  private peekInFlight = false;

  constructor(root: HTMLElement) {
    this.lanes = h('div', { class: 'tl-lanes', id: 'tl-lanes' });
    this.cursor = h('div', { class: 'tl-cursor', id: 'tl-cursor', hidden: true, title: 'The held frame' });
    this.hoverLine = h('div', { class: 'tl-hover', id: 'tl-hover', hidden: true });
    this.strip = h('div', {
      class: 'tl-strip', id: 'tl-strip', tabindex: 0, role: 'slider', 'aria-label': 'Session timeline: hover to peek at a frame, click (or Enter) to travel there',
    }, this.lanes, this.cursor, this.hoverLine);
    this.empty = h('div', { class: 'empty', id: 'tl-empty' }, 'Waiting for a Lockstep session (F5)…');
    this.thumb = h('canvas', { id: 'peek-thumb', class: 'tl-thumb', width: 64, height: 60, 'aria-label': 'Screen of the frame under the pointer', role: 'img' });
    const ctx = this.thumb.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('no 2D canvas context');
    this.thumbCtx = ctx;
    this.thumbNote = h('div', { class: 'muted', id: 'peek-thumb-note' });
    this.rowTable = h('table', { class: 'kv', id: 'peek-row' });
    this.peekBox = h('div', { class: 'tl-peek', id: 'tl-peek', hidden: true },
      h('div', { class: 'tl-peek-screen' }, this.thumb, this.thumbNote), this.rowTable);
    this.status = h('span', { id: 'tl-status', class: 'muted' });
    this.travelStatus = h('span', { id: 'tl-travel' });
    const legend = h('span', { class: 'tl-legend muted' },
      h('span', { class: 'tl-key desync' }), 'desync ', h('span', { class: 'tl-key breakpoint' }), 'breakpoint ', h('span', { class: 'tl-key stop' }), 'stop');
    root.append(
      h('div', { class: 'toolbar' }, this.bar.element, h('span', { class: 'spacer' }), legend),
      this.strip,
      this.empty,
      this.peekBox,
      h('div', { class: 'statusline' }, this.status, h('span', { class: 'spacer' }), this.travelStatus),
    );
    this.strip.addEventListener('mousemove', (e) => this.hoverAt(this.tickAtX(e.clientX)));
    this.strip.addEventListener('mouseleave', () => this.showHoverLine(null));
    this.strip.addEventListener('click', (e) => {
      const t = this.tickAtX(e.clientX);
      if (t !== null) this.travel(t);
    });
    this.strip.addEventListener('keydown', (e) => this.key(e));

    startPanel('timeline', this.api, this.bar, {
      kinds: ['timeline', 'timelinePeek', 'travelled'],
      session: (s) => this.onSession(s),
      message: (m) => {
        switch (m.type) {
          case 'timeline':
            this.render(m.update);
            this.api.post({ type: 'ack', seq: m.seq });
            return;
          case 'timelinePeek':
            this.showPeek(m.peek);
            return;
          case 'travelled':
            this.travelStatus.textContent = m.error ? `Could not travel: ${m.error}` : `Stopped on tick ${m.tick}`;
            this.travelStatus.className = m.error ? 'warning' : '';
            return;
          default: {
            const _x: never = m;
            return _x;
          }
        }
      },
    });
  }

  private onSession(s: SessionInfo | null): void {
    if (!s) this.update = null;
    this.renderEmpty(s);
  }

  private renderEmpty(s: SessionInfo | null = null): void {
    const u = this.update;
    let text: string | null = null;
    if (!u && !s) text = 'Waiting for a Lockstep session (F5)…';
    else if (!u) text = 'Waiting for the session history…';
    else if (!u.available) text = u.reason ?? 'No session history.';
    else if (u.headTick < 0) text = 'No frame held yet.';
    this.empty.hidden = text === null;
    this.empty.textContent = text ?? '';
    this.strip.hidden = text !== null;
  }

  private get span(): number {
    const u = this.update;
    return u ? Math.max(1, u.headTick - u.oldestTick + 1) : 1;
  }

  /** Percent of the strip where a tick's slot starts. */
  private pct(tick: number): number {
    const u = this.update!;
    return ((tick - u.oldestTick) / this.span) * 100;
  }

  private render(u: TimelineUpdate): void {
    this.update = u;
    this.renderEmpty();
    if (!u.available || u.headTick < 0) return;
    this.strip.dataset.oldest = String(u.oldestTick);
    this.strip.dataset.head = String(u.headTick);
    this.strip.dataset.current = String(u.currentTick);
    this.strip.setAttribute('aria-valuemin', String(u.oldestTick));
    this.strip.setAttribute('aria-valuemax', String(u.headTick));
    this.strip.setAttribute('aria-valuenow', String(u.currentTick));
    this.strip.classList.toggle('can-travel', u.canTravel);
    const slot = 100 / this.span;
    const parts: HTMLElement[] = [];
    u.episodes.forEach((e, i) => {
      const el = h('div', {
        class: `tl-episode ${i % 2 ? 'odd' : 'even'}${e.end === null ? ' open' : ''}`,
        'data-episode': e.episode, 'data-first': e.firstTick, 'data-last': e.lastTick,
        title: `episode ${e.episode}: ticks ${e.firstTick}–${e.lastTick}${e.end ? ` (ended: ${e.end})` : ' (open)'}`,
      }, h('span', { class: 'tl-episode-label' }, `ep ${e.episode}`));
      el.style.left = `${this.pct(e.firstTick)}%`;
      el.style.width = `${(e.lastTick - e.firstTick + 1) * slot}%`;
      parts.push(el);
    });
    for (const m of u.markers) {
      const el = h('div', { class: `tl-marker ${m.kind}`, 'data-tick': m.tick, 'data-kind': m.kind, title: `${KIND_LABEL[m.kind]} at tick ${m.tick}: ${m.text}` });
      el.style.left = `${this.pct(m.tick) + slot / 2}%`;
      parts.push(el);
    }
    this.lanes.replaceChildren(...parts);
    this.cursor.hidden = u.currentTick < 0;
    this.cursor.style.left = `${this.pct(u.currentTick) + slot / 2}%`;
    const counts = { desync: 0, breakpoint: 0, stop: 0 };
    for (const m of u.markers) counts[m.kind]++;
    this.status.textContent = `${u.episodes.length} episode(s) · ticks ${u.oldestTick}–${u.headTick} · held tick ${u.currentTick}`
      + ` · ${counts.desync} desync(s), ${counts.breakpoint} breakpoint hit(s), ${counts.stop} stop(s)`
      + (u.markersDropped ? ` (${u.markersDropped} older marker(s) not shown)` : '')
      + (u.canTravel ? '' : ' · travel needs a live debug session');
    if (this.hovered !== null && this.hovered > u.headTick) this.showHoverLine(null);
  }

  private tickAtX(clientX: number): number | null {
    const u = this.update;
    if (!u || !u.available || u.headTick < 0) return null;
    const r = this.strip.getBoundingClientRect();
    if (r.width <= 0) return null;
    const frac = Math.min(0.999999, Math.max(0, (clientX - r.left) / r.width));
    return u.oldestTick + Math.floor(frac * this.span);
  }

  private hoverAt(tick: number | null): void {
    this.showHoverLine(tick);
    if (tick === null || tick === this.peekAsked) return;
    this.peekAsked = tick;
    this.askPeek();
  }

  /** One peek in flight at a time; the newest hovered tick is asked for when the answer comes. */
  private askPeek(): void {
    if (this.peekInFlight || this.peekAsked === null) return;
    this.peekInFlight = true;
    this.api.post({ type: 'peek', tick: this.peekAsked });
  }

  private showHoverLine(tick: number | null): void {
    this.hovered = tick;
    this.hoverLine.hidden = tick === null;
    if (tick !== null) {
      this.hoverLine.style.left = `${this.pct(tick) + 50 / this.span}%`;
      this.hoverLine.dataset.tick = String(tick);
    }
  }

  private showPeek(p: TimelinePeek): void {
    this.peekInFlight = false;
    if (this.peekAsked !== null && this.peekAsked !== p.tick) {
      this.askPeek();
      return;
    }
    this.peekBox.hidden = false;
    this.peekBox.dataset.tick = String(p.tick);
    if (!p.found) {
      this.rowTable.replaceChildren(h('tr', {}, h('td', {}, `tick ${p.tick} is not in the reachable history`)));
      this.thumb.hidden = true;
      this.thumbNote.textContent = '';
      return;
    }
    this.peekBox.dataset.frame = String(p.frame);
    if (p.thumb && p.thumb.length === p.thumbWidth * p.thumbHeight * 4) {
      this.thumb.hidden = false;
      this.thumb.width = p.thumbWidth;
      this.thumb.height = p.thumbHeight;
      this.thumbCtx.putImageData(imageDataOf(p.thumb, p.thumbWidth, p.thumbHeight), 0, 0);
      this.thumb.dataset.tick = String(p.thumbTick);
      this.thumbNote.textContent = p.thumbTick === p.tick ? '' : `nearest screen kept: ${p.tick - (p.thumbTick ?? p.tick)} tick(s) earlier`;
    } else {
      this.thumb.hidden = true;
      delete this.thumb.dataset.tick;
      this.thumbNote.textContent = 'No screen kept for this part of the session (screens are kept while a screen-showing panel is open).';
    }
    const row = (k: string, v: string, key = k) => h('tr', {}, h('th', {}, k), h('td', { 'data-key': key }, v));
    const rows = [
      row('frame', String(p.frame)),
      row('episode · step', `${p.episode} · ${p.step}`),
      row('tick', String(p.tick)),
      row('buttons in', `P1 ${formatButtons(p.lastButtons[0])} · P2 ${formatButtons(p.lastButtons[1])}`),
      row('buttons out', p.nextButtons ? `P1 ${formatButtons(p.nextButtons[0])} · P2 ${formatButtons(p.nextButtons[1])}` : '— (the newest frame)'),
      row('returns', `${p.returns[0]} · ${p.returns[1]}`),
      // RAM-map variables may be called `frame` or `step` too: keyed apart from the counters.
      ...Object.entries(p.vars).map(([k, v]) => row(k, String(v), `var.${k}`)),
      ...p.markers.map((m) => row(KIND_LABEL[m.kind], m.text)),
    ];
    this.rowTable.replaceChildren(...rows);
  }

  private travel(tick: number): void {
    const u = this.update;
    if (!u) return;
    this.travelStatus.className = '';
    this.travelStatus.textContent = `Travelling to tick ${tick}…`;
    this.api.post({ type: 'travel', tick });
  }

  /** Arrows move the peeked tick (Shift: by 60), Home/End jump to the ends, Enter travels. */
  private key(e: KeyboardEvent): void {
    const u = this.update;
    if (!u || !u.available || u.headTick < 0) return;
    const at = this.hovered ?? u.currentTick;
    const step = e.shiftKey ? 60 : 1;
    let next: number | null = null;
    if (e.key === 'ArrowLeft') next = at - step;
    else if (e.key === 'ArrowRight') next = at + step;
    else if (e.key === 'Home') next = u.oldestTick;
    else if (e.key === 'End') next = u.headTick;
    else if (e.key === 'Enter' && this.hovered !== null) {
      this.travel(this.hovered);
      e.preventDefault();
      return;
    }
    if (next === null) return;
    e.preventDefault();
    this.hoverAt(Math.min(u.headTick, Math.max(u.oldestTick, next)));
  }
}

new TimelinePanel(byId('app'));
