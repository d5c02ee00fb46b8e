// Episode recorder: a RowSink with a speculative and a confirmed row buffer, the synced termination frame, and incremental writes.
import type { EpisodeEnd, FrameRow, RowSink } from '../runtime/rows';

export type TerminationReason = EpisodeEnd['reason'];

export interface TerminationProposal {
  /** First frame that is not part of the episode: rows are frames below it. */
  frame: number;
  reason: TerminationReason;
  /** Who detected the end (e.g. "emulator", "agent 2", "runtime"). */
  source: string;
}

/**
 * The frame an episode ends at, agreed between every side that can detect the end (RAM done flag, max steps, an agent's
 * terminate, a stalled peer catching up). The earliest proposal wins whatever order proposals arrive in, so two sides that
 * saw the same ends always agree.
 */
export class SyncedTermination {
  private agreed: TerminationProposal | undefined;
  private readonly seen: TerminationProposal[] = [];

  get frame(): number | null {
    return this.agreed?.frame ?? null;
  }
  get reason(): TerminationReason | null {
    return this.agreed?.reason ?? null;
  }
  get source(): string | null {
    return this.agreed?.source ?? null;
  }
  get proposals(): readonly TerminationProposal[] {
    return this.seen;
  }

  /** Records a proposal and returns the agreed termination frame. */
  propose(frame: number, reason: TerminationReason, source: string): number {
    if (!Number.isSafeInteger(frame) || frame < 0) throw new Error(`termination frame must be a whole number >= 0, got ${JSON.stringify(frame)} (from ${source})`);
    const p = { frame, reason, source };
    this.seen.push(p);
    if (!this.agreed || frame < this.agreed.frame) this.agreed = p;
    return this.agreed.frame;
  }
}

/** What the recorder hands over at an episode end. */
export interface FinishedEpisode {
  episode: number;
  /** Confirmed rows, frames startFrame.. consecutive, all below terminationFrame. */
  rows: readonly FrameRow[];
  end: EpisodeEnd;
  /** The agreed termination (may be earlier than end.terminationFrame when a partner fixed it first). */
  terminationFrame: number;
  finalRam: Uint8Array;
  /** Rows already appended to the journal, and the first of them that changed since (it and later lines must be rewritten). */
  journaled: number;
  rewriteFrom: number;
  stats: EpisodeStats;
  /** Why an FM2 of this episode cannot reproduce it (debugger RAM writes), if anything. */
  externalEdits: string[];
}

export interface EpisodeStats {
  /** Rows promoted at the episode end without their action being confirmed. */
  speculativePromoted: number;
  /** Speculative rows thrown away (rollback, or at/after the termination at the end). */
  speculativeDiscarded: number;
  /** Rows refused because they were at or after the synced termination frame. */
  droppedPastTermination: number;
}

/** Where finished and in-progress episodes go (episodeWriter writes files; tests may keep them in memory). */
export interface EpisodeWriter {
  /** Appends confirmed rows (rows[i] is row number firstIndex + i of the episode) durably to the episode's journal. */
  appendRows(episode: number, rows: readonly FrameRow[], firstIndex: number): Promise<void>;
  /** Cuts the journal back to its first `kept` rows (step back). */
  truncateRows(episode: number, kept: number): Promise<void>;
  /** Writes the episode's final files; resolves with a summary (the manifest). */
  finishEpisode(ep: FinishedEpisode): Promise<unknown>;
}

export interface EpisodeRecorderOptions {
  /** Confirmed rows buffered before they are appended (and fsynced) to the journal; 1 = every row. Default 60 (one second of play). */
  flushEvery?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

interface OpenEpisode {
  episode: number;
  confirmed: FrameRow[];
  speculative: Map<number, FrameRow>;
  termination: SyncedTermination;
  journaled: number;
  rewriteFrom: number;
  stats: EpisodeStats;
  externalEdits: string[];
}

const DEFAULT_FLUSH_EVERY = 60;

export class EpisodeRecorder implements RowSink {
  private open: OpenEpisode | undefined;
  /** Highest episode already ended: late rows for it (or older) are ignored, never reopened. */
  private lastEnded = -1;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private readonly flushEvery: number;
  private readonly log: NonNullable<EpisodeRecorderOptions['log']>;
  private ignoredLate = 0;
  /** What writer.finishEpisode returned, in episode order. */
  readonly finished: unknown[] = [];

