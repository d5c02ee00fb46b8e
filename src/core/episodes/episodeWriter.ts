// Writes recorded episodes as files: a JSONL journal made durable as it grows, then JSONL, CSV, an FM2 movie and a manifest, each atomically.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, truncate } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { maskToFm2, type ButtonPair } from '../buttons';
import { fm2LineForFrame, writeFm2 } from './fm2';
import { ramHash, ramHashNoStack, shortHash } from './ramHash';
import type { RamMap } from '../config/ramMap';
import type { FrameRow } from '../runtime/rows';
import type { EmulatorKind, RomInfo } from '../ports';
import { EpisodeRecorder, type EpisodeWriter, type FinishedEpisode } from './episodeRecorder';
import { encodeSnapshotSidecar, SNAPSHOT_SIDECAR_FORMAT, type SnapshotCheckpoint } from './snapshotSidecar';


/** File access the exporter needs; injected so tests can watch writes or make them fail. */
export interface EpisodeFiles {
  mkdir(dir: string): Promise<void>;
  /** Appends data and makes it durable (fsync) before resolving; `create` starts the file afresh. */
  appendDurable(path: string, data: string, create: boolean): Promise<void>;
  truncate(path: string, size: number): Promise<void>;
  /** Replaces a file all at once: temporary file beside it, fsync, rename over the target. */
  writeAtomic(path: string, data: string): Promise<void>;
  /** Atomic rename (same folder), made durable. */
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
}

/** EpisodeFiles on node:fs/promises. */
export function nodeEpisodeFiles(): EpisodeFiles {
  const syncDir = async (dir: string) => {
    // Makes a rename survive a power cut; some platforms cannot open folders, and there the rename is all we can do.
    try {
      const d = await open(dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      /* not supported here */
    }
  };
  return {
    async mkdir(dir) {
      await mkdir(dir, { recursive: true });
    },
    async appendDurable(path, data, create) {
      const fh = await open(path, create ? 'w' : 'a');
      try {
        await fh.writeFile(data, 'utf8');
        await fh.datasync();
      } finally {
        await fh.close();
      }
      if (create) await syncDir(dirname(path));
    },
    async truncate(path, size) {
      await truncate(path, size);
    },
    async writeAtomic(path, data) {
      const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        const fh = await open(tmp, 'wx');
        try {
          await fh.writeFile(data, 'utf8');
          await fh.datasync();
        } finally {
          await fh.close();
        }
        await rename(tmp, path);
      } catch (e) {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw e;
      }
      await syncDir(dirname(path));
    },
    async rename(from, to) {
      await rename(from, to);
      await syncDir(dirname(to));
    },
    async remove(path) {
      await rm(path, { force: true });
    },
  };
}

/** One JSONL line's object: everything a dataset reader needs about one frame. */
export function rowToRecord(row: FrameRow): Record<string, unknown> {
  return {
    episode: row.episode,
    step: row.step,
    frame: row.frame,
    timestamp: row.timestamp,
    actions: [row.buttons[0], row.buttons[1]],
    buttons: [maskToFm2(row.buttons[0]), maskToFm2(row.buttons[1])],
    reward: [row.rewards[0], row.rewards[1]],
    terminated: row.terminated,
    truncated: row.truncated,
    info: row.info,
    wasSpeculative: row.wasSpeculative,
    held: [row.held[0], row.held[1]],
    manual: [row.manual[0], row.manual[1]],
    agentLatencyMs: [roundMs(row.agentLatencyMs[0]), roundMs(row.agentLatencyMs[1])],
    ramHash: row.ramFingerprint ?? null,
    screenHash: row.screenFingerprint ?? null,
    vars: row.vars,
  };
}

