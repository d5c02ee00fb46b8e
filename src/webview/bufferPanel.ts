// Buffer panel webview: the sync buffer's states as a table (desync filter), one state in full with its paired screen.
import './elements';
import { append, byId, clear, h, imageDataOf } from './dom';
import { clockTime, formatMs, hex, hexDump } from './format';
import { GLOSSARY } from './glossary';
import { SessionBar, startPanel } from './panelShell';
import type { BufferDetail, BufferRow, RamVarInfo, SessionInfo } from './panelMessages';
import { PanelApi, isRecord } from './vscodeApi';

interface BufferState {
  desyncOnly: boolean;
  selected: number | null;
}

function isBufferState(v: unknown): v is Partial<BufferState> {
  return isRecord(v) && (v.selected === undefined || v.selected === null || typeof v.selected === 'number');
}

const COLUMNS = ['Frame', 'Episode', 'State time', 'Screen', 'Screen time', 'Sync quality', 'Kind', 'Desync'];
/** Hover text of the column headers whose words need explaining. */
const COLUMN_TITLES: Partial<Record<string, string>> = {
  Screen: 'Frame of the screen paired with this state: the same frame, else the nearest buffered screen by time.',
  'Sync quality': GLOSSARY.syncQuality,
  Kind: 'Confirmed: the frame ran on the agents\' own actions. Speculative: run ahead on predicted input (sync mode runahead).',
};

class BufferPanel {
  private readonly api = new PanelApi<BufferState>({ desyncOnly: false, selected: null }, isBufferState);
  private readonly bar = new SessionBar();
  private readonly tbody: HTMLTableSectionElement;
  private readonly count: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly detail: HTMLElement;
  private rows: BufferRow[] = [];
  private total = 0;
  private capacity = 0;
  private session: SessionInfo | null = null;

