// A probe on this process's sockets: how long Node holds each lockstep round trip, from a state's bytes arriving to
// the write of the answer.
import { Socket } from 'node:net';
import { median } from './roundStats';

/** Chunks at least this long are states (2 KB of RAM or more); writes at most this long are answers (an action). */
const STATE_MIN_BYTES = 1024;
const ANSWER_MAX_BYTES = 200;

/**
 * Times, on every socket of this process, the span from the `data` event that brings a state to the next write of an
 * answer: Node's share of a round trip, whatever code runs in between (the floor's handler, the bridge, the runtime).
 * Frames per second move with the machine by more than this span does: it shows what a change to that path saves.
 * Installed once for the process (it wraps net.Socket's emit and write); samples only between start() and stop().
 */
export class RoundTripProbe {
  private arrival = 0;
  private sampling = false;
  private readonly samples: number[] = [];

  constructor() {
    const arrived = (bytes: number): void => {
      if (this.sampling && bytes >= STATE_MIN_BYTES) this.arrival = performance.now();
    };
    const writing = (bytes: number): void => {
      if (this.arrival === 0 || bytes > ANSWER_MAX_BYTES) return;
      this.samples.push(performance.now() - this.arrival);
      this.arrival = 0;
    };
    const emit = Socket.prototype.emit;
    Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'data') arrived((args[0] as { length: number }).length);
      return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
    } as typeof emit;
    const write = Socket.prototype.write;
    Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]): boolean {
      writing((chunk as { length: number }).length);
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof write;
  }

  start(): void {
    this.samples.length = 0;
    this.arrival = 0;
    this.sampling = true;
  }

  /** Stops sampling; the median span in microseconds, or null when no round trip was seen. */
  stop(): number | null {
    this.sampling = false;
    this.arrival = 0;
    return this.samples.length ? median(this.samples) * 1000 : null;
  }
}