export interface EpisodeManifest {
  format: 'lockstep-episode';
  version: 1;
  episode: number;
  reason: string;
  rows: number;
  startFrame: number;
  /** First frame not in the episode; rows are frames startFrame .. terminationFrame-1. */
  terminationFrame: number;
  returns: [number, number];
  /** SHA-256 of the 2 KB work RAM at the termination frame (after the last row's frame ran). */
  finalRamSha256: string;
  finalRamFingerprint: string;
  /**
   * The same without the CPU stack page ($0100-$01FF). The stack holds the return address and flags an NMI pushed, which
   * depend on the emulator's CPU timing (jsnes is not cycle-exact), so another emulator replaying the movie matches this.
   */
  finalRamSha256NoStack: string;
  /**
   * RAM-map variables at the termination frame: the state the last row's step leads to, which no row holds (rows stay
   * maxSteps). A trainer's final observation; absent in recordings made before it was kept.
   */
  finalVars?: Record<string, number>;
  speculativeRows: number;
  speculativeDiscarded: number;
  droppedPastTermination: number;
  emulator: EmulatorKind;
  rom: { name: string; md5: string; md5NoHeader: string; mapper: number };
  files: { jsonl: string; csv: string; fm2: string };
  fm2: {
    /** Input lines; FCEUX has replayed the whole movie when emu.framecount() equals this. */
    lines: number;
    /** Blank lines before the episode's first input (power-on and warmup frames). */
    leadIn: number;
    firstInputLine: number;
    /** False when the episode's state was edited outside its inputs (RAM writes): the movie will not reproduce it. */
    exact: boolean;
    externalEdits: string[];
  };
  /** The snapshot sidecar (machine states every N steps), when the run took them (`lockstep run --snapshots N`). */
  snapshots?: { file: string; stateFormat: string; steps: number[] };
  writtenAt: string;
}

export interface EpisodeExporterOptions {
  folder: string;
  rom: RomInfo;
  /** Gives the CSV its variable columns in RAM-map order; without it they come from the first row. */
  ramMap?: RamMap;
  emulator: EmulatorKind;
  files?: EpisodeFiles;
  guid?: () => string;
  now?: () => Date;
}

export class EpisodeExporter implements EpisodeWriter {
  readonly folder: string;
  private readonly files: EpisodeFiles;
  private readonly guid: () => string;
  private readonly now: () => Date;
  /** Byte offset where each journaled row starts (plus the end), per open episode: step back cuts the journal there. */
  private readonly offsets = new Map<number, number[]>();
  private readonly manifests: EpisodeManifest[] = [];
  private sessionMeta: Record<string, unknown> = {};

  constructor(private readonly options: EpisodeExporterOptions) {
    this.folder = options.folder;
    this.files = options.files ?? nodeEpisodeFiles();
    this.guid = options.guid ?? (() => randomUUID().toUpperCase());
    this.now = options.now ?? (() => new Date());
  }

  paths(episode: number): { jsonl: string; partial: string; csv: string; fm2: string; manifest: string; snapshots: string } {
    const base = join(this.folder, `episode-${String(episode).padStart(4, '0')}`);
    return { jsonl: `${base}.jsonl`, partial: `${base}.jsonl.partial`, csv: `${base}.csv`, fm2: `${base}.fm2`, manifest: `${base}.json`, snapshots: `${base}.snapshots.jsonl` };
  }

  /** Creates the folder and writes session.json (what was recorded, with what). */
  async begin(meta: Record<string, unknown> = {}): Promise<void> {
    await this.files.mkdir(this.folder);
    await this.writeSession(meta);
  }

  async appendRows(episode: number, rows: readonly FrameRow[], firstIndex: number): Promise<void> {
    let offs = this.offsets.get(episode);
    const create = firstIndex === 0;
    if (create) offs = [0];
    if (!offs || offs.length - 1 !== firstIndex) {
      throw new Error(`episode ${episode}: journal holds ${offs ? offs.length - 1 : 0} rows, cannot append row ${firstIndex}`);
    }
    let text = '';
    let at = offs[offs.length - 1];
    for (const row of rows) {
      const line = JSON.stringify(rowToRecord(row)) + '\n';
      text += line;
      at += Buffer.byteLength(line, 'utf8');
      offs.push(at);
    }
    this.offsets.set(episode, offs);
    await this.files.appendDurable(this.paths(episode).partial, text, create);
  }

  async truncateRows(episode: number, kept: number): Promise<void> {
    const offs = this.offsets.get(episode);
    if (!offs || kept >= offs.length - 1) return;
    await this.files.truncate(this.paths(episode).partial, offs[kept]);
    offs.length = kept + 1;
  }

