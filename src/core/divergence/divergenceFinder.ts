// Finds the first frame where two runs part ways (recordings, movies, live replays on either emulator) and gathers what differs there.
import { maskToFm2, type ButtonPair } from '../buttons';
import { shortHash } from '../episodes/ramHash';
import type { RamMap } from '../config/ramMap';
import { fm2LineForFrame } from '../episodes/fm2';
import { ramHashNoStack } from '../episodes/ramHash';
import type { EmulatorFrame, EmulatorKind, EmulatorPort } from '../ports';
import { WORK_RAM_SIZE } from '../nes';
import { recordingLines, type MovieInputs, type RecordedEpisode } from '../episodes/episodeReader';
import { LineReplayer, newReplayCounters, type ReplayCounters } from './divergenceReplay';
import type { SnapshotCheckpoint } from '../episodes/snapshotSidecar';

/** One side of a comparison. `live` replays the other side's inputs on that emulator. */
export type DivergenceSource =
  | { kind: 'recording'; recording: RecordedEpisode }
  | { kind: 'movie'; movie: MovieInputs; emulator: EmulatorKind }
  | { kind: 'live'; emulator: EmulatorKind };

/** How two states are compared: whole RAM (same emulator), RAM without the CPU stack page (across emulators), RAM-map variables. */
export type CompareMode = 'ram' | 'ramNoStack' | 'vars';
/** rows: the recorded per-frame fingerprints; bisect: the snapshot sidecars' checkpoints; forward: replay both sides frame by frame. */
export type SearchMode = 'rows' | 'bisect' | 'forward';
/** What differs at the first diverging step: the state it started from (only at step 0), its inputs, the state it ended in, or one episode ended first. */
export type DivergenceCause = 'start' | 'inputs' | 'state' | 'length';

export interface DivergenceEnvironment {
  romPath: string;
  /** MD5 of the ROM file (a recording made with another ROM is refused). */
  romMd5: string;
  ramMap: RamMap;
  /** A fresh emulator of that kind for a replay (embedded: one that can import sidecar states). Closed by the finder. */
  createEmulator(kind: EmulatorKind, purpose: string): EmulatorPort;
  /** The work RAM inside a snapshot sidecar's machine state (the embedded emulator's byte layout), for the bisect search. */
  ramOfState(state: Uint8Array): Uint8Array;
}

export interface FindDivergenceOptions {
  compare?: CompareMode | 'auto';
  search?: SearchMode | 'auto';
  /** Capture both screens at the divergence (costs a replay for recordings). Default true. */
  screens?: boolean;
  /** Inputs shown before and after the diverging frame. Default 5. */
  context?: number;
  /** Longest comparison for movies and live sides (steps). Default: the shorter side. */
  maxSteps?: number;
}

export interface SideSummary {
  label: string;
  source: DivergenceSource['kind'];
  emulator: EmulatorKind;
  /** The recording's manifest or the movie file; null for a live side. */
  path: string | null;
  /** The movie whose inputs drive this side (a live side: the other side's). */
  movie: string | null;
  episode: number | null;
  startFrame: number;
  steps: number;
}

export interface ByteDiff {
  address: number;
  name: string | null;
  a: number;
  b: number;
  /** $0100-$01FF when comparing across emulators: the NMI's return address and flags, expected to differ. */
  stack: boolean;
}

export interface VarDiff {
  name: string;
  a: number;
  b: number;
}

export interface AroundStep {
  step: number;
  frames: [number, number];
  inputs: [string, string];
  differ: boolean;
}

export interface DivergenceResult {
  diverged: boolean;
  /** Episode step (row) of the first diverging frame, or null when none. */
  step: number | null;
  /** Its frame id on each side (they differ by one between jsnes and FCEUX). */
  frames: [number, number] | null;
  cause: DivergenceCause | null;
  compare: CompareMode;
  search: SearchMode;
  a: SideSummary;
  b: SideSummary;
  /** Buttons of the diverging frame, per side. */
  inputs: [ButtonPair, ButtonPair] | null;
  /** RAM after the diverging frame ran (the state the next frame starts from), where known. */
  ram: [Uint8Array | null, Uint8Array | null];
  /** Where each side's RAM came from. */
  ramSource: [string | null, string | null];
  screens: [Uint8Array | null, Uint8Array | null];
  bytes: ByteDiff[];
  /** Bytes compared (2048, or the RAM map's bytes when only variables are known). */
  bytesCompared: number;
  vars: VarDiff[];
  /** Every RAM-map variable after the diverging frame (at it, for a 'start' divergence), per side, where known. */
  varsAfter: [Record<string, number> | null, Record<string, number> | null];
  around: AroundStep[];
  /** Steps compared before the answer. */
  stepsCompared: number;
  counters: ReplayCounters;
  notes: string[];
  message: string;
}

