// The determinism guard's verdict: a re-simulated frame's RAM is not the recorded one, so this past cannot be shown.

export interface RamDifference {
  address: number;
  recorded: number;
  replayed: number;
}

export class NondeterminismError extends Error {
  constructor(
    /** Session tick, episode, step and frame id of the first state that came out different. */
    readonly at: { tick: number; episode: number; step: number; frame: number },
    /** The first differing bytes (at most 8), by address. */
    readonly differences: RamDifference[],
    /** How many bytes differ in all. */
    readonly differingBytes: number,
  ) {
    const shown = differences.map((d) => `$${hex(d.address, 4)} recorded ${hex(d.recorded, 2)} replayed ${hex(d.replayed, 2)}`).join(', ');
    super(
      `this run is not deterministic here: re-simulating episode ${at.episode} step ${at.step} (frame ${at.frame}) from its keyframe ` +
      `gave different RAM than was recorded: ${differingBytes} byte(s) differ, first ${shown}. The past is not shown rather than shown wrong.`,
    );
    this.name = 'NondeterminismError';
  }
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
