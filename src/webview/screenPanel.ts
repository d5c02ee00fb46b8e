// Screen panel webview: the live NES screen at integer scale with a frame/buttons/sync readout below it, pixel picker, PNG export, acks.
import './elements';
import { byId, h, imageDataOf } from './dom';
import { formatButtons, formatMs, hex } from './format';
import { GLOSSARY } from './glossary';
import { SessionBar, startPanel } from './panelShell';
import type { ScreenUpdate, SessionInfo } from './panelMessages';
import { screenScale } from './screenScale';
import { PanelApi, isRecord } from './vscodeApi';

interface ScreenState {
  scale: 'fit' | number;
  overlay: boolean;
  picked: { x: number; y: number } | null;
}

const SCALES: Array<'fit' | number> = ['fit', 1, 2, 3, 4, 5, 6];

function isScreenState(v: unknown): v is Partial<ScreenState> {
  return isRecord(v) && (v.scale === undefined || v.scale === 'fit' || typeof v.scale === 'number');
}

class ScreenPanel {
  private readonly api = new PanelApi<ScreenState>({ scale: 'fit', overlay: true, picked: null }, isScreenState);
  private readonly bar = new SessionBar();
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly stage: HTMLElement;
  private readonly frameBox: HTMLElement;
  private readonly overlay: HTMLElement;
  private readonly marker: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly status: HTMLElement;
  private readonly pixelInfo: HTMLElement;
  private readonly saveButton: HTMLElement;
  private image: ImageData | null = null;
  private shown: ScreenUpdate | null = null;
  private latest: { seq: number; update: ScreenUpdate } | null = null;
  private rafPending = false;
  private session: SessionInfo | null = null;
  private framesDrawn = 0;

  constructor(root: HTMLElement) {
    this.canvas = h('canvas', { id: 'screen', width: 256, height: 240, 'aria-label': 'NES screen', role: 'img' });
    const ctx = this.canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('no 2D canvas context');
    this.ctx = ctx;
    // Below the screen, not over it: any line of a game's picture may matter (status bars sit at the top or the bottom).
    this.overlay = h('div', { id: 'overlay', class: 'screen-overlay' });
    this.marker = h('div', { id: 'pick-marker', class: 'pick-marker', hidden: true });
    this.empty = h('div', { id: 'screen-empty', class: 'empty' }, 'Waiting for a Lockstep session (F5)…');
    this.frameBox = h('div', { class: 'screen-frame', id: 'screen-frame' }, this.canvas, this.marker);
    this.stage = h('div', { class: 'screen-stage', id: 'stage' }, this.frameBox, this.empty);

    const scaleSelect = h('vscode-single-select', { id: 'scale', 'aria-label': 'Scale' },
      ...SCALES.map((s) => h('vscode-option', { value: String(s), selected: String(s) === String(this.api.state.scale) }, s === 'fit' ? 'Fit' : `${s}×`)));
    scaleSelect.addEventListener('change', () => {
      const v = (scaleSelect as unknown as { value: string }).value;
      this.api.update({ scale: v === 'fit' ? 'fit' : Number(v) });
      this.layout();
    });
    const overlayBox = h('vscode-checkbox', { id: 'overlay-toggle', label: 'Frame info', title: 'Show the frame, buttons and sync quality under the screen', checked: this.api.state.overlay });
    overlayBox.addEventListener('change', () => {
      this.api.update({ overlay: (overlayBox as unknown as { checked: boolean }).checked });
      this.renderOverlay();
    });
    this.saveButton = h('vscode-button', { id: 'save-png', secondary: true, disabled: true, title: 'Save the frame shown as a PNG file' }, 'Save PNG');
    this.saveButton.addEventListener('click', () => void this.savePng());

    this.pixelInfo = h('span', { id: 'pixel-info' }, 'Click the screen to inspect a pixel');
    this.status = h('span', { id: 'stream-status', class: 'muted', title: GLOSSARY.dropped });
    root.append(
      h('div', { class: 'toolbar' }, this.bar.element, h('span', { class: 'spacer' }), h('label', { class: 'inline-label' }, 'Scale'), scaleSelect, overlayBox, this.saveButton),
      this.stage,
      this.overlay,
      h('div', { class: 'statusline' }, this.pixelInfo, h('span', { class: 'spacer' }), this.status),
    );
    this.canvas.addEventListener('click', (e) => this.pick(e));
    new ResizeObserver(() => this.layout()).observe(this.stage);
    matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener('change', () => this.layout());
    this.layout();

    startPanel('screen', this.api, this.bar, {
      kinds: ['screen', 'saved'],
      session: (s) => this.onSession(s),
      message: (m) => {
        switch (m.type) {
          case 'screen':
            this.receive(m.seq, m.update);
            return;
          case 'saved':
            this.status.textContent = m.error ? `Save failed: ${m.error}` : m.path ? `Saved ${m.path}` : 'Save cancelled';
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
      this.shown = null;
      this.image = null;
      this.framesDrawn = 0;
      this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    }
    this.updateEmpty();
    this.renderOverlay();
  }

  /** Frames are drawn once per animation frame (the newest wins) and acknowledged after drawing. */
  private receive(seq: number, update: ScreenUpdate): void {
    this.latest = { seq, update };
    if (this.rafPending) return;
    this.rafPending = true;
    requestAnimationFrame(() => {
      this.rafPending = false;
      const l = this.latest;
      if (!l) return;
      this.latest = null;
      this.draw(l.update);
      this.api.post({ type: 'ack', seq: l.seq });
    });
  }

  private draw(u: ScreenUpdate): void {
    this.shown = u;
    if (u.pixels && u.pixels.length === u.width * u.height * 4) {
      if (this.canvas.width !== u.width || this.canvas.height !== u.height) {
        this.canvas.width = u.width;
        this.canvas.height = u.height;
        this.layout();
      }
      this.image = imageDataOf(u.pixels, u.width, u.height);
      this.ctx.putImageData(this.image, 0, 0);
      this.framesDrawn++;
    }
    this.canvas.dataset.frame = String(u.frame);
    this.updateEmpty();
    this.renderOverlay();
    this.renderPick();
    this.status.textContent = `frame ${u.frame} · dropped ${u.dropped}`;
    this.status.title = GLOSSARY.dropped;
  }

  private updateEmpty(): void {
    const s = this.session;
    let text: string | null = null;
    if (!s) text = 'Waiting for a Lockstep session (F5)…';
    else if (!s.screens && s.screensOff) text = 'This session captures no screens: its launch configuration sets "captureScreens": false (remove it to see the game).';
    else if (!s.screens) text = s.live ? 'Switching screen capture on…' : 'This session captured no screens.';
    else if (!this.shown) text = 'Waiting for the first frame…';
    this.empty.hidden = text === null;
    this.empty.textContent = text ?? '';
    this.saveButton.toggleAttribute('disabled', !this.image);
  }

  private renderOverlay(): void {
    const u = this.shown;
    this.overlay.hidden = !this.api.state.overlay || !u;
    if (!u) return;
    const lines: Array<HTMLElement> = [
      h('div', { class: 'ov-frame' }, `F ${u.frame}`, h('span', { class: 'muted' }, `  ep ${u.episode} · step ${u.step}`)),
      h('div', {}, `P1 ${formatButtons(u.buttons[0])}   P2 ${formatButtons(u.buttons[1])}`),
      h('div', { class: 'ov-sync', title: u.syncQualityMs === null ? GLOSSARY.noScreenPaired : GLOSSARY.syncQuality },
        u.syncQualityMs === null ? 'sync quality: no screen paired' : `sync quality ${formatMs(u.syncQualityMs)}`, u.speculative ? '  speculative' : '', u.lag ? '  lag' : ''),
    ];
    if (u.desync.length) lines.push(h('div', { class: 'ov-desync' }, `desync: ${u.desync.join(', ')}`));
    this.overlay.replaceChildren(...lines);
  }

  private layout(): void {
    const box = this.stage.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const s = screenScale(this.api.state.scale, Math.max(1, box.width - 16), Math.max(1, box.height - 16), dpr, this.canvas.width, this.canvas.height);
    this.canvas.style.width = `${s.cssWidth}px`;
    this.canvas.style.height = `${s.cssHeight}px`;
    this.canvas.dataset.scale = String(s.factor);
    // Centred by hand and snapped to whole device pixels: a half-pixel offset would blur every NES pixel edge.
    const left = Math.max(0, Math.floor((box.width - s.cssWidth) / 2));
    const top = Math.max(0, Math.floor((box.height - s.cssHeight) / 2));
    const snap = (v: number) => (Math.round(v * dpr) - v * dpr) / dpr;
    this.frameBox.style.marginLeft = `${left + snap(box.left + left)}px`;
    this.frameBox.style.marginTop = `${top + snap(box.top + top)}px`;
    this.renderPick();
  }

  private pick(e: MouseEvent): void {
    const r = this.canvas.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) / r.width) * this.canvas.width);
    const y = Math.floor(((e.clientY - r.top) / r.height) * this.canvas.height);
    if (x < 0 || y < 0 || x >= this.canvas.width || y >= this.canvas.height) return;
    this.api.update({ picked: { x, y } });
    this.renderPick();
  }