/** Compares two sources and returns the first diverging frame with the RAM, inputs and screens around it. */
export async function findDivergence(a: DivergenceSource, b: DivergenceSource, env: DivergenceEnvironment, options: FindDivergenceOptions = {}): Promise<DivergenceResult> {
  const finder = new Finder(a, b, env, options);
  try {
    return await finder.run();
  } finally {
    await finder.close();
  }
}

// ---- internals ----

interface Side {
  tag: 'A' | 'B';
  summary: SideSummary;
  source: DivergenceSource;
  recording?: RecordedEpisode;
  lines: readonly ButtonPair[];
  startLine: number;
  steps: number;
  emulator: EmulatorKind;
}

interface Found {
  step: number;
  cause: DivergenceCause;
}

/** A side during a search: replayed (a LineReplayer) or read from its recorded rows. */
type Track = { side: Side; replay: LineReplayer | null };

/** What the report shows: each side's RAM and screen after the diverging step (at step 0 for a 'start' divergence). */
interface Captured {
  ram: [Uint8Array | null, Uint8Array | null];
  screens: [Uint8Array | null, Uint8Array | null];
  source: [string | null, string | null];
}

class Finder {
  private readonly counters = newReplayCounters();
  private readonly notes: string[] = [];
  private readonly replayers: LineReplayer[] = [];
  private readonly checkpoints = new Map<Side, { list: SnapshotCheckpoint[]; format: string }>();
  private readonly context: number;
  private readonly screens: boolean;
  private compare: CompareMode = 'ram';
  private search: SearchMode = 'rows';
  private sa!: Side;
  private sb!: Side;
  private stepsCompared = 0;
  private captured: Captured | undefined;
  private readonly departed = new Set<Side>();

