// Built-in seeded random agent: holds a random button combination for a random number of frames, reproducibly.
import type { AgentAction, AgentPort, Observation } from '../core/ports';
import { Prng } from '../core/prng';
import { BUTTON } from '../core/buttons';

export interface RandomAgentOptions {
  seed?: number;
  /** Buttons it may press (mask); by default everything but START and SELECT, so games are not paused. */
  allowed?: number;
  /** Frames a combination is held: uniformly 1..maxHold. */
  maxHold?: number;
}

export class RandomAgent implements AgentPort {
  readonly name: string;
  readonly wantsScreen = false;
  private readonly prng: Prng;
  private readonly allowed: number;
  private readonly maxHold: number;
  private current = 0;
  private left = 0;

  constructor(options: RandomAgentOptions = {}) {
    const seed = options.seed ?? 0;
    this.name = `random(seed ${seed})`;
    this.prng = new Prng(seed);
    this.allowed = options.allowed ?? (0xff & ~(BUTTON.START | BUTTON.SELECT));
    this.maxHold = Math.max(1, options.maxHold ?? 12);
  }

  async act(obs: Observation): Promise<AgentAction> {
    return this.actNow(obs);
  }

  actNow(obs: Observation): AgentAction {
    if (this.left <= 0) {
      this.current = this.prng.int(256) & this.allowed;
      // Opposite directions at once confuse many games; keep one of each pair.
      if ((this.current & (BUTTON.LEFT | BUTTON.RIGHT)) === (BUTTON.LEFT | BUTTON.RIGHT)) this.current &= ~BUTTON.LEFT;
      if ((this.current & (BUTTON.UP | BUTTON.DOWN)) === (BUTTON.UP | BUTTON.DOWN)) this.current &= ~BUTTON.UP;
      this.left = 1 + this.prng.int(this.maxHold);
    }
    this.left--;
    return { frame: obs.frame, buttons: this.current };
  }

  async close(): Promise<void> {}
}
