// The divergence report: JSON for tools (CLI --json, the VS Code command), readable text, and the files written beside it (report, screens as PNG).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NES_HEIGHT, NES_WIDTH } from '../nes';
import { encodePng, sideBySide, type RgbaImage } from '../png';
import { hex4, pairText, type DivergenceResult, type SideSummary, type VarDiff } from './divergenceFinder';
import type { ReplayCounters } from './divergenceReplay';

export const DIVERGENCE_REPORT_FORMAT = 'lockstep-divergence';

/** Files a written report consists of (names relative to its folder). */
export interface DivergenceFiles {
  report: string;
  screens: { a: string; b: string; sideBySide: string } | null;
}

/** The report as JSON (what `lockstep diverge --json` prints and `divergence.json` holds). */
export interface DivergenceReportJson {
  format: typeof DIVERGENCE_REPORT_FORMAT;
  version: 1;
  diverged: boolean;
  message: string;
  /** Episode step (row) of the first diverging frame. */
  step: number | null;
  /** Its frame id on side A (see frames for B). */
  frame: number | null;
  frames: { a: number; b: number } | null;
  cause: DivergenceResult['cause'];
  compare: DivergenceResult['compare'];
  search: DivergenceResult['search'];
  a: SideSummary;
  b: SideSummary;
  /** Buttons of the diverging frame as FM2 text (controller 1|controller 2) and masks. */
  inputs: { a: string; b: string; masks: { a: number[]; b: number[] } } | null;
  bytes: Array<{ address: string; name: string | null; a: number; b: number; stack?: true }>;
  bytesCompared: number;
  vars: VarDiff[];
  /** Every RAM-map variable after the diverging frame, per side, where known. */
  varsAfter: { a: Record<string, number> | null; b: Record<string, number> | null };
  ramSource: { a: string | null; b: string | null };
  /** The 2 KB RAM after the diverging frame (at it, for a "start" divergence) as hex, where known. */
  ram: { a: string | null; b: string | null };
  around: Array<{ step: number; frames: { a: number; b: number }; a: string; b: string; differ: boolean }>;
  stepsCompared: number;
  replay: ReplayCounters;
  screens: DivergenceFiles['screens'];
  notes: string[];
}

/** The report as plain JSON (format lockstep-divergence, version 1). */
export function divergenceReportJson(r: DivergenceResult, files?: DivergenceFiles): DivergenceReportJson {
  return {
    format: DIVERGENCE_REPORT_FORMAT,
    version: 1,
    diverged: r.diverged,
    message: r.message,
    step: r.step,
    frame: r.frames ? r.frames[0] : null,
    frames: r.frames ? { a: r.frames[0], b: r.frames[1] } : null,
    cause: r.cause,
    compare: r.compare,
    search: r.search,
    a: r.a,
    b: r.b,
    inputs: r.inputs ? { a: pairText(r.inputs[0]), b: pairText(r.inputs[1]), masks: { a: [...r.inputs[0]], b: [...r.inputs[1]] } } : null,
    bytes: r.bytes.map((d) => ({ address: hex4(d.address), name: d.name, a: d.a, b: d.b, ...(d.stack ? { stack: true as const } : {}) })),
    bytesCompared: r.bytesCompared,
    vars: r.vars,
    varsAfter: { a: r.varsAfter[0], b: r.varsAfter[1] },
    ramSource: { a: r.ramSource[0], b: r.ramSource[1] },
    ram: { a: r.ram[0] ? Buffer.from(r.ram[0]).toString('hex') : null, b: r.ram[1] ? Buffer.from(r.ram[1]).toString('hex') : null },
    around: r.around.map((x) => ({ step: x.step, frames: { a: x.frames[0], b: x.frames[1] }, a: x.inputs[0], b: x.inputs[1], differ: x.differ })),
    stepsCompared: r.stepsCompared,
    replay: r.counters,
    screens: files?.screens ?? null,
    notes: r.notes,
  };
}

/** Several lines for a terminal: the answer, the bytes, the inputs around it, the notes. */
export function formatDivergenceText(r: DivergenceResult): string {
  const out = [`A: ${r.a.label} (${r.a.source}, ${r.a.emulator})`, `B: ${r.b.label} (${r.b.source}, ${r.b.emulator})`, r.message];
  if (r.bytes.length > 0) {
    out.push('', 'RAM bytes that differ (A / B):');
    for (const d of r.bytes.slice(0, 40)) {
      out.push(`  ${hex4(d.address)} ${(d.name ?? '').padEnd(12)} ${hexByte(d.a)} / ${hexByte(d.b)}${d.stack ? '  (stack: differs across emulators)' : ''}`);
    }
    if (r.bytes.length > 40) out.push(`  ... ${r.bytes.length - 40} more`);
  }
  if (r.around.length > 0) {
    out.push('', 'inputs around it (controller 1|controller 2):', '  step    frame A  frame B  A                   B');
    for (const x of r.around) {
      const mark = x.step === r.step ? '>' : x.differ ? '*' : ' ';
      out.push(`${mark} ${String(x.step).padEnd(7)} ${String(x.frames[0]).padEnd(8)} ${String(x.frames[1]).padEnd(8)} ${x.inputs[0]}   ${x.inputs[1]}`);
    }
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n') + '\n';
}

/** Writes `divergence.json` and, when both screens are known, the two screens and a side-by-side picture (A | B | where they differ). */
export async function writeDivergenceReport(r: DivergenceResult, dir: string): Promise<DivergenceFiles> {
  await mkdir(dir, { recursive: true });
  let screens: DivergenceFiles['screens'] = null;
  const [sa, sb] = r.screens;
  if (sa && sb) {
    const a = screenImage(sa);
    const b = screenImage(sb);
    screens = { a: 'divergence-a.png', b: 'divergence-b.png', sideBySide: 'divergence-side-by-side.png' };
    await writeFile(join(dir, screens.a), encodePng(a));
    await writeFile(join(dir, screens.b), encodePng(b));
    await writeFile(join(dir, screens.sideBySide), encodePng(sideBySide([a, b, differenceImage(a, b)])));
  }
  const files: DivergenceFiles = { report: 'divergence.json', screens };
  await writeFile(join(dir, files.report), JSON.stringify(divergenceReportJson(r, files), null, 2) + '\n');
  return files;
}

function screenImage(rgba: Uint8Array): RgbaImage {
  return { width: NES_WIDTH, height: NES_HEIGHT, pixels: rgba };
}

/** A's picture dimmed, with every pixel that differs in B drawn magenta. */
export function differenceImage(a: RgbaImage, b: RgbaImage): RgbaImage {
  const out = new Uint8Array(a.pixels.length);
  for (let i = 0; i < out.length; i += 4) {
    const same = a.pixels[i] === b.pixels[i] && a.pixels[i + 1] === b.pixels[i + 1] && a.pixels[i + 2] === b.pixels[i + 2];
    if (same) {
      out[i] = a.pixels[i] >> 2;
      out[i + 1] = a.pixels[i + 1] >> 2;
      out[i + 2] = a.pixels[i + 2] >> 2;
    } else {
      out[i] = 255;
      out[i + 1] = 0;
      out[i + 2] = 255;
    }
    out[i + 3] = 255;
  }
  return { width: a.width, height: a.height, pixels: out };
}

function hexByte(n: number): string {
  return '$' + n.toString(16).toUpperCase().padStart(2, '0');
}