  constructor(
    private readonly a: DivergenceSource,
    private readonly b: DivergenceSource,
    private readonly env: DivergenceEnvironment,
    private readonly options: FindDivergenceOptions,
  ) {
    this.context = options.context ?? 5;
    this.screens = options.screens ?? true;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.replayers.map((r) => r.close()));
  }

  async run(): Promise<DivergenceResult> {
    [this.sa, this.sb] = this.resolveSides();
    this.compare = this.pickCompare();
    this.search = this.pickSearch();
    let found: Found | null;
    switch (this.search) {
      case 'rows':
        found = this.searchRows();
        break;
      case 'bisect':
        found = await this.searchBisect();
        break;
      case 'forward':
        found = await this.searchForward();
        break;
      default: {
        const _never: never = this.search;
        throw new Error(`unknown search ${String(_never)}`);
      }
    }
    if (found && !this.captured) await this.materialize(found);
    return this.result(found);
  }

  // ---- sides ----

  private resolveSides(): [Side, Side] {
    if (this.a.kind === 'live' && this.b.kind === 'live') {
      throw new Error('both sides are live: at least one must be a recording or an .fm2 movie whose inputs the live side replays');
    }
    const fa = this.fixedSide(this.a, 'A');
    const fb = this.fixedSide(this.b, 'B');
    const sa = fa ?? liveSide(this.a as DivergenceSource & { kind: 'live' }, 'A', fb!);
    const sb = fb ?? liveSide(this.b as DivergenceSource & { kind: 'live' }, 'B', fa!);
    return [sa, sb];
  }

  private fixedSide(s: DivergenceSource, tag: 'A' | 'B'): Side | undefined {
    if (s.kind === 'recording') {
      const r = s.recording;
      if (r.rom.md5 !== this.env.romMd5) {
        throw new Error(`${tag} ${r.label} was recorded with ROM ${r.rom.name} (md5 ${r.rom.md5}), not the ROM given (md5 ${this.env.romMd5}): pass --rom with that ROM`);
      }
      return {
        tag,
        summary: { label: r.label, source: 'recording', emulator: r.emulator, path: r.manifestPath, movie: r.fm2Path, episode: r.episode, startFrame: r.startFrame, steps: r.steps.length },
        source: s, recording: r, lines: recordingLines(r), startLine: r.leadIn, steps: r.steps.length, emulator: r.emulator,
      };
    }
    if (s.kind === 'movie') {
      // A bare movie has no episode structure: step 0 is line 1, the first line both emulators run (jsnes's frame 0).
      const m = s.movie;
      const startLine = 1;
      const steps = Math.max(0, m.lines.length - startLine);
      return {
        tag,
        summary: { label: m.label, source: 'movie', emulator: s.emulator, path: m.path, movie: m.path, episode: null, startFrame: startLine - fm2LineForFrame(s.emulator, 0), steps },
        source: s, lines: m.lines, startLine, steps, emulator: s.emulator,
      };
    }
    return undefined;
  }

  private pickCompare(): CompareMode {
    const want = this.options.compare ?? 'auto';
    const sameKind = this.sa.emulator === this.sb.emulator;
    if (want !== 'auto') {
      if (want === 'ram' && !sameKind) {
        this.notes.push('comparing whole RAM across emulators: the CPU stack bytes $01FD-$01FF differ between jsnes and FCEUX, so expect a divergence at once; --compare ramNoStack leaves them out');
      }
      return want;
    }
    if (sameKind) return 'ram';
    return this.sa.recording && this.sb.recording ? 'vars' : 'ramNoStack';
  }

  private pickSearch(): SearchMode {
    const want = this.options.search ?? 'auto';
    const both = this.sa.recording !== undefined && this.sb.recording !== undefined;
    if (want === 'rows' && (!both || this.compare === 'ramNoStack')) {
      throw new Error('search "rows" compares two recordings\' per-frame fingerprints (RAM or variables); use "forward" for movies, live sides or --compare ramNoStack');
    }
    if (want === 'bisect') {
      if (!both || !this.sa.recording!.snapshots || !this.sb.recording!.snapshots) {
        throw new Error('search "bisect" needs two recordings with snapshot sidecars (record with `lockstep run --record DIR --snapshots 256`)');
      }
      if (this.sa.emulator !== 'embedded' || this.sb.emulator !== 'embedded') {
        throw new Error('search "bisect" restores embedded machine states: both recordings must come from the embedded emulator');
      }
      return 'bisect';
    }
    if (want !== 'auto') return want;
    return both && this.compare !== 'ramNoStack' ? 'rows' : 'forward';
  }

  private async replayer(side: Side, withCheckpoints: boolean, tag: string = side.tag): Promise<LineReplayer> {
    const cps = withCheckpoints ? await this.loadCheckpoints(side) : undefined;
    const r = new LineReplayer({
      label: `${tag} (${side.summary.label} on ${side.emulator})`,
      emulator: this.env.createEmulator(side.emulator, `${tag}: replay of ${side.summary.label}`),
      romPath: this.env.romPath,
      lines: side.lines,
      startLine: side.startLine,
      counters: this.counters,
      ...(cps ? { checkpoints: cps.list, checkpointFormat: cps.format } : {}),
    });
    this.replayers.push(r);
    return r;
  }

  /** The side's snapshot sidecar (embedded recordings only), read once. */
  private async loadCheckpoints(side: Side): Promise<{ list: SnapshotCheckpoint[]; format: string } | undefined> {
    const ref = side.recording?.snapshots;
    if (!ref || side.emulator !== 'embedded') return undefined;
    let got = this.checkpoints.get(side);
    if (!got) {
      const { header, checkpoints } = await ref.load();
      got = { list: checkpoints, format: header.stateFormat };
      this.checkpoints.set(side, got);
    }
    return got;
  }

  // ---- comparison ----

  /** A side's state at the start of step s, as far as it is known without running anything more. */
  private view(t: Track, s: number): StateView {
    if (t.replay) return { ram: t.replay.current.ram };
    const r = t.side.recording!;
    if (s < r.steps.length) return { hash: r.steps[s].ramHash, vars: r.steps[s].vars };
    return { hash: r.finalRamFingerprint || null, noStackSha: r.finalRamSha256NoStack || null };
  }

  /** Whether two states differ under the compare mode; null when they cannot be compared. */
  private differ(x: StateView, y: StateView): boolean | null {
    switch (this.compare) {
      case 'ram': {
        if (x.ram && y.ram) return !equalBytes(x.ram, y.ram, false);
        const hx = x.hash ?? (x.ram ? shortHash(x.ram) : null);
        const hy = y.hash ?? (y.ram ? shortHash(y.ram) : null);
        return hx && hy ? hx !== hy : null;
      }
      case 'ramNoStack': {
        if (x.ram && y.ram) return !equalBytes(x.ram, y.ram, true);
        const hx = x.noStackSha ?? (x.ram ? ramHashNoStack(x.ram) : null);
        const hy = y.noStackSha ?? (y.ram ? ramHashNoStack(y.ram) : null);
        return hx && hy ? hx !== hy : null;
      }
      case 'vars': {
        const vx = x.vars ?? (x.ram ? this.env.ramMap.read(x.ram) : undefined);
        const vy = y.vars ?? (y.ram ? this.env.ramMap.read(y.ram) : undefined);
        if (vx && vy) {
          const names = Object.keys(vx).filter((n) => n in vy);
          if (names.length > 0) return names.some((n) => vx[n] !== vy[n]);
        }
        // The end of an episode has no row (no variables): its no-stack hash compares across emulators.
        const hx = x.noStackSha ?? (x.ram ? ramHashNoStack(x.ram) : null);
        const hy = y.noStackSha ?? (y.ram ? ramHashNoStack(y.ram) : null);
        return hx && hy ? hx !== hy : null;
      }
      default: {
        const _never: never = this.compare;
        throw new Error(`unknown compare ${String(_never)}`);
      }
    }
  }

  private uncompared(): void {
    const note = 'some steps could not be compared (a fingerprint missing on one side) and were taken as equal';
    if (!this.notes.includes(note)) this.notes.push(note);
  }

  // ---- search: recorded rows (no emulation) ----

  private searchRows(): Found | null {
    const x: Track = { side: this.sa, replay: null };
    const y: Track = { side: this.sb, replay: null };
    const n = Math.min(this.sa.steps, this.sb.steps);
    const start = this.differ(this.view(x, 0), this.view(y, 0));
    if (start === null) this.uncompared();
    if (start) return { step: 0, cause: 'start' };
    for (let s = 0; s < n; s++) {
      this.stepsCompared = s + 1;
      if (!sameInputs(inputOf(this.sa, s), inputOf(this.sb, s))) return { step: s, cause: 'inputs' };
      // The last step of the shorter episode ends in a state only the other side has a row for: not comparable.
      if (s + 1 === n && this.sa.steps !== this.sb.steps) break;
      const d = this.differ(this.view(x, s + 1), this.view(y, s + 1));
      if (d === null) this.uncompared();
      if (d) return { step: s, cause: 'state' };
    }
    return this.sa.steps !== this.sb.steps ? { step: n, cause: 'length' } : null;
  }

  // ---- search: bisection over snapshot sidecars ----

  /**
   * Binary search for the first checkpoint where the two runs' states differ (RAM read out of the stored states: no
   * emulation), then one replay per side from the last checkpoint that agrees, frame by frame, to the exact step.
   * Assumes a difference, once there, is still there at the next checkpoint; inputs are compared row by row (free).
   */
  private async searchBisect(): Promise<Found | null> {
    const ca = (await this.loadCheckpoints(this.sa))!;
    const cb = (await this.loadCheckpoints(this.sb))!;
    const byStep = new Map(cb.list.map((c) => [c.step, c]));
    const common = ca.list.filter((c) => byStep.has(c.step)).map((c) => [c, byStep.get(c.step)!] as const);
    if (common.length === 0) throw new Error('the two snapshot sidecars share no checkpoint step: record both with the same --snapshots N');
    const n = Math.min(this.sa.steps, this.sb.steps);
    let firstInputs = n;
    for (let s = 0; s < n; s++) {
      if (!sameInputs(inputOf(this.sa, s), inputOf(this.sb, s))) {
        firstInputs = s;
        break;
      }
    }
    const probe = (i: number): boolean => {
      this.counters.probes++;
      const [p, q] = common[i];
      return this.differ({ ram: this.env.ramOfState(p.state) }, { ram: this.env.ramOfState(q.state) }) === true;
    };
    if (common[0][0].step === 0 && probe(0)) return { step: 0, cause: 'start' };
    // Invariant: checkpoint lo agrees; hi is the first known to differ (common.length: none does).
    let lo = 0;
    let hi = common.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (probe(mid)) hi = mid;
      else lo = mid;
    }
    const fromStep = common[lo][0].step;
    const toStep = hi < common.length ? common[hi][0].step : n;
    if (firstInputs < fromStep) {
      this.notes.push(`inputs differ at step ${firstInputs}, before checkpoint step ${fromStep} where the states still agree`);
      return { step: firstInputs, cause: 'inputs' };
    }
    const x: Track = { side: this.sa, replay: await this.replayer(this.sa, true) };
    const y: Track = { side: this.sb, replay: await this.replayer(this.sb, true) };
    await x.replay!.seek(fromStep);
    await y.replay!.seek(fromStep);
    const found = await this.lockstep(x, y, fromStep, Math.min(toStep, n));
    if (found) return found;
    if (hi < common.length) {
      this.notes.push(`the checkpoints at step ${toStep} differ, but replaying both from step ${fromStep} shows no difference up to it: a recorded state is not reproduced by its inputs`);
    }
    return this.sa.steps !== this.sb.steps ? { step: n, cause: 'length' } : null;
  }

  // ---- search: replay forward, frame by frame ----

  private async searchForward(): Promise<Found | null> {
    const limit = Math.min(this.sa.steps, this.sb.steps, this.options.maxSteps ?? Number.MAX_SAFE_INTEGER);
    // A recording compared with a live replay of itself on its own emulator needs no replay of its own: its rows are the truth.
    const fromRows = (s: Side, other: Side) => s.recording !== undefined && this.compare === 'ram' && s.emulator === other.emulator && other.source.kind === 'live';
    const x: Track = { side: this.sa, replay: fromRows(this.sa, this.sb) ? null : await this.replayer(this.sa, false) };
    const y: Track = { side: this.sb, replay: fromRows(this.sb, this.sa) ? null : await this.replayer(this.sb, false) };
    if (x.replay) await x.replay.seek(0);
    if (y.replay) await y.replay.seek(0);
    const found = await this.lockstep(x, y, 0, limit);
    if (found) return found;
    const bothFixed = this.sa.source.kind !== 'live' && this.sb.source.kind !== 'live';
    return bothFixed && this.options.maxSteps === undefined && this.sa.steps !== this.sb.steps ? { step: limit, cause: 'length' } : null;
  }

  /** Runs both tracks together from step `from` (each holds it) up to `to`, comparing inputs and the state each step ends in. */
  private async lockstep(x: Track, y: Track, from: number, to: number): Promise<Found | null> {
    if (from === 0) {
      const d = this.differ(this.view(x, 0), this.view(y, 0));
      if (d) {
        await this.capture(x, y);
        return { step: 0, cause: 'start' };
      }
    }
    for (let s = from; s < to; s++) {
      this.stepsCompared = Math.max(this.stepsCompared, s + 1);
      this.checkReplay(x, s);
      this.checkReplay(y, s);
      const inputsDiffer = !sameInputs(inputOf(x.side, s), inputOf(y.side, s));
      if (x.replay) await x.replay.advance();
      if (y.replay) await y.replay.advance();
      const d = this.differ(this.view(x, s + 1), this.view(y, s + 1));
      if (d === null) this.uncompared();
      if (inputsDiffer || d) {
        await this.capture(x, y);
        return { step: s, cause: inputsDiffer ? 'inputs' : 'state' };
      }
    }
    return null;
  }

  /** A replay of a recording on its own emulator should reproduce the recorded fingerprints; say where it stops doing so. */
  private checkReplay(t: Track, s: number): void {
    const rec = t.side.recording;
    if (!t.replay || !rec || rec.emulator !== t.replay.kind || s >= rec.steps.length || this.departed.has(t.side)) return;
    const want = rec.steps[s].ramHash;
    const got = shortHash(t.replay.current.ram);
    if (want && got !== want) {
      this.departed.add(t.side);
      this.notes.push(`${t.side.tag}: replaying ${rec.label} departs from the recording at step ${s} (frame ${rec.steps[s].frame}): its inputs do not reproduce the recorded run${rec.exact ? '' : ' (RAM was edited during it: fm2.exact is false)'}`);
    }
  }

  /** Keeps what both tracks hold now (RAM, screens) for the report. */
  private async capture(x: Track, y: Track): Promise<void> {
    const grab = async (t: Track): Promise<[Uint8Array | null, Uint8Array | null, string | null]> => {
      if (!t.replay) return [null, null, null];
      const f: EmulatorFrame = this.screens ? await t.replay.withScreen() : t.replay.current;
      return [f.ram, f.screen ?? null, `replay on ${t.replay.kind}`];
    };
    const [ra, sa, oa] = await grab(x);
    const [rb, sb, ob] = await grab(y);
    this.captured = { ram: [ra, rb], screens: [sa, sb], source: [oa, ob] };
  }

  // ---- the state after the diverging step (rows search), for the report ----

  /**
   * Replays each recording to the diverging step and runs it (from its nearest sidecar state, else from power-on). Two
   * recordings of the same emulator with the same inputs and fingerprints before that step share one replay up to it.
   */
  private async materialize(found: Found): Promise<void> {
    const cap: Captured = { ram: [null, null], screens: [null, null], source: [null, null] };
    this.captured = cap;
    if (found.cause === 'length') return;
    const s = found.step;
    const sides: Side[] = [this.sa, this.sb];
    const runs = found.cause === 'start' ? 0 : 1;
    try {
      const ra = this.sa.recording;
      const rb = this.sb.recording;
      const noSidecars = !(await this.loadCheckpoints(this.sa)) && !(await this.loadCheckpoints(this.sb));
      const shared = runs === 1 && noSidecars && ra && rb && this.sa.emulator === this.sb.emulator && ra.exact && rb.exact && ra.leadIn === rb.leadIn;
      if (shared) {
        const p = await this.replayer(this.sa, false, 'A+B');
        await p.seek(s);
        this.checkReplay({ side: this.sa, replay: p }, s);
        await p.mark();
        for (const [i, side] of sides.entries()) {
          if (i === 1) await p.seek(s);
          await p.advance(inputOf(side, s));
          const f = this.screens ? await p.withScreen() : p.current;
          cap.ram[i] = f.ram;
          cap.screens[i] = f.screen ?? null;
          cap.source[i] = i === 0 ? `replay on ${p.kind}` : `replay on ${p.kind} (one replay with A up to step ${s}: same inputs and fingerprints before it)`;
        }
      } else {
        for (const [i, side] of sides.entries()) {
          if (side.source.kind === 'live' || s + runs > side.steps) continue;
          const p = await this.replayer(side, true);
          await p.seek(s);
          this.checkReplay({ side, replay: p }, s);
          if (runs) await p.advance();
          const f = this.screens ? await p.withScreen() : p.current;
          cap.ram[i] = f.ram;
          cap.screens[i] = f.screen ?? null;
          cap.source[i] = `replay on ${p.kind}`;
        }
      }
    } catch (e) {
      this.notes.push(`could not replay to step ${s} for the RAM and screens: ${(e as Error).message}`);
    }
    for (const [i, side] of sides.entries()) {
      const rec = side.recording;
      const got = cap.ram[i];
      if (!got || !rec || rec.emulator !== side.emulator) continue;
      const k = s + runs;
      const want = k < rec.steps.length ? rec.steps[k].ramHash : rec.finalRamFingerprint;
      if (want && shortHash(got) !== want) {
        this.notes.push(`${side.tag}: the replay reaches RAM ${shortHash(got)} at step ${k}, the recording says ${want}: the recorded state is not reproduced by its inputs (the bytes shown are the replay's)`);
      }
    }
  }

  // ---- the result ----

  private result(found: Found | null): DivergenceResult {
    const base = {
      compare: this.compare,
      search: this.search,
      a: this.sa.summary,
      b: this.sb.summary,
      stepsCompared: this.stepsCompared,
      counters: { ...this.counters },
      notes: this.notes,
    };
    if (!found) {
      return {
        ...base, diverged: false, step: null, frames: null, cause: null, inputs: null, ram: [null, null], ramSource: [null, null],
        screens: [null, null], bytes: [], bytesCompared: 0, vars: [], varsAfter: [null, null], around: [],
        message: `no divergence: ${this.stepsCompared} step(s) compared by ${describeCompare(this.compare)} (${describeSearch(this.search)}); ` +
          `replayed ${this.counters.framesReplayed} frame(s) in ${this.counters.replays} replay(s)`,
      };
    }
    const s = found.step;
    const frames: [number, number] = [frameOf(this.sa, s), frameOf(this.sb, s)];
    const inputs: [ButtonPair, ButtonPair] = [inputOf(this.sa, s), inputOf(this.sb, s)];
    const cap = this.captured ?? { ram: [null, null], screens: [null, null], source: [null, null] };
    const k = found.cause === 'start' ? s : s + 1;
    const varsOf = (side: Side, ram: Uint8Array | null): Record<string, number> | undefined => {
      if (ram) return this.env.ramMap.read(ram);
      const rec = side.recording;
      return rec && k < rec.steps.length ? rec.steps[k].vars : undefined;
    };
    const va = varsOf(this.sa, cap.ram[0]);
    const vb = varsOf(this.sb, cap.ram[1]);
    const { bytes, compared } = this.byteDiff(cap.ram, va, vb);
    const vars: VarDiff[] = [];
    if (va && vb) for (const n of Object.keys(va)) if (n in vb && va[n] !== vb[n]) vars.push({ name: n, a: va[n], b: vb[n] });
    const around: AroundStep[] = [];
    for (let t = Math.max(0, s - this.context); t <= s + this.context; t++) {
      if (t >= this.sa.steps && t >= this.sb.steps) break;
      const ia = inputOf(this.sa, t);
      const ib = inputOf(this.sb, t);
      around.push({ step: t, frames: [frameOf(this.sa, t), frameOf(this.sb, t)], inputs: [pairText(ia), pairText(ib)], differ: !sameInputs(ia, ib) });
    }
    const real = bytes.filter((d) => !d.stack);
    const what = found.cause === 'inputs' ? `inputs differ (A ${pairText(inputs[0])}, B ${pairText(inputs[1])})`
      : found.cause === 'state' ? 'same inputs, different state after it'
        : found.cause === 'start' ? 'the episodes start from different states'
          : `one episode ends first (A ${this.sa.steps} steps, B ${this.sb.steps})`;
    const where = found.cause === 'start' ? 'at it' : 'after it';
    const listed = real.slice(0, 6).map((d) => `${d.name ? `${d.name} (${hex4(d.address)})` : hex4(d.address)} ${hex2(d.a)}/${hex2(d.b)}`).join(', ');
    const frameText = frames[0] === frames[1] ? `frame ${frames[0]}` : `frame ${frames[0]} (A) / ${frames[1]} (B)`;
    const bytesText = found.cause === 'length' ? '' : compared === 0 ? `; RAM ${where} unknown`
      : real.length === 0 ? `; no RAM byte differs ${where}` : `; ${real.length} RAM byte(s) differ ${where}: ${listed}${real.length > 6 ? ', ...' : ''}`;
    return {
      ...base,
      diverged: true,
      step: s,
      frames,
      cause: found.cause,
      inputs,
      ram: cap.ram,
      ramSource: [cap.ram[0] ? cap.source[0] : va ? 'recorded variables' : null, cap.ram[1] ? cap.source[1] : vb ? 'recorded variables' : null],
      screens: cap.screens,
      bytes,
      bytesCompared: compared,
      vars,
      varsAfter: [va ?? null, vb ?? null],
      around,
      message: `first divergence at ${frameText} (step ${s}): ${what}${bytesText}. Replayed ${this.counters.framesReplayed} frame(s) in ${this.counters.replays} replay(s).`,
    };
  }

  /** Bytes that differ: all 2 KB when both RAMs are known, else the bytes the RAM map's variables cover. */
  private byteDiff(ram: [Uint8Array | null, Uint8Array | null], va?: Record<string, number>, vb?: Record<string, number>): { bytes: ByteDiff[]; compared: number } {
    const map = this.env.ramMap;
    // Across emulators the stack page is expected to differ; flagged unless whole RAM was asked for.
    const stackExpected = this.sa.emulator !== this.sb.emulator && this.compare !== 'ram';
    const named = (address: number): string | null => map.nameOf(address) ?? (address >= 0x100 && address < 0x200 ? 'stack' : null);
    const [x, y] = ram;
    if (x && y) {
      const bytes: ByteDiff[] = [];
      for (let i = 0; i < WORK_RAM_SIZE; i++) {
        if (x[i] !== y[i]) bytes.push({ address: i, name: named(i), a: x[i], b: y[i], stack: stackExpected && i >= 0x100 && i < 0x200 });
      }
      return { bytes, compared: WORK_RAM_SIZE };
    }
    const bytesOf = (full: Uint8Array | null, vars: Record<string, number> | undefined): Map<number, number> | undefined => {
      if (full) return new Map(Array.from(full, (v, i) => [i, v] as [number, number]));
      if (!vars) return undefined;
      const out = new Map<number, number>();
      for (const v of map.variables) {
        if (!(v.name in vars)) continue;
        const raw = vars[v.name] & (v.size === 2 ? 0xffff : 0xff);
        out.set(v.address, raw & 0xff);
        if (v.size === 2) out.set(v.address + 1, raw >> 8);
      }
      return out;
    };
    const bx = bytesOf(x, va);
    const by = bytesOf(y, vb);
    if (!bx || !by) return { bytes: [], compared: 0 };
    const bytes: ByteDiff[] = [];
    let compared = 0;
    for (const [addr, v] of [...bx].sort((p, q) => p[0] - q[0])) {
      if (!by.has(addr)) continue;
      compared++;
      if (by.get(addr) !== v) bytes.push({ address: addr, name: named(addr), a: v, b: by.get(addr)!, stack: false });
    }
    if (compared > 0) this.notes.push(`the RAM after the divergence is known only through the RAM map on one side: ${compared} byte(s) compared`);
    return { bytes, compared };
  }
}

