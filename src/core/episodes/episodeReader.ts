// Reads recorded episodes (manifest, per-frame rows, optional snapshot sidecar) and bare .fm2 movies: what the divergence finder and reference tracks compare.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ButtonPair } from '../buttons';
import { parseFm2 } from './fm2';
import { parseSnapshotSidecar, type SnapshotCheckpoint, type SnapshotSidecarHeader } from './snapshotSidecar';
import type { EmulatorKind } from '../ports';

/** One recorded frame (a JSONL row): what the frame started from and the buttons it ran with. */
export interface RecordedStep {
  frame: number;
  actions: [number, number];
  /** RAM fingerprint of the state the frame started from (16 hex digits). */
  ramHash: string | null;
  screenHash: string | null;
  vars: Record<string, number>;
}

export interface RecordedEpisode {
  kind: 'recording';
  manifestPath: string;
  /** Short name for messages: `<folder>/episode-0003`. */
  label: string;
  episode: number;
  emulator: EmulatorKind;
  reason: string;
  rom: { name: string; md5: string; md5NoHeader: string; mapper: number };
  startFrame: number;
  terminationFrame: number;
  /** Blank FM2 lines before step 0 (power-on and warmup): step s is movie line leadIn + s on either emulator. */
  leadIn: number;
  steps: RecordedStep[];
  /** Fingerprint of the RAM after the last step ran. */
  finalRamFingerprint: string;
  finalRamSha256NoStack: string;
  /** False when RAM was edited during the episode (its inputs do not reproduce it). */
  exact: boolean;
  fm2Path: string;
  /** The snapshot sidecar, read on first use. */
  snapshots?: SnapshotSidecarRef;
}

export interface SnapshotSidecarRef {
  path: string;
  steps: number[];
  load(): Promise<{ header: SnapshotSidecarHeader; checkpoints: SnapshotCheckpoint[] }>;
}

/** A movie without a manifest: inputs only, replayed live. */
export interface MovieInputs {
  kind: 'movie';
  path: string;
  label: string;
  /** Every input line, from power-on. */
  lines: ButtonPair[];
  romMd5NoHeader?: string;
}

/**
 * Finds the episode manifest a path means: a recording folder (its `session.json`, else its `episode-NNNN.json` files;
 * `episode` picks one, default the first), a manifest, or a sibling of one (`.jsonl`, `.csv`, `.fm2`, `.snapshots.jsonl`).
 * Returns undefined for an `.fm2` without a manifest beside it (a bare movie).
 */
export async function findManifest(path: string, episode?: number): Promise<string | undefined> {
  const abs = resolve(path);
  const st = await stat(abs).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`recording not found: ${path} (${e.code ?? e.message})`);
  });
  if (st.isDirectory()) {
    const manifests = await episodeManifests(abs);
    if (manifests.length === 0) throw new Error(`${path} holds no finished episode (no episode-NNNN.json manifest)`);
    if (episode === undefined) return manifests[0].path;
    const hit = manifests.find((m) => m.episode === episode);
    if (!hit) throw new Error(`${path} has no episode ${episode} (episodes: ${manifests.map((m) => m.episode).join(', ')})`);
    return hit.path;
  }
  const name = basename(abs);
  if (name === 'session.json') return findManifest(dirname(abs), episode);
  const m = /^(.*?)(\.snapshots\.jsonl|\.jsonl\.partial|\.jsonl|\.csv|\.fm2|\.json)$/i.exec(abs);
  if (!m) throw new Error(`${path} is not a recording: give a recording folder, an episode-NNNN.json manifest, or an .fm2 movie`);
  const manifest = `${m[1]}.json`;
  const exists = await stat(manifest).then((s) => s.isFile(), () => false);
  if (exists) return manifest;
  if (m[2].toLowerCase() === '.fm2') return undefined;
  throw new Error(`${path}: no episode manifest ${basename(manifest)} beside it (the episode did not finish, or this is not a Lockstep recording)`);
}

/** Every episode manifest in a recording folder, in episode order. */
export async function episodeManifests(folder: string): Promise<Array<{ episode: number; path: string }>> {
  const names = await readdir(folder);
  const out: Array<{ episode: number; path: string }> = [];
  for (const n of names) {
    const m = /^episode-(\d+)\.json$/.exec(n);
    if (m) out.push({ episode: Number(m[1]), path: join(folder, n) });
  }
  return out.sort((a, b) => a.episode - b.episode);
}