  constructor(root: HTMLElement) {
    const filter = h('vscode-checkbox', { id: 'desync-only', label: 'Desyncs only', checked: this.api.state.desyncOnly });
    filter.addEventListener('change', () => {
      this.api.update({ desyncOnly: (filter as unknown as { checked: boolean }).checked });
      this.renderRows();
    });
    this.count = h('span', { id: 'row-count', class: 'muted' });
    this.tbody = h('tbody', { id: 'rows' });
    this.tbody.addEventListener('click', (e) => this.rowClicked(e));
    this.tbody.addEventListener('keydown', (e) => this.rowKey(e));
    this.empty = h('div', { id: 'buffer-empty', class: 'empty' }, 'Waiting for a Lockstep session (F5)…');
    const table = h('table', { id: 'buffer-table', class: 'data-table' },
      h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col', title: COLUMN_TITLES[c] ?? null }, c)))),
      this.tbody);
    this.detail = h('section', { id: 'detail', class: 'detail', 'aria-label': 'Selected state' }, h('p', { class: 'muted' }, 'Select a row to see its state and screen.'));
    root.append(
      h('div', { class: 'toolbar' }, this.bar.element, h('span', { class: 'spacer' }), filter, this.count),
      h('div', { class: 'buffer-layout' }, h('div', { class: 'table-scroll' }, table, this.empty), this.detail),
    );
    startPanel('buffer', this.api, this.bar, {
      kinds: ['bufferRows', 'bufferDetail'],
      session: (s) => this.onSession(s),
      message: (m) => {
        switch (m.type) {
          case 'bufferRows':
            this.rows = m.rows;
            this.total = m.total;
            this.capacity = m.capacity;
            this.renderRows();
            this.api.post({ type: 'ack', seq: m.seq });
            return;
          case 'bufferDetail':
            this.renderDetail(m.detail);
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
    const changed = s?.id !== this.session?.id;
    this.session = s;
    if (changed) {
      this.rows = [];
      this.renderRows();
      if (s && this.api.state.selected !== null) this.api.post({ type: 'selectRow', frame: this.api.state.selected });
    }
  }

  private visibleRows(): BufferRow[] {
    return this.api.state.desyncOnly ? this.rows.filter((r) => r.desync.length > 0) : this.rows;
  }

  private renderRows(): void {
    const rows = this.visibleRows();
    const desyncRows = this.rows.filter((r) => r.desync.length > 0).length;
    this.count.textContent = `${this.total} states buffered (capacity ${this.capacity}) · ${desyncRows} with desyncs`
      + (this.total > this.rows.length ? ` · newest ${this.rows.length} shown` : '');
    this.empty.hidden = rows.length > 0;
    this.empty.textContent = !this.session ? 'Waiting for a Lockstep session (F5)…'
      : this.api.state.desyncOnly ? 'No buffered state has a desync.' : 'The buffer is empty.';
    const selected = this.api.state.selected;
    // Newest first: the state the emulator holds now is the one people look at.
    const trs = rows.slice().reverse().map((r) => {
      const tr = h('tr', {
        'data-frame': r.frame, tabindex: 0, 'aria-selected': r.frame === selected ? 'true' : 'false',
        class: [r.desync.length ? 'desync' : '', r.frame === selected ? 'selected' : ''].join(' ').trim() || null,
      },
      h('td', { class: 'num' }, String(r.frame)),
      h('td', { class: 'num' }, r.episode === null ? '—' : String(r.episode)),
      h('td', { class: 'mono' }, clockTime(r.timestamp)),
      h('td', { class: 'num' }, r.screenFrame === null ? '—' : String(r.screenFrame)),
      h('td', { class: 'mono' }, r.screenTimestamp === null ? '—' : clockTime(r.screenTimestamp)),
      h('td', { class: 'num', title: r.syncQualityMs === null ? GLOSSARY.noScreenPaired : GLOSSARY.syncQuality }, r.syncQualityMs === null ? 'no screen paired' : formatMs(r.syncQualityMs)),
      h('td', {}, h('span', { class: r.speculative ? 'tag speculative' : 'tag confirmed' }, r.speculative ? 'speculative' : 'confirmed'), r.lag ? h('span', { class: 'tag lag' }, 'lag') : null),
      h('td', { class: 'desync-cell' }, r.desync.join(', ')));
      return tr;
    });
    this.tbody.replaceChildren(...trs);
  }

  private rowClicked(e: Event): void {
    const tr = (e.target as HTMLElement).closest('tr');
    if (tr?.dataset.frame) this.select(Number(tr.dataset.frame));
  }

  private rowKey(e: KeyboardEvent): void {
    const tr = (e.target as HTMLElement).closest('tr');
    if (!tr) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      if (tr.dataset.frame) this.select(Number(tr.dataset.frame));
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = (e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling) as HTMLElement | null;
      if (next?.dataset.frame) {
        next.focus();
        this.select(Number(next.dataset.frame));
      }
    }
  }

  private select(frame: number): void {
    this.api.update({ selected: frame });
    for (const tr of Array.from(this.tbody.rows)) {
      const on = tr.dataset.frame === String(frame);
      tr.classList.toggle('selected', on);
      tr.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    this.api.post({ type: 'selectRow', frame });
  }

  private renderDetail(d: BufferDetail): void {
    clear(this.detail);
    this.detail.dataset.frame = String(d.frame);
    if (!d.found) {
      this.detail.append(h('p', { class: 'muted' }, `Frame ${d.frame} is no longer in the buffer.`));
      return;
    }
    const thumb = h('canvas', { id: 'thumb', class: 'thumb', width: d.width, height: d.height, 'aria-label': `Screen paired with frame ${d.frame}` });
    if (d.screen && d.screen.length === d.width * d.height * 4) {
      thumb.getContext('2d')?.putImageData(imageDataOf(d.screen, d.width, d.height), 0, 0);
    }
    const meta: Array<[string, string]> = [
      ['Episode', d.episode === null ? '—' : String(d.episode)],
      ['State time', clockTime(d.timestamp)],
      ['Screen', d.screenFrame === null ? (d.screen ? 'untagged' : 'none buffered') : `frame ${d.screenFrame}`],
      ['Sync quality', d.syncQualityMs === null ? 'no screen paired' : formatMs(d.syncQualityMs)],
      ['Kind', d.speculative ? 'speculative' : 'confirmed'],
      ['Lag frame', d.lag ? 'yes' : 'no'],
      ['Desync', d.desync.length ? d.desync.join(', ') : 'none'],
    ];
    const vars = this.varRows(d.vars);
    append(this.detail, [
      h('h2', {}, `Frame ${d.frame}`),
      d.screen ? thumb : h('p', { class: 'muted' }, 'No screen buffered for this state.'),
      h('table', { class: 'kv' }, h('tbody', {}, ...meta.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', { class: k === 'Desync' && d.desync.length ? 'desync-cell' : null }, v))))),
      h('h3', {}, 'RAM-map variables'),
      vars.length ? h('table', { id: 'vars', class: 'data-table compact' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Address'), h('th', {}, 'Value'), h('th', {}, 'Hex'))),
        h('tbody', {}, ...vars)) : h('p', { class: 'muted' }, 'No RAM map for this ROM.'),
      d.ram ? h('vscode-collapsible', { title: `Work RAM ($0000–$${hex(d.ram.length - 1, 4)})` }, h('pre', { class: 'hexdump' }, hexDump(d.ram))) : null,
    ]);
  }

  private varRows(values: Record<string, number>): HTMLElement[] {
    const known = new Map<string, RamVarInfo>((this.session?.ramVars ?? []).map((v) => [v.name, v]));
    return Object.entries(values).map(([name, value]) => {
      const info = known.get(name);
      const width = (info?.size ?? 1) * 2;
      const raw = value < 0 ? value + (1 << (8 * (info?.size ?? 1))) : value;
      return h('tr', { title: info?.meaning ?? null },
        h('td', { class: 'mono' }, name),
        h('td', { class: 'mono' }, info ? `$${hex(info.address, 4)}` : '—'),
        h('td', { class: 'num' }, String(value)),
        h('td', { class: 'mono' }, `$${hex(raw, width)}`));
    });
  }
}

new BufferPanel(byId('app'));