function liveSide(s: DivergenceSource & { kind: 'live' }, tag: 'A' | 'B', other: Side): Side {
  return {
    tag,
    summary: {
      label: `live ${s.emulator}`, source: 'live', emulator: s.emulator, path: null, movie: other.summary.movie, episode: null,
      startFrame: other.startLine - fm2LineForFrame(s.emulator, 0), steps: other.steps,
    },
    source: s, lines: other.lines, startLine: other.startLine, steps: other.steps, emulator: s.emulator,
  };
}

interface StateView {
  ram?: Uint8Array;
  /** Recorded 16-hex RAM fingerprint. */
  hash?: string | null;
  /** Recorded full SHA-256 of RAM without the stack page (episode end only). */
  noStackSha?: string | null;
  vars?: Record<string, number>;
}

function frameOf(side: Side, step: number): number {
  return side.summary.startFrame + step;
}

function inputOf(side: Side, step: number): ButtonPair {
  return side.lines[side.startLine + step] ?? [0, 0];
}

function sameInputs(x: ButtonPair, y: ButtonPair): boolean {
  return x[0] === y[0] && x[1] === y[1];
}

function equalBytes(x: Uint8Array, y: Uint8Array, skipStack: boolean): boolean {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (skipStack && i >= 0x100 && i < 0x200) continue;
    if (x[i] !== y[i]) return false;
  }
  return x.length === y.length;
}

export function pairText(p: ButtonPair): string {
  return `${maskToFm2(p[0])}|${maskToFm2(p[1])}`;
}

function hex2(n: number): string {
  return '$' + n.toString(16).toUpperCase().padStart(2, '0');
}

export function hex4(n: number): string {
  return '$' + n.toString(16).toUpperCase().padStart(4, '0');
}

function describeCompare(c: CompareMode): string {
  return c === 'ram' ? 'whole-RAM fingerprints' : c === 'ramNoStack' ? 'RAM without the CPU stack page' : 'RAM-map variables';
}

function describeSearch(s: SearchMode): string {
  return s === 'rows' ? 'recorded rows' : s === 'bisect' ? 'bisection over snapshot checkpoints' : 'frame-by-frame replay';
}