export async function loadRecordedEpisode(manifestPath: string): Promise<RecordedEpisode> {
  const text = await readText(manifestPath, 'episode manifest');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${manifestPath}: not JSON (${(e as Error).message})`);
  }
  const m = raw as Record<string, unknown>;
  const fail = (msg: string): never => {
    throw new Error(`${manifestPath}: ${msg}`);
  };
  if (!m || typeof m !== 'object' || m.format !== 'lockstep-episode') fail(`not a Lockstep episode manifest (format must be "lockstep-episode", got ${JSON.stringify(m?.format)})`);
  const int = (k: string): number => {
    const v = m[k];
    if (!Number.isSafeInteger(v)) fail(`${k} must be an integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const emulator = m.emulator;
  if (emulator !== 'embedded' && emulator !== 'fceux') fail(`emulator must be "embedded" or "fceux", got ${JSON.stringify(emulator)}`);
  const rom = m.rom as Record<string, unknown> | undefined;
  if (!rom || typeof rom.md5 !== 'string') fail('rom.md5 is missing');
  const fm2 = (m.fm2 ?? {}) as Record<string, unknown>;
  const files = (m.files ?? {}) as Record<string, unknown>;
  const folder = dirname(manifestPath);
  const base = basename(manifestPath, '.json');
  const rows = int('rows');
  const startFrame = int('startFrame');
  const jsonlPath = join(folder, typeof files.jsonl === 'string' ? files.jsonl : `${base}.jsonl`);
  const steps = parseRows(await readText(jsonlPath, 'episode rows'), jsonlPath, startFrame);
  if (steps.length !== rows) fail(`says ${rows} rows but ${basename(jsonlPath)} has ${steps.length}`);
  const leadIn = Number.isSafeInteger(fm2.leadIn) ? (fm2.leadIn as number) : (emulator === 'embedded' ? startFrame + 1 : startFrame);
  const snap = m.snapshots as Record<string, unknown> | undefined;
  let snapshots: SnapshotSidecarRef | undefined;
  if (snap && typeof snap.file === 'string') {
    const path = join(folder, snap.file);
    const sidecarSteps = Array.isArray(snap.steps) ? (snap.steps as unknown[]).filter((s): s is number => Number.isSafeInteger(s)) : [];
    let cached: Promise<{ header: SnapshotSidecarHeader; checkpoints: SnapshotCheckpoint[] }> | undefined;
    snapshots = {
      path,
      steps: sidecarSteps,
      load: () => (cached ??= readText(path, 'snapshot sidecar').then((t) => parseSnapshotSidecar(t, path))),
    };
  }
  return {
    kind: 'recording',
    manifestPath,
    label: `${basename(folder)}/${base}`,
    episode: int('episode'),
    emulator: emulator as EmulatorKind,
    reason: String(m.reason ?? ''),
    rom: { name: String(rom!.name ?? ''), md5: rom!.md5 as string, md5NoHeader: String(rom!.md5NoHeader ?? ''), mapper: Number(rom!.mapper ?? 0) },
    startFrame,
    terminationFrame: int('terminationFrame'),
    leadIn,
    steps,
    finalRamFingerprint: String(m.finalRamFingerprint ?? ''),
    finalRamSha256NoStack: String(m.finalRamSha256NoStack ?? ''),
    exact: fm2.exact !== false,
    fm2Path: join(folder, typeof files.fm2 === 'string' ? files.fm2 : `${base}.fm2`),
    snapshots,
  };
}

/** The input lines of a recorded episode as a movie from power-on (the .fm2's lines, rebuilt from the rows). */
export function recordingLines(rec: RecordedEpisode): ButtonPair[] {
  const lines: ButtonPair[] = [];
  for (let i = 0; i < rec.leadIn; i++) lines.push([0, 0]);
  for (const s of rec.steps) lines.push(s.actions);
  return lines;
}

export async function loadMovie(path: string): Promise<MovieInputs> {
  const abs = resolve(path);
  const movie = parseFm2(await readText(abs, 'FM2 movie'), abs);
  const checksum = movie.header.romChecksum;
  let romMd5NoHeader: string | undefined;
  if (checksum?.startsWith('base64:')) romMd5NoHeader = Buffer.from(checksum.slice(7), 'base64').toString('hex');
  return { kind: 'movie', path: abs, label: basename(abs), lines: movie.frames.map((f) => f.ports), romMd5NoHeader };
}

function parseRows(text: string, file: string, startFrame: number): RecordedStep[] {
  const out: RecordedStep[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    const frame = o.frame;
    const actions = o.actions;
    if (!Number.isSafeInteger(frame)) throw new Error(`${file}:${i + 1}: frame must be an integer, got ${JSON.stringify(frame)}`);
    if (frame !== startFrame + out.length) throw new Error(`${file}:${i + 1}: frame ${frame} out of order (expected ${startFrame + out.length})`);
    if (!Array.isArray(actions) || actions.length !== 2 || !actions.every((a) => Number.isInteger(a) && a >= 0 && a <= 255)) {
      throw new Error(`${file}:${i + 1}: actions must be two button masks, got ${JSON.stringify(actions)}`);
    }
    out.push({
      frame: frame as number,
      actions: [actions[0] as number, actions[1] as number],
      ramHash: typeof o.ramHash === 'string' ? o.ramHash : null,
      screenHash: typeof o.screenHash === 'string' ? o.screenHash : null,
      vars: o.vars && typeof o.vars === 'object' ? (o.vars as Record<string, number>) : {},
    });
  }
  return out;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${what} not readable: ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
