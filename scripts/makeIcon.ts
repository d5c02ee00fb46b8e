// Draws the extension's icon (media/icon.png): two interlocked frames in lockstep above an NES controller, as 64x64 pixel art scaled to 256x256.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { encodePng, type RgbaImage } from '../src/core/png';

export const ICON_GRID = 64;
export const ICON_SCALE = 4;

type Rgba = readonly [number, number, number, number];
const hex = (h: string, a = 255): Rgba => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16), a];

const C = {
  backdrop: hex('#1d1f2b'),
  rim: hex('#2f3450'),
  emulator: hex('#3fc8f0'),
  emulatorDark: hex('#1f7fa3'),
  agent: hex('#ffb454'),
  agentDark: hex('#b9772a'),
  body: hex('#c9c9cf'),
  bodyShade: hex('#9a9aa3'),
  face: hex('#17171b'),
  pad: hex('#4a4a52'),
  padLight: hex('#70707a'),
  padDark: hex('#35353b'),
  band: hex('#8d8d96'),
  bandStripe: hex('#6c6c75'),
  pill: hex('#202024'),
  buttonWell: hex('#b4b4bc'),
  red: hex('#e23b3b'),
  redLight: hex('#ff8080'),
  white: hex('#f4f4f8'),
};

/** A small pixel canvas at the drawing grid's resolution. */
class Grid {
  readonly px: Uint8Array;
  constructor(readonly size: number) {
    this.px = new Uint8Array(size * size * 4);
  }

  set(x: number, y: number, c: Rgba): void {
    if (x < 0 || y < 0 || x >= this.size || y >= this.size) return;
    this.px.set(c, (y * this.size + x) * 4);
  }

  /** Inclusive corners, as pixel art is laid out on paper. */
  rect(x0: number, y0: number, x1: number, y1: number, c: Rgba): void {
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) this.set(x, y, c);
  }

  roundRect(x0: number, y0: number, x1: number, y1: number, r: number, c: Rgba): void {
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const dx = x < x0 + r ? x0 + r - x - 0.5 : x > x1 - r ? x - (x1 - r) - 0.5 : 0;
        const dy = y < y0 + r ? y0 + r - y - 0.5 : y > y1 - r ? y - (y1 - r) - 0.5 : 0;
        if (dx * dx + dy * dy <= r * r) this.set(x, y, c);
      }
    }
  }

  disc(cx: number, cy: number, r: number, c: Rgba): void {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) this.set(x, y, c);
      }
    }
  }

  /** A square frame `t` pixels thick, with a darker inner edge so the strand reads as a band. */
  frame(x0: number, y0: number, x1: number, y1: number, t: number, c: Rgba, inner: Rgba): void {
    this.rect(x0, y0, x1, y0 + t - 1, c);
    this.rect(x0, y1 - t + 1, x1, y1, c);
    this.rect(x0, y0, x0 + t - 1, y1, c);
    this.rect(x1 - t + 1, y0, x1, y1, c);
    this.rect(x0 + t, y0 + t, x1 - t, y0 + t, inner);
    this.rect(x0 + t, y0 + t, x0 + t, y1 - t, inner);
  }
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function drawFrames(g: Grid): void {
  const t = 3;
  const a: Box = { x0: 6, y0: 5, x1: 35, y1: 27 };
  const b: Box = { x0: 28, y0: 11, x1: 57, y1: 33 };
  // Inside the emulator's frame: the demo game's falling item over its paddle; inside the agent's: the action it sends.
  g.rect(18, 11, 20, 13, C.white);
  g.rect(13, 20, 21, 21, C.white);
  g.frame(b.x0, b.y0, b.x1, b.y1, t, C.agent, C.agentDark);
  g.rect(45, 19, 46, 25, C.agent);
  g.rect(47, 20, 47, 24, C.agent);
  g.rect(48, 21, 48, 23, C.agent);
  g.rect(49, 22, 49, 22, C.agent);
  g.frame(a.x0, a.y0, a.x1, a.y1, t, C.emulator, C.emulatorDark);
  // Interlock: the agent's left strand passes over the emulator's bottom strand, with a backdrop gap on either side.
  const crossY0 = a.y1 - t + 1;
  g.rect(b.x0 - 1, crossY0, b.x0 - 1, a.y1, C.backdrop);
  g.rect(b.x0 + t, crossY0, b.x0 + t, a.y1, C.backdrop);
  g.rect(b.x0, crossY0 - 1, b.x0 + t - 1, a.y1 + 1, C.agent);
  // ...and the emulator's right strand passes over the agent's top strand.
  const crossX0 = a.x1 - t + 1;
  g.rect(crossX0, b.y0 - 1, a.x1, b.y0 - 1, C.backdrop);
  g.rect(crossX0, b.y0 + t, a.x1, b.y0 + t, C.backdrop);
  g.rect(crossX0, b.y0, a.x1, b.y0 + t - 1, C.emulator);
}

function drawController(g: Grid): void {
  g.roundRect(4, 37, 59, 59, 3, C.body);
  g.rect(6, 58, 57, 59, C.bodyShade);
  g.rect(8, 41, 55, 55, C.face);
  // D-pad
  g.rect(15, 43, 19, 53, C.pad);
  g.rect(12, 46, 22, 50, C.pad);
  g.rect(15, 43, 19, 43, C.padLight);
  g.rect(12, 46, 14, 46, C.padLight);
  g.rect(20, 46, 22, 46, C.padLight);
  g.rect(16, 47, 18, 49, C.padDark);
  // Select / Start band
  g.rect(26, 42, 37, 54, C.band);
  g.rect(26, 44, 37, 44, C.bandStripe);
  g.rect(26, 46, 37, 46, C.bandStripe);
  g.roundRect(27, 50, 30, 52, 1, C.pill);
  g.roundRect(33, 50, 36, 52, 1, C.pill);
  // B and A
  for (const x0 of [40, 48]) {
    g.roundRect(x0, 44, x0 + 6, 52, 1, C.buttonWell);
    g.disc(x0 + 3.5, 48.5, 3.4, C.red);
    g.rect(x0 + 2, 46, x0 + 3, 46, C.redLight);
    g.rect(x0 + 1, 47, x0 + 1, 48, C.redLight);
  }
}

/** The icon at ICON_GRID x ICON_SCALE pixels square, RGBA with transparent corners. */
export function drawIcon(): RgbaImage {
  const g = new Grid(ICON_GRID);
  g.roundRect(0, 0, ICON_GRID - 1, ICON_GRID - 1, 9, C.rim);
  g.roundRect(1, 1, ICON_GRID - 2, ICON_GRID - 2, 8, C.backdrop);
  drawFrames(g);
  drawController(g);

  const size = ICON_GRID * ICON_SCALE;
  const pixels = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = (Math.floor(y / ICON_SCALE) * ICON_GRID + Math.floor(x / ICON_SCALE)) * 4;
      pixels.set(g.px.subarray(from, from + 4), (y * size + x) * 4);
    }
  }
  return { width: size, height: size, pixels };
}

export function writeIcon(file: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, encodePng(drawIcon()));
  return file;
}

if (require.main === module) {
  console.log(`wrote ${writeIcon(resolve(__dirname, '..', 'media', 'icon.png'))}`);
}
