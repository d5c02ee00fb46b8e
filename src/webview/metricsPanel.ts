// Metrics panel webview: summary figures and chart.js charts of frame delay, sync quality, fps and agent latency, with desync markers.
import './elements';
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LineController, LineElement, LinearScale,
  PointElement, ScatterController, Tooltip, type ChartDataset,
} from 'chart.js';
import { byId, h } from './dom';
import { formatMs, percent } from './format';
import { GLOSSARY } from './glossary';
import { histogram } from './histogram';
import { SessionBar, startPanel } from './panelShell';
import type { DesyncMark, MetricsPoint, MetricsSummary, MetricsUpdate, SessionInfo } from './panelMessages';
import { PanelApi, isRecord } from './vscodeApi';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, BarController, BarElement, ScatterController, Tooltip, Legend);

interface MetricsState {
  /** Seconds of history shown; 0 = everything kept. */
  windowSec: number;
}

const WINDOWS: Array<[number, string]> = [[30, '30 s'], [60, '1 min'], [300, '5 min'], [0, 'All']];
/** Points kept in the webview; the host keeps as many. */
const MAX_POINTS = 2400;
const HISTOGRAM_BINS = 24;

function isMetricsState(v: unknown): v is Partial<MetricsState> {
  return isRecord(v) && (v.windowSec === undefined || typeof v.windowSec === 'number');
}

type XY = { x: number; y: number | null };
type Series = { label: string; color: string; value: (p: MetricsPoint) => number | null };

/** Theme colours from VS Code's CSS variables (re-read when the theme changes). */
function themeColors() {
  const css = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    fg: v('--vscode-foreground', '#cccccc'),
    grid: v('--vscode-charts-lines', 'rgba(128,128,128,0.35)'),
    blue: v('--vscode-charts-blue', '#3794ff'),
    yellow: v('--vscode-charts-yellow', '#cca700'),
    red: v('--vscode-charts-red', '#f14c4c'),
    green: v('--vscode-charts-green', '#89d185'),
    orange: v('--vscode-charts-orange', '#d18616'),
    purple: v('--vscode-charts-purple', '#b180d7'),
    font: v('--vscode-font-family', 'sans-serif'),
  };
}
type Colors = ReturnType<typeof themeColors>;

class TimeChart {
  readonly chart: Chart<'line' | 'scatter', XY[]>;

  constructor(canvas: HTMLCanvasElement, private readonly series: Series[], unit: string, private readonly markers: boolean) {
    this.chart = new Chart<'line' | 'scatter', XY[]>(canvas, {
      type: 'line',
      data: {
        datasets: [
          ...series.map((s) => ({ type: 'line' as const, label: s.label, data: [] as XY[], borderWidth: 1.5, pointRadius: 0, spanGaps: false, borderColor: s.color, backgroundColor: s.color })),
          ...(markers ? [{ type: 'scatter' as const, label: 'desync', data: [] as XY[], pointStyle: 'triangle' as const, pointRadius: 6, pointHoverRadius: 8 }] : []),
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          x: { type: 'linear', title: { display: true, text: 's' } },
          y: { type: 'linear', beginAtZero: true, title: { display: true, text: unit } },
        },
        plugins: {
          legend: { labels: { boxWidth: 10 } },
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const marks = (ctx.dataset as unknown as { marks?: readonly DesyncMark[] }).marks;
                const m = marks?.[ctx.dataIndex];
                if (m) return `${m.type} at frame ${m.frame}: ${m.message}`;
                return `${ctx.dataset.label}: ${ctx.parsed.y === null ? '—' : ctx.parsed.y.toFixed(2)} ${unit}`;
              },
            },
          },
        },
      },
    });
  }

  update(points: readonly MetricsPoint[], marks: readonly DesyncMark[], xMin: number | undefined): void {
    const ds = this.chart.data.datasets;
    this.series.forEach((s, i) => {
      ds[i].data = points.map((p) => ({ x: p.t, y: s.value(p) }));
    });
    if (this.markers) {
      // A marker sits on the first series at the desync's time, so it reads as "here the delay line broke".
      const first = this.series[0];
      const shown = marks.filter((m) => xMin === undefined || m.t >= xMin);
      ds[this.series.length].data = shown.map((m) => ({ x: m.t, y: valueNear(points, m.t, first.value) }));
      (ds[this.series.length] as unknown as { marks: readonly DesyncMark[] }).marks = shown;
    }
    const x = this.chart.options.scales!.x!;
    // Same x range on every chart, so a spike lines up across them.
    x.min = xMin ?? (points.length ? points[0].t : undefined);
    x.max = points.length ? points[points.length - 1].t : undefined;
    this.chart.update('none');
    // What is plotted, readable without poking into chart.js (end-to-end tests, accessibility tools).
    this.chart.canvas.dataset.points = String(points.length);
    if (this.markers) this.chart.canvas.dataset.marks = String(ds[this.series.length].data.length);
  }

  theme(c: Colors, colorOf: (i: number) => string): void {
    const ds = this.chart.data.datasets;
    this.series.forEach((_, i) => {
      ds[i].borderColor = colorOf(i);
      ds[i].backgroundColor = colorOf(i);
    });
    if (this.markers) {
      ds[this.series.length].borderColor = c.red;
      ds[this.series.length].backgroundColor = c.red;
    }
    applyAxisTheme(this.chart, c);
    this.chart.update();
  }
}