  constructor(private readonly writer?: EpisodeWriter, options: EpisodeRecorderOptions = {}) {
    const n = options.flushEvery ?? DEFAULT_FLUSH_EVERY;
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`flushEvery must be a whole number >= 1, got ${JSON.stringify(n)}`);
    this.flushEvery = n;
    this.log = options.log ?? (() => undefined);
  }

  /** The open episode's confirmed rows (what exports read). */
  get confirmedRows(): readonly FrameRow[] {
    return this.open?.confirmed ?? [];
  }
  /** The open episode's speculative rows, by frame. */
  get speculativeRows(): ReadonlyMap<number, FrameRow> {
    return this.open?.speculative ?? new Map();
  }
  /** The open episode's agreed termination frame, or null while no side has detected the end. */
  get terminationFrame(): number | null {
    return this.open?.termination.frame ?? null;
  }
  get episode(): number | null {
    return this.open?.episode ?? null;
  }

  /** A confirmed row: appended to the confirmed buffer (replacing a speculative copy of the same frame). */
  addRow(row: FrameRow): void {
    this.throwIfFailed();
    const ep = this.episodeFor(row.episode);
    if (!ep) return;
    ep.speculative.delete(row.frame);
    if (this.pastTermination(ep, row.frame)) return;
    const last = ep.confirmed.at(-1);
    if (last && row.frame !== last.frame + 1) {
      throw new Error(`episode ${row.episode}: confirmed row for frame ${row.frame} does not follow frame ${last.frame} (rows must arrive in frame order)`);
    }
    ep.confirmed.push(copyRow(row));
    if (ep.confirmed.length - ep.journaled >= this.flushEvery) this.flushOpen(ep);
  }

  /** A row computed on predicted input (run-ahead): kept apart until addRow confirms it or discardSpeculative drops it. */
  addSpeculativeRow(row: FrameRow): void {
    this.throwIfFailed();
    const ep = this.episodeFor(row.episode);
    if (!ep) return;
    const last = ep.confirmed.at(-1);
    if (last && row.frame <= last.frame) return; // that frame is already final
    if (this.pastTermination(ep, row.frame)) return;
    ep.speculative.set(row.frame, copyRow(row));
  }

  /** Rollback: speculative rows at or after fromFrame are void. */
  discardSpeculative(episode: number, fromFrame: number): void {
    const ep = this.open?.episode === episode ? this.open : undefined;
    if (!ep) return;
    for (const f of [...ep.speculative.keys()]) {
      if (f >= fromFrame) {
        ep.speculative.delete(f);
        ep.stats.speculativeDiscarded++;
      }
    }
  }

  /** A side detected the episode end: rows at or after the agreed frame are dropped now and refused from now on. */
  fixTermination(episode: number, frame: number, reason: TerminationReason, source = 'runtime'): number | null {
    const ep = this.episodeFor(episode);
    if (!ep) return null;
    const t = ep.termination.propose(frame, reason, source);
    this.applyTermination(ep, t);
    return t;
  }

  noteExternalEdit(episode: number, frame: number, what: string): void {
    const ep = this.episodeFor(episode);
    if (ep) ep.externalEdits.push(`frame ${frame}: ${what}`);
  }

