// Replays a movie's input lines on one emulator for the divergence finder: seek to a step from the nearest saved state, count every frame run.
import type { ButtonPair } from '../buttons';
import type { EmulatorFrame, EmulatorPort, SnapshotHandle } from '../ports';
import { fm2LineForFrame } from '../episodes/fm2';
import type { SnapshotCheckpoint } from '../episodes/snapshotSidecar';
import { isStateExporter } from '../ports';

/** What the finder spent: reported so a long search can be seen to be cheap (or not). */
export interface ReplayCounters {
  /** Forward runs started from power-on, a snapshot or a sidecar state. */
  replays: number;
  /** Frames emulated in all of them (warmup included). */
  framesReplayed: number;
  /** Checkpoint pairs compared by the bisection. */
  probes: number;
}

export function newReplayCounters(): ReplayCounters {
  return { replays: 0, framesReplayed: 0, probes: 0 };
}

export interface LineReplayerOptions {
  label: string;
  emulator: EmulatorPort;
  romPath: string;
  /** Input lines from power-on (for a recording: the blank lead-in, then one line per row). */
  lines: readonly ButtonPair[];
  /** The line step 0 reads. */
  startLine: number;
  counters: ReplayCounters;
  /** States saved during the recorded run (sidecar), usable when this emulator can import them. */
  checkpoints?: readonly SnapshotCheckpoint[];
  checkpointFormat?: string;
}

/**
 * One emulator replaying input lines, addressed by episode step: step s runs line startLine + s. A seek starts from the
 * closest state at or before the target: where it already is, one of its marks, a sidecar state, or power-on (then the
 * lines before the start, the warmup, run as the movie has them). Every run and every frame is counted.
 */
export class LineReplayer {
  readonly label: string;
  readonly kind: EmulatorPort['kind'];
  private readonly o: LineReplayerOptions;
  private cur: EmulatorFrame | undefined;
  /** Step the held frame is (negative while still in the warmup lines). */
  private at = Number.NEGATIVE_INFINITY;
  private readonly marks: Array<{ step: number; handle: SnapshotHandle }> = [];
  private opened = false;
  /** The held state is a fresh power-on not yet run from (its replay is counted when it is). */
  private fromPowerOn = false;

  constructor(options: LineReplayerOptions) {
    this.o = options;
    this.label = options.label;
    this.kind = options.emulator.kind;
  }

  /** The step the emulator holds (the state it starts from), once seeked. */
  get step(): number {
    return this.at;
  }

  get current(): EmulatorFrame {
    if (!this.cur) throw new Error(`${this.label}: not started`);
    return this.cur;
  }

  /** Frame id this emulator gives step s (movie line = frame id on both emulators; see fm2LineForFrame). */
  frameOf(step: number): number {
    return this.o.startLine + step - fm2LineForFrame(this.kind, 0);
  }

  inputAt(step: number): ButtonPair {
    return this.o.lines[this.o.startLine + step] ?? [0, 0];
  }

  get steps(): number {
    return Math.max(0, this.o.lines.length - this.o.startLine);
  }

  /** Brings the emulator to the start of `step` (the state that step runs from). */
  async seek(step: number, opts: { screen?: boolean } = {}): Promise<EmulatorFrame> {
    if (!Number.isSafeInteger(step) || step < 0) throw new Error(`${this.label}: cannot seek to step ${step}`);
    if (!this.opened) await this.powerOn();
    // The closest start at or before the target: where we are (power-on included), a mark, a sidecar state.
    let bestStep = this.at <= step ? this.at : Number.NEGATIVE_INFINITY;
    let restore: (() => Promise<EmulatorFrame>) | undefined;
    for (const m of this.marks) {
      if (m.step <= step && m.step > bestStep) {
        bestStep = m.step;
        restore = () => this.o.emulator.loadSnapshot(m.handle);
      }
    }
    const emu = this.o.emulator;
    if (this.o.checkpoints && isStateExporter(emu) && this.o.checkpointFormat === emu.stateFormat) {
      for (const c of this.o.checkpoints) {
        if (c.step <= step && c.step > bestStep) {
          bestStep = c.step;
          restore = () => emu.importState(c.state);
        }
      }
    }
    if (bestStep === Number.NEGATIVE_INFINITY) {
      // Past the target with nothing saved before it: power on again.
      await this.powerOn();
    }
    if (restore) {
      this.cur = await restore();
      this.at = bestStep;
      this.o.counters.replays++;
      this.fromPowerOn = false;
    } else if (this.fromPowerOn) {
      this.o.counters.replays++;
      this.fromPowerOn = false;
    }
    while (this.at < step) await this.advance(undefined, { screen: opts.screen && this.at === step - 1 });
    if (opts.screen && !this.cur!.screen) this.cur = await emu.current({ screen: true });
    return this.cur!;
  }

  /** Runs the held step with its own input (or `buttons`) and holds the next one. */
  async advance(buttons?: ButtonPair, opts: { screen?: boolean } = {}): Promise<EmulatorFrame> {
    if (!this.opened) throw new Error(`${this.label}: seek before advancing`);
    this.cur = await this.o.emulator.step(buttons ?? this.inputAt(this.at), { screen: opts.screen === true });
    this.o.counters.framesReplayed++;
    this.at++;
    return this.cur;
  }

  /** The held frame again, with its screen. */
  async withScreen(): Promise<EmulatorFrame> {
    if (!this.cur) throw new Error(`${this.label}: not started`);
    if (!this.cur.screen) this.cur = await this.o.emulator.current({ screen: true });
    return this.cur;
  }

  /** Saves the held state so a later seek can start here. */
  async mark(): Promise<void> {
    if (this.marks.some((m) => m.step === this.at)) return;
    this.marks.push({ step: this.at, handle: await this.o.emulator.saveSnapshot() });
  }

  async close(): Promise<void> {
    await this.o.emulator.close();
  }

  /** Power-on: the held state is the line before the episode's first (warmup lines run on the first seek that needs them). */
  private async powerOn(): Promise<void> {
    const emu = this.o.emulator;
    if (!this.opened) {
      const { first } = await emu.start(this.o.romPath);
      this.opened = true;
      this.cur = first;
    } else {
      this.cur = await emu.reset();
    }
    this.fromPowerOn = true;
    const line = fm2LineForFrame(this.kind, this.cur.frame);
    if (line > this.o.startLine) {
      throw new Error(`${this.label}: ${this.kind} powers on at frame ${this.cur.frame} (movie line ${line}), past the episode's first line ${this.o.startLine}`);
    }
    this.at = line - this.o.startLine;
  }
}
