// Snapshot sidecar files of a recording: the machine states (from a StateExporter) it can restart from, one JSON line each.
import type { EmulatorKind } from '../ports';

export const SNAPSHOT_SIDECAR_FORMAT = 'lockstep-snapshots';

/** First line of a sidecar: what the states are and where they belong. */
export interface SnapshotSidecarHeader {
  format: typeof SNAPSHOT_SIDECAR_FORMAT;
  version: 1;
  episode: number;
  emulator: EmulatorKind;
  /** The StateExporter.stateFormat of every state below. */
  stateFormat: string;
  romMd5: string;
}

/** One checkpoint: the machine state episode step `step` (frame `frame`) started from. */
export interface SnapshotCheckpoint {
  step: number;
  frame: number;
  /** The row's RAM fingerprint at that step (16 hex digits), so a restored state can be checked. */
  ramHash: string | null;
  state: Uint8Array;
}

export function encodeSnapshotSidecar(header: SnapshotSidecarHeader, checkpoints: readonly SnapshotCheckpoint[]): string {
  const lines = [JSON.stringify(header)];
  for (const c of checkpoints) {
    lines.push(JSON.stringify({ step: c.step, frame: c.frame, ramHash: c.ramHash, state: Buffer.from(c.state.buffer, c.state.byteOffset, c.state.byteLength).toString('base64') }));
  }
  return lines.join('\n') + '\n';
}

/** Parses a sidecar; every error names the file and the line. */
export function parseSnapshotSidecar(text: string, fileName: string): { header: SnapshotSidecarHeader; checkpoints: SnapshotCheckpoint[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const fail = (line: number, msg: string): never => {
    throw new Error(`${fileName}:${line}: ${msg}`);
  };
  if (lines.length === 0) fail(1, 'empty snapshot sidecar');
  const parse = (i: number): Record<string, unknown> => {
    let v: unknown;
    try {
      v = JSON.parse(lines[i]);
    } catch (e) {
      fail(i + 1, `not JSON: ${(e as Error).message}`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) fail(i + 1, 'expected a JSON object');
    return v as Record<string, unknown>;
  };
  const h = parse(0);
  if (h.format !== SNAPSHOT_SIDECAR_FORMAT) fail(1, `format must be "${SNAPSHOT_SIDECAR_FORMAT}", got ${JSON.stringify(h.format)}`);
  if (h.version !== 1) fail(1, `version must be 1, got ${JSON.stringify(h.version)}`);
  if (h.emulator !== 'embedded' && h.emulator !== 'fceux') fail(1, `emulator must be "embedded" or "fceux", got ${JSON.stringify(h.emulator)}`);
  if (typeof h.stateFormat !== 'string' || h.stateFormat === '') fail(1, 'stateFormat must be a non-empty string');
  if (!Number.isSafeInteger(h.episode)) fail(1, `episode must be an integer, got ${JSON.stringify(h.episode)}`);
  const header: SnapshotSidecarHeader = {
    format: SNAPSHOT_SIDECAR_FORMAT, version: 1, episode: h.episode as number, emulator: h.emulator as EmulatorKind,
    stateFormat: h.stateFormat as string, romMd5: typeof h.romMd5 === 'string' ? h.romMd5 : '',
  };
  const checkpoints: SnapshotCheckpoint[] = [];
  for (let i = 1; i < lines.length; i++) {
    const o = parse(i);
    if (!Number.isSafeInteger(o.step) || (o.step as number) < 0) fail(i + 1, `step must be a whole number >= 0, got ${JSON.stringify(o.step)}`);
    if (!Number.isSafeInteger(o.frame)) fail(i + 1, `frame must be an integer, got ${JSON.stringify(o.frame)}`);
    if (o.ramHash !== null && typeof o.ramHash !== 'string') fail(i + 1, 'ramHash must be a string or null');
    if (typeof o.state !== 'string' || o.state === '') fail(i + 1, 'state must be base64 text');
    const prev = checkpoints[checkpoints.length - 1];
    if (prev && (o.step as number) <= prev.step) fail(i + 1, `steps must increase, got ${o.step} after ${prev.step}`);
    checkpoints.push({ step: o.step as number, frame: o.frame as number, ramHash: (o.ramHash as string | null) ?? null, state: new Uint8Array(Buffer.from(o.state as string, 'base64')) });
  }
  return { header, checkpoints };
}