  private renderPick(): void {
    const p = this.api.state.picked;
    if (!p || !this.image || p.x >= this.image.width || p.y >= this.image.height) {
      this.marker.hidden = true;
      return;
    }
    const i = (p.y * this.image.width + p.x) * 4;
    const [r, g, b] = [this.image.data[i], this.image.data[i + 1], this.image.data[i + 2]];
    const swatch = h('span', { class: 'swatch' });
    swatch.style.background = `rgb(${r}, ${g}, ${b})`;
    this.pixelInfo.replaceChildren(swatch, `x ${p.x}, y ${p.y}  rgb(${r}, ${g}, ${b})  #${hex(r, 2)}${hex(g, 2)}${hex(b, 2)}`);
    this.pixelInfo.dataset.rgb = `${r},${g},${b}`;
    const cw = parseFloat(this.canvas.style.width) / this.canvas.width;
    const ch = parseFloat(this.canvas.style.height) / this.canvas.height;
    this.marker.hidden = false;
    this.marker.style.left = `${p.x * cw}px`;
    this.marker.style.top = `${p.y * ch}px`;
    this.marker.style.width = `${cw}px`;
    this.marker.style.height = `${ch}px`;
  }

  /** PNG of the frame shown, at its native size (the scaled view is the browser's business). */
  private async savePng(): Promise<void> {
    const u = this.shown;
    if (!u || !this.image) return;
    const blob = await new Promise<Blob | null>((resolve) => this.canvas.toBlob(resolve, 'image/png'));
    if (!blob) {
      this.status.textContent = 'Could not encode the frame as PNG';
      return;
    }
    this.status.textContent = `Saving frame ${u.frame}…`;
    this.api.post({ type: 'savePng', frame: u.frame, png: new Uint8Array(await blob.arrayBuffer()) });
  }
}

new ScreenPanel(byId('app'));