  async finishEpisode(ep: FinishedEpisode): Promise<EpisodeManifest> {
    const rows = ep.rows;
    const startFrame = rows[0]?.frame ?? ep.end.startFrame;
    rows.forEach((r, i) => {
      if (r.frame !== startFrame + i) {
        throw new Error(`episode ${ep.episode}: rows are not consecutive frames (row ${i} is frame ${r.frame}, expected ${startFrame + i}); no movie can replay it`);
      }
    });
    const p = this.paths(ep.episode);

    // JSONL: bring the journal up to date (rewriting lines that changed at the end), then rename it into place.
    const journaled = this.offsets.get(ep.episode) ? (this.offsets.get(ep.episode)!.length - 1) : 0;
    const from = Math.min(journaled, ep.rewriteFrom, ep.journaled);
    if (from < journaled) await this.truncateRows(ep.episode, from);
    await this.appendRows(ep.episode, rows.slice(from), from);
    await this.files.rename(p.partial, p.jsonl);
    this.offsets.delete(ep.episode);

    await this.files.writeAtomic(p.csv, this.csv(rows));

    const leadIn = fm2LineForFrame(this.options.emulator, startFrame);
    const frames: ButtonPair[] = [];
    for (let i = 0; i < leadIn; i++) frames.push([0, 0]);
    for (const r of rows) frames.push(r.buttons);
    const exact = ep.externalEdits.length === 0;
    const romFilename = basename(this.options.rom.name, extname(this.options.rom.name));
    await this.files.writeAtomic(p.fm2, writeFm2({
      romFilename,
      romMd5NoHeaderHex: this.options.rom.md5NoHeader,
      guid: this.guid(),
      frames,
      comment: [
        'author Lockstep',
        `lockstep episode ${ep.episode}: frames ${startFrame}-${startFrame + rows.length - 1} (${rows.length} rows), ended by ${ep.end.reason} at frame ${ep.terminationFrame}`,
        `lockstep ${this.options.emulator} frame id F is input line ${fm2LineForFrame(this.options.emulator, 0)}+F; the first ${leadIn} lines are power-on and warmup with no buttons`,
        ...(exact ? [] : ['lockstep warning: RAM was edited during this episode, so this movie does not reproduce it']),
      ],
    }));

    // Rows carry a machine state every N steps when the run took them: they go to a sidecar, never into the JSONL.
    const checkpoints: SnapshotCheckpoint[] = [];
    let stateFormat = '';
    rows.forEach((r, i) => {
      if (!r.checkpoint) return;
      if (stateFormat && r.checkpoint.format !== stateFormat) throw new Error(`episode ${ep.episode}: machine states in two formats (${stateFormat}, ${r.checkpoint.format})`);
      stateFormat = r.checkpoint.format;
      checkpoints.push({ step: i, frame: r.frame, ramHash: r.ramFingerprint ?? null, state: r.checkpoint.state });
    });
    if (checkpoints.length > 0) {
      await this.files.writeAtomic(p.snapshots, encodeSnapshotSidecar({
        format: SNAPSHOT_SIDECAR_FORMAT, version: 1, episode: ep.episode, emulator: this.options.emulator, stateFormat, romMd5: this.options.rom.md5,
      }, checkpoints));
    }

    const manifest: EpisodeManifest = {
      format: 'lockstep-episode',
      version: 1,
      episode: ep.episode,
      reason: ep.end.reason,
      rows: rows.length,
      startFrame,
      terminationFrame: ep.terminationFrame,
      returns: [...ep.end.returns],
      finalRamSha256: ramHash(ep.finalRam),
      finalRamFingerprint: shortHash(ep.finalRam),
      finalRamSha256NoStack: ramHashNoStack(ep.finalRam),
      ...(ep.end.final ? { finalVars: { ...ep.end.final.vars } } : {}),
      speculativeRows: rows.filter((r) => r.wasSpeculative).length,
      speculativeDiscarded: ep.stats.speculativeDiscarded,
      droppedPastTermination: ep.stats.droppedPastTermination,
      emulator: this.options.emulator,
      rom: { name: this.options.rom.name, md5: this.options.rom.md5, md5NoHeader: this.options.rom.md5NoHeader, mapper: this.options.rom.mapper },
      files: { jsonl: basename(p.jsonl), csv: basename(p.csv), fm2: basename(p.fm2) },
      fm2: { lines: frames.length, leadIn, firstInputLine: leadIn, exact, externalEdits: ep.externalEdits },
      ...(checkpoints.length > 0 ? { snapshots: { file: basename(p.snapshots), stateFormat, steps: checkpoints.map((c) => c.step) } } : {}),
      writtenAt: this.now().toISOString(),
    };
    // The manifest goes last: its presence says every other file of the episode is complete.
    await this.files.writeAtomic(p.manifest, JSON.stringify(manifest, null, 2) + '\n');
    this.manifests.push(manifest);
    await this.writeSession();
    return manifest;
  }