function applyAxisTheme(chart: Chart<never, never, never> | Chart<'line' | 'scatter', XY[]> | Chart<'bar', number[], string>, c: Colors): void {
  const scales = (chart.options.scales ?? {}) as Record<string, { ticks?: { color?: string }; grid?: { color?: string }; title?: { color?: string } }>;
  for (const axis of Object.values(scales)) {
    axis.ticks = { ...(axis.ticks ?? {}), color: c.fg };
    axis.grid = { ...(axis.grid ?? {}), color: c.grid };
    axis.title = { ...(axis.title ?? {}), color: c.fg };
  }
  const plugins = chart.options.plugins as { legend?: { labels?: { color?: string } } } | undefined;
  if (plugins?.legend) plugins.legend.labels = { ...(plugins.legend.labels ?? {}), color: c.fg };
  Chart.defaults.font.family = c.font;
}

function valueNear(points: readonly MetricsPoint[], t: number, value: (p: MetricsPoint) => number | null): number {
  let best: MetricsPoint | undefined;
  for (const p of points) if (!best || Math.abs(p.t - t) < Math.abs(best.t - t)) best = p;
  return (best && value(best)) ?? 0;
}

class MetricsPanel {
  private readonly api = new PanelApi<MetricsState>({ windowSec: 60 }, isMetricsState);
  private readonly bar = new SessionBar();
  private readonly tiles: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly exportButton: HTMLElement;
  private readonly status: HTMLElement;
  private readonly delayChart: TimeChart;
  private readonly syncChart: TimeChart;
  private readonly fpsChart: TimeChart;
  private readonly latencyChart: TimeChart;
  private readonly histChart: Chart<'bar', number[], string>;
  private points: MetricsPoint[] = [];
  private marks: DesyncMark[] = [];
  private summary: MetricsSummary | null = null;
  private delays: number[] = [];
  private session: SessionInfo | null = null;