  /** Step back: keeps the first rowsKept rows of the episode, forgets speculative rows, and cuts the journal to match. */
  truncate(episode: number, rowsKept: number): void {
    const ep = this.open?.episode === episode ? this.open : undefined;
    if (!ep) return;
    ep.stats.speculativeDiscarded += ep.speculative.size;
    ep.speculative.clear();
    if (ep.confirmed.length <= rowsKept) return;
    ep.confirmed.length = rowsKept;
    if (ep.journaled > rowsKept) {
      ep.journaled = rowsKept;
      this.enqueue(() => this.writer?.truncateRows(episode, rowsKept));
    }
    if (ep.rewriteFrom >= rowsKept) ep.rewriteFrom = Infinity;
  }

  /**
   * Ends the episode: the agreed termination is the earlier of the runtime's and any fixed before; remaining speculative rows
   * below it (strictly) are promoted with wasSpeculative, the rest dropped; then the writer exports it.
   */
  async endEpisode(end: EpisodeEnd, finalRam: Uint8Array): Promise<void> {
    this.throwIfFailed();
    const ep = this.episodeFor(end.episode, true);
    if (!ep) return;
    const t = ep.termination.propose(end.terminationFrame, end.reason, 'runtime');
    this.applyTermination(ep, t);
    // Seed's boundary promotion: frames the agent never confirmed still happened, but never one at or past the end.
    const remaining = [...ep.speculative.values()].sort((a, b) => a.frame - b.frame);
    ep.speculative.clear();
    for (const row of remaining) {
      const last = ep.confirmed.at(-1);
      const follows = last ? row.frame === last.frame + 1 : row.frame === end.startFrame;
      if (row.frame < t && follows) {
        ep.confirmed.push({ ...row, wasSpeculative: true });
        ep.stats.speculativePromoted++;
      } else {
        ep.stats.speculativeDiscarded++;
      }
    }
    markLastRow(ep, end.reason);
    if (ep.confirmed.length !== end.rows) {
      this.log('warn', `episode ${end.episode}: the runtime counted ${end.rows} rows, the recording has ${ep.confirmed.length}`);
    }
    this.open = undefined;
    this.lastEnded = Math.max(this.lastEnded, end.episode);
    const finished: FinishedEpisode = {
      episode: end.episode,
      rows: ep.confirmed,
      end,
      terminationFrame: t,
      finalRam: finalRam.slice(),
      journaled: ep.journaled,
      rewriteFrom: ep.rewriteFrom,
      stats: { ...ep.stats },
      externalEdits: [...ep.externalEdits],
    };
    this.enqueue(async () => {
      const summary = await this.writer?.finishEpisode(finished);
      this.finished.push(summary ?? finished);
    });
    await this.settled();
  }

  /**
   * Ends the open episode where the emulator stands (a run stopped or interrupted), reason "stopped", without going
   * through the runtime. Speculative rows below `frame` are promoted like at any end. Returns false if nothing was open.
   */
  async stopOpenEpisode(frame: number, ram: Uint8Array): Promise<boolean> {
    const ep = this.open;
    const spec = ep ? [...ep.speculative.values()].filter((r) => r.frame < frame) : [];
    if (!ep || (ep.confirmed.length === 0 && spec.length === 0)) {
      await this.flush();
      return false;
    }
    const rows = [...ep.confirmed, ...spec];
    const startFrame = Math.min(...rows.map((r) => r.frame));
    const t = Math.min(frame, ep.termination.frame ?? Infinity);
    const returns: [number, number] = [0, 0];
    for (const r of rows) {
      returns[0] += r.rewards[0];
      returns[1] += r.rewards[1];
    }
    await this.endEpisode({ episode: ep.episode, terminationFrame: t, rows: t - startFrame, reason: 'stopped', startFrame, returns }, ram);
    return true;
  }

  /** Appends every confirmed row not yet in the journal and waits until it is on disk. */
  async flush(): Promise<void> {
    if (this.open) this.flushOpen(this.open);
    await this.settled();
  }

  /** Flushes and waits for every pending write; rejects with the first write failure. */
  async close(): Promise<void> {
    await this.flush();
    if (this.ignoredLate > 0) this.log('warn', `${this.ignoredLate} row(s) arrived for episodes already ended and were not recorded`);
  }