  private async writeSession(meta?: Record<string, unknown>): Promise<void> {
    if (meta) this.sessionMeta = meta;
    const session = {
      format: 'lockstep-session',
      version: 1,
      rom: this.options.rom,
      ramMap: this.options.ramMap?.name ?? null,
      emulator: this.options.emulator,
      ...this.sessionMeta,
      episodes: this.manifests.map((m) => ({ episode: m.episode, rows: m.rows, reason: m.reason, terminationFrame: m.terminationFrame, manifest: basename(this.paths(m.episode).manifest) })),
    };
    await this.files.writeAtomic(join(this.folder, 'session.json'), JSON.stringify(session, null, 2) + '\n');
  }

  private csv(rows: readonly FrameRow[]): string {
    const varNames = this.options.ramMap ? [...this.options.ramMap.names] : Object.keys(rows[0]?.vars ?? {});
    const head = [
      'episode', 'step', 'frame', 'timestamp', 'p1_buttons', 'p2_buttons', 'p1_fm2', 'p2_fm2', 'reward_p1', 'reward_p2',
      'terminated', 'truncated', 'was_speculative', 'held_p1', 'held_p2', 'manual_p1', 'manual_p2',
      'latency_p1_ms', 'latency_p2_ms', 'ram_hash', 'screen_hash', ...varNames.map((n) => `var_${n}`), 'info',
    ];
    const lines = [head.map(csvCell).join(',')];
    for (const r of rows) {
      const cells: unknown[] = [
        r.episode, r.step, r.frame, r.timestamp, r.buttons[0], r.buttons[1], maskToFm2(r.buttons[0]), maskToFm2(r.buttons[1]),
        r.rewards[0], r.rewards[1], r.terminated, r.truncated, r.wasSpeculative, r.held[0], r.held[1], r.manual[0], r.manual[1],
        roundMs(r.agentLatencyMs[0]), roundMs(r.agentLatencyMs[1]), r.ramFingerprint ?? '', r.screenFingerprint ?? '',
        ...varNames.map((n) => r.vars[n]), Object.keys(r.info).length ? JSON.stringify(r.info) : '',
      ];
      lines.push(cells.map(csvCell).join(','));
    }
    return lines.join('\r\n') + '\r\n';
  }
}

export interface CreateEpisodeRecorderOptions {
  rom: RomInfo;
  ramMap?: RamMap;
  /** Which emulator produced the frame ids (decides the FM2 line alignment). Default "embedded". */
  emulator?: EmulatorKind;
  /** Subfolder of `folder` for this recording; default a fresh timestamped name; "" writes into `folder` itself. */
  session?: string;
  /** Confirmed rows per durable append to the journal. Default 60. */
  flushEvery?: number;
  /** Extra facts for session.json (agents, sync mode, seed...). */
  meta?: Record<string, unknown>;
  files?: EpisodeFiles;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  guid?: () => string;
  now?: () => Date;
}

export interface EpisodeRecording {
  recorder: EpisodeRecorder;
  exporter: EpisodeExporter;
  /** Folder the episode files go to. */
  folder: string;
}

/** A recorder writing every episode under `folder` (what `lockstep run --record DIR` uses). */
export async function createEpisodeRecorder(folder: string, options: CreateEpisodeRecorderOptions): Promise<EpisodeRecording> {
  if (typeof folder !== 'string' || folder.trim() === '') throw new Error(`record folder must be a path, got ${JSON.stringify(folder)}`);
  const now = options.now ?? (() => new Date());
  const session = options.session ?? defaultSessionName(now(), options.rom.name);
  const target = session === '' ? folder : join(folder, session);
  const exporter = new EpisodeExporter({
    folder: target, rom: options.rom, ramMap: options.ramMap, emulator: options.emulator ?? 'embedded',
    files: options.files, guid: options.guid, now,
  });
  try {
    await exporter.begin({ startedAt: now().toISOString(), ...options.meta });
  } catch (e) {
    throw new Error(`cannot record into ${target}: ${(e as Error).message}`);
  }
  const recorder = new EpisodeRecorder(exporter, { flushEvery: options.flushEvery, log: options.log });
  return { recorder, exporter, folder: target };
}

function defaultSessionName(d: Date, romName: string): string {
  const stamp = d.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
  const rom = basename(romName, extname(romName)).replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40) || 'rom';
  return `${stamp}-${rom}-${randomBytes(2).toString('hex')}`;
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function roundMs(v: number | null): number | null {
  return v === null ? null : Math.round(v * 1000) / 1000;
}