  constructor(root: HTMLElement) {
    const windowSelect = h('vscode-single-select', { id: 'window', 'aria-label': 'Time window' },
      ...WINDOWS.map(([sec, label]) => h('vscode-option', { value: String(sec), selected: sec === this.api.state.windowSec }, label)));
    windowSelect.addEventListener('change', () => {
      this.api.update({ windowSec: Number((windowSelect as unknown as { value: string }).value) });
      this.renderCharts();
    });
    this.exportButton = h('vscode-button', { id: 'export-csv', secondary: true, disabled: true, title: 'Export the per-frame metrics window as CSV' }, 'Export CSV');
    this.exportButton.addEventListener('click', () => {
      this.status.textContent = 'Exporting…';
      this.api.post({ type: 'exportCsv' });
    });
    this.status = h('span', { id: 'export-status', class: 'muted' });
    this.tiles = h('div', { class: 'tiles', id: 'summary' });
    this.empty = h('div', { id: 'metrics-empty', class: 'empty' }, 'Waiting for a Lockstep session (F5)…');
    const canvas = (id: string, title: string) => {
      const c = h('canvas', { id, 'aria-label': title, role: 'img' });
      return { c, box: h('figure', { class: 'chart' }, h('figcaption', id === 'chart-sync' ? { title: GLOSSARY.syncQuality } : {}, title), h('div', { class: 'chart-box' }, c)) };
    };
    const delay = canvas('chart-delay', 'Frame delay (rolling p50 / p99 / max)');
    const sync = canvas('chart-sync', 'Sync quality (|screen − state| time)');
    const fps = canvas('chart-fps', 'Frames per second (of each run)');
    const latency = canvas('chart-latency', 'Agent latency');
    const hist = canvas('chart-hist', 'Frame delay histogram (metrics window)');
    root.append(
      h('div', { class: 'toolbar' }, this.bar.element, h('span', { class: 'spacer' }), h('label', { class: 'inline-label' }, 'Window'), windowSelect, this.exportButton, this.status),
      this.empty,
      this.tiles,
      h('div', { class: 'charts' }, delay.box, hist.box, sync.box, fps.box, latency.box),
    );
    const c = themeColors();
    this.delayChart = new TimeChart(delay.c, [
      { label: 'p50', color: c.blue, value: (p) => p.delayP50 },
      { label: 'p99', color: c.yellow, value: (p) => p.delayP99 },
      { label: 'max', color: c.orange, value: (p) => p.delayMax },
    ], 'ms', true);
    this.syncChart = new TimeChart(sync.c, [
      { label: 'avg', color: c.green, value: (p) => p.syncAvg },
      { label: 'p99', color: c.yellow, value: (p) => p.syncP99 },
    ], 'ms', true);
    this.fpsChart = new TimeChart(fps.c, [{ label: 'fps', color: c.blue, value: (p) => p.fps }], 'fps', true);
    this.latencyChart = new TimeChart(latency.c, [
      { label: 'p50', color: c.purple, value: (p) => p.latencyP50 },
      { label: 'p99', color: c.yellow, value: (p) => p.latencyP99 },
    ], 'ms', false);
    this.histChart = new Chart<'bar', number[], string>(hist.c, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'frames', data: [], borderWidth: 0, barPercentage: 1, categoryPercentage: 0.95, backgroundColor: c.blue }] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        scales: { x: { type: 'category', title: { display: true, text: 'frame delay (ms)' } }, y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'frames' } } },
        plugins: { legend: { display: false } },
      },
    });
    this.applyTheme();
    new MutationObserver(() => this.applyTheme()).observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
    this.renderSummary();

    startPanel('metrics', this.api, this.bar, {
      kinds: ['metrics', 'saved'],
      session: (s) => this.onSession(s),
      message: (m) => {
        switch (m.type) {
          case 'metrics':
            this.receive(m.update);
            this.api.post({ type: 'ack', seq: m.seq });
            return;
          case 'saved':
            this.status.textContent = m.error ? `Export failed: ${m.error}` : m.path ? `Saved ${m.path}` : 'Export cancelled';
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
    if (s?.id !== this.session?.id) {
      this.points = [];
      this.marks = [];
      this.delays = [];
      this.summary = null;
    }
    this.session = s;
    this.exportButton.toggleAttribute('disabled', !s);
    this.renderSummary();
    this.renderCharts();
  }

  private receive(u: MetricsUpdate): void {
    this.points = u.reset ? u.points.slice() : this.points.concat(u.points);
    if (this.points.length > MAX_POINTS) this.points.splice(0, this.points.length - MAX_POINTS);
    this.marks = u.desyncs;
    this.summary = u.summary;
    this.delays = u.delays;
    this.renderSummary();
    this.renderCharts();
  }

  private renderSummary(): void {
    const s = this.summary;
    this.empty.hidden = !!s && s.framesProcessed > 0;
    this.empty.textContent = !this.session ? 'Waiting for a Lockstep session (F5)…' : 'No frame processed yet.';
    const tile = (id: string, label: string, value: string, detail?: string, title?: string) =>
      h('div', { class: 'tile', id, title: title ?? null }, h('div', { class: 'tile-label' }, label), h('div', { class: 'tile-value' }, value), detail ? h('div', { class: 'tile-detail muted' }, detail) : null);
    if (!s) {
      this.tiles.replaceChildren();
      return;
    }
    const desyncTotal = Object.values(s.desyncs).reduce((a, b) => a + b, 0);
    const byType = Object.entries(s.desyncs).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`).join(' · ');
    this.tiles.replaceChildren(
      tile('tile-frames', 'Frames processed', String(s.framesProcessed), `window ${s.windowFrames}`, GLOSSARY.framesProcessed),
      tile('tile-fps', s.running ? 'FPS (this run)' : 'FPS (last run)', s.fps.toFixed(1), undefined, GLOSSARY.fps),
      tile('tile-desync-rate', 'Desync rate', percent(s.desyncRate), `${desyncTotal} desyncs${byType ? ': ' + byType : ''}`, GLOSSARY.desyncRate),
      tile('tile-delay', 'Frame delay avg / max', `${formatMs(s.frameDelay.avg)} / ${formatMs(s.frameDelay.max)}`, `p50 ${formatMs(s.frameDelay.p50)} · p99 ${formatMs(s.frameDelay.p99)}`, GLOSSARY.frameDelay),
      tile('tile-latency', 'Agent latency p50 / p99', `${formatMs(s.agentLatency.p50)} / ${formatMs(s.agentLatency.p99)}`, `max ${formatMs(s.agentLatency.max)}`, GLOSSARY.agentLatency),
      tile('tile-sync', 'Sync quality avg', s.syncQuality.samples ? formatMs(s.syncQuality.avg) : '—', s.syncQuality.samples ? `p99 ${formatMs(s.syncQuality.p99)} · ${s.syncQuality.samples} pairs` : 'no screen paired',
        s.syncQuality.samples ? GLOSSARY.syncQuality : GLOSSARY.noScreenPaired),
      ...s.clocks.map((c, i) => tile(`tile-clock-${i}`, `Clock offset ${c.peer}`,
        c.offsetMs === null ? '—' : `${c.offsetMs >= 0 ? '+' : ''}${formatMs(c.offsetMs)}`,
        c.rttMs === null ? 'not measured yet' : `round trip ${formatMs(c.rttMs)} · ${c.rounds} syncs`)),
    );
  }

  private renderCharts(): void {
    const last = this.points.length ? this.points[this.points.length - 1].t : 0;
    const w = this.api.state.windowSec;
    const xMin = w > 0 ? Math.max(0, last - w) : undefined;
    const shown = xMin === undefined ? this.points : this.points.filter((p) => p.t >= xMin);
    this.delayChart.update(shown, this.marks, xMin);
    this.syncChart.update(shown, this.marks, xMin);
    this.fpsChart.update(shown, this.marks, xMin);
    this.latencyChart.update(shown, [], xMin);
    const hist = histogram(this.delays, HISTOGRAM_BINS, 0.99);
    const digits = hist.width < 0.1 ? 3 : hist.width < 1 ? 2 : hist.width < 10 ? 1 : 0;
    this.histChart.data.labels = hist.edges.map((e, i) => (hist.overflow && i === hist.edges.length - 1 ? `≥${e.toFixed(digits)}` : e.toFixed(digits)));
    this.histChart.data.datasets[0].data = this.delays.length ? hist.counts : [];
    this.histChart.update('none');
    this.histChart.canvas.dataset.total = String(this.delays.length ? hist.counts.reduce((a, b) => a + b, 0) : 0);
  }

  private applyTheme(): void {
    const c = themeColors();
    const palette = (list: string[]) => (i: number) => list[i % list.length];
    this.delayChart.theme(c, palette([c.blue, c.yellow, c.orange]));
    this.syncChart.theme(c, palette([c.green, c.yellow]));
    this.fpsChart.theme(c, palette([c.blue]));
    this.latencyChart.theme(c, palette([c.purple, c.yellow]));
    const hd = this.histChart.data.datasets[0] as ChartDataset<'bar', number[]>;
    hd.backgroundColor = c.blue;
    applyAxisTheme(this.histChart, c);
    this.histChart.update();
  }
}

new MetricsPanel(byId('app'));
