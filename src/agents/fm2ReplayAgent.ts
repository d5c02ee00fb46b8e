// FM2 replay agent: plays back an FCEUX movie's input for one controller, frame by frame.
import { readFile } from 'node:fs/promises';
import type { AgentAction, AgentPort, EmulatorKind, Observation } from '../core/ports';
import { parseFm2, type Fm2Movie } from '../core/episodes/fm2';
import { fm2LineForFrame } from '../core/episodes/fm2';

export class Fm2ReplayAgent implements AgentPort {
  readonly name: string;
  readonly wantsScreen = false;
  /** Frames asked for past the movie's end (answered with no buttons). */
  overrun = 0;

  constructor(
    private readonly movie: Fm2Movie,
    private readonly player: 0 | 1,
    label = 'movie',
    /** Which emulator's frame ids the observations carry (both number frames like FCEUX today; see fm2LineForFrame). */
    private readonly emulator: EmulatorKind = 'fceux',
  ) {
    this.name = `fm2(${label}, port ${player})`;
  }

  static async load(path: string, player: 0 | 1, emulator: EmulatorKind = 'fceux'): Promise<Fm2ReplayAgent> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new Error(`FM2 movie not readable: ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return new Fm2ReplayAgent(parseFm2(text, path), player, path, emulator);
  }

  get length(): number {
    return this.movie.frames.length;
  }

  /** Movie line i is read while FCEUX's frame count goes from i to i+1; see fm2LineForFrame for the embedded emulator. */
  async act(obs: Observation): Promise<AgentAction> {
    return this.actNow(obs);
  }

  actNow(obs: Observation): AgentAction {
    const line = this.movie.frames[fm2LineForFrame(this.emulator, obs.frame)];
    if (!line) {
      this.overrun++;
      return { frame: obs.frame, buttons: 0 };
    }
    return { frame: obs.frame, buttons: line.ports[this.player] };
  }

  async close(): Promise<void> {}
}