  // ---- internals ----

  private episodeFor(episode: number, forEnd = false): OpenEpisode | undefined {
    if (this.open?.episode === episode) return this.open;
    if (episode <= this.lastEnded) {
      if (!forEnd) this.ignoredLate++;
      return undefined;
    }
    if (this.open) {
      // A new episode without an end for the previous one: keep what was confirmed in the journal rather than lose it.
      this.log('warn', `episode ${this.open.episode} got no end before episode ${episode} started; its rows stay in the journal only`);
      this.flushOpen(this.open);
    }
    this.open = {
      episode,
      confirmed: [],
      speculative: new Map(),
      termination: new SyncedTermination(),
      journaled: 0,
      rewriteFrom: Infinity,
      stats: { speculativePromoted: 0, speculativeDiscarded: 0, droppedPastTermination: 0 },
      externalEdits: [],
    };
    return this.open;
  }

  private pastTermination(ep: OpenEpisode, frame: number): boolean {
    const t = ep.termination.frame;
    if (t === null || frame < t) return false;
    ep.stats.droppedPastTermination++;
    return true;
  }

  private applyTermination(ep: OpenEpisode, t: number): void {
    for (const f of [...ep.speculative.keys()]) {
      if (f >= t) {
        ep.speculative.delete(f);
        ep.stats.speculativeDiscarded++;
      }
    }
    const keep = ep.confirmed.findIndex((r) => r.frame >= t);
    if (keep < 0) return;
    ep.stats.droppedPastTermination += ep.confirmed.length - keep;
    ep.confirmed.length = keep;
    if (ep.journaled > keep) {
      ep.journaled = keep;
      const episode = ep.episode;
      this.enqueue(() => this.writer?.truncateRows(episode, keep));
    }
    if (ep.rewriteFrom >= keep) ep.rewriteFrom = Infinity;
  }

  private flushOpen(ep: OpenEpisode): void {
    if (ep.journaled >= ep.confirmed.length && ep.rewriteFrom === Infinity) return;
    const from = Math.min(ep.journaled, ep.rewriteFrom);
    const cut = from < ep.journaled;
    const rows = ep.confirmed.slice(from);
    const episode = ep.episode;
    ep.journaled = ep.confirmed.length;
    ep.rewriteFrom = Infinity;
    if (!this.writer) return;
    const writer = this.writer;
    this.enqueue(async () => {
      if (cut) await writer.truncateRows(episode, from);
      await writer.appendRows(episode, rows, from);
    });
  }

  private enqueue(task: () => Promise<unknown> | unknown): void {
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await task();
      } catch (e) {
        this.failure = e instanceof Error ? e : new Error(String(e));
        this.log('error', `recording failed: ${this.failure.message}`);
      }
    });
  }

  private async settled(): Promise<void> {
    await this.chain;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw new Error(`recording failed: ${this.failure.message}`);
  }
}

function copyRow(row: FrameRow): FrameRow {
  return {
    ...row,
    buttons: [...row.buttons],
    rewards: [...row.rewards],
    held: [...row.held],
    manual: [...row.manual],
    agentLatencyMs: [...row.agentLatencyMs],
  };
}

/** The last row carries the end: a partner's or agent's end may arrive after that row was made. */
function markLastRow(ep: OpenEpisode, reason: TerminationReason): void {
  const i = ep.confirmed.length - 1;
  const last = ep.confirmed[i];
  if (!last || last.terminated || last.truncated) return;
  switch (reason) {
    case 'done_flag':
    case 'agent_terminated':
      ep.confirmed[i] = { ...last, terminated: true };
      break;
    case 'max_steps':
      ep.confirmed[i] = { ...last, truncated: true };
      break;
    case 'stopped':
      break;
    default: {
      const _never: never = reason;
      throw new Error(`unknown episode end reason ${String(_never)}`);
    }
  }
  ep.rewriteFrom = Math.min(ep.rewriteFrom, i);
}
