// Layer 2 scheduling: NTP-style ping rounds with every peer that can answer one (emulator link, trainers) at connect and every clockSyncInterval frames.
import { ClockSync } from './clockSync';
import type { DesyncEvent } from './desyncDetector';

/** One ping/pong exchange: t0 local send time, t1 the peer's clock when it answered, t3 local receive time (ms). */
export interface ClockSample {
  t0: number;
  t1: number;
  t3: number;
}

/** What a port offers to be clock-synced: one ping stamped with the caller's clock; null when unanswered in time or not connected. */
export interface ClockPingable {
  clockPing(now: () => number, timeoutMs: number): Promise<ClockSample | null>;
  /** Changes when the peer's link is replaced (a reconnect): its clock may be another machine's, so the estimate starts over. */
  readonly clockLinkId?: number;
}

export function isClockPingable(x: unknown): x is ClockPingable {
  return typeof (x as Partial<ClockPingable> | undefined)?.clockPing === 'function';
}

export interface ClockPeer {
  /** "emulator", "controller 1", "controller 2". */
  readonly name: string;
  /** The controller a trainer drives; null for the emulator. */
  readonly player: number | null;
  readonly port: ClockPingable;
}

/** One peer's clock as last measured. */
export interface PeerClock {
  peer: string;
  player: number | null;
  /** Peer clock minus bridge clock, from the fastest round trip of the last round; null before any answer. */
  offsetMs: number | null;
  /** That round trip. */
  rttMs: number | null;
  /** Rounds with at least one answer. */
  rounds: number;
  /** The frame the last round finished at. */
  frame: number | null;
}

export interface ClockRound {
  peer: ClockPeer;
  offsetMs: number;
  rttMs: number;
  frame: number;
  /** The peer's link changed since the last round: its old reference means nothing now. */
  newLink: boolean;
}

export interface ClockSyncSchedulerOptions {
  peers: ClockPeer[];
  /** Frames between rounds (clockSyncInterval). */
  intervalFrames: number;
  /** Pings per round; the offset comes from the one with the smallest round trip. Default 4. */
  samples?: number;
  /** How long one ping may stay unanswered. */
  timeoutMs: number;
  now: () => number;
  onRound: (round: ClockRound) => void;
}

export const DEFAULT_CLOCK_SAMPLES = 4;

interface PeerState {
  peer: ClockPeer;
  sync: ClockSync;
  stats: PeerClock;
  /** Frames counted since this peer's last round started. */
  framesSince: number;
  linkId: number | undefined;
  running: boolean;
}

/**
 * Runs rounds in the background: the frame loop never waits for a pong. A peer whose round is still out (a trainer
 * busy thinking answers late) skips the next due round rather than stacking pings. Frames are counted as they run, not
 * by frame id, so episode resets do not restart the count.
 */
export class ClockSyncScheduler {
  private readonly peers: PeerState[];
  private readonly samples: number;
  private readonly rounds = new Set<Promise<void>>();
  private frame = 0;
  private closed = false;

  constructor(private readonly opts: ClockSyncSchedulerOptions) {
    if (!Number.isInteger(opts.intervalFrames) || opts.intervalFrames < 1) {
      throw new RangeError(`ClockSyncScheduler: intervalFrames must be a positive integer, got ${String(opts.intervalFrames)}`);
    }
    this.samples = opts.samples ?? DEFAULT_CLOCK_SAMPLES;
    if (!Number.isInteger(this.samples) || this.samples < 1) throw new RangeError(`ClockSyncScheduler: samples must be a positive integer, got ${String(opts.samples)}`);
    this.peers = opts.peers.map((peer) => ({
      peer,
      sync: new ClockSync({ window: this.samples }),
      stats: { peer: peer.name, player: peer.player, offsetMs: null, rttMs: null, rounds: 0, frame: null },
      framesSince: 0,
      linkId: undefined,
      running: false,
    }));
  }

  /** The peers' clocks as last measured. */
  get clocks(): PeerClock[] {
    return this.peers.map((p) => ({ ...p.stats }));
  }

  /** Peer clock minus bridge clock for `peer`, or null before its first answer. */
  offsetOf(peer: string): number | null {
    return this.peers.find((p) => p.peer.name === peer)?.stats.offsetMs ?? null;
  }

  /** The first sync (connect): a round with every peer now. */
  connected(frame: number): void {
    this.frame = frame;
    for (const p of this.peers) this.startRound(p);
  }

  /** A frame ran and the emulator now holds `frame`: starts the rounds that are due (interval passed, or a new link). */
  frameRan(frame: number): void {
    this.frame = frame;
    for (const p of this.peers) {
      p.framesSince++;
      const relinked = p.peer.port.clockLinkId !== p.linkId;
      if (p.framesSince >= this.opts.intervalFrames || relinked) this.startRound(p);
    }
  }

  /** Resolves once no round is out (tests, and an orderly close). */
  async idle(): Promise<void> {
    while (this.rounds.size > 0) await Promise.all([...this.rounds]);
  }

  close(): void {
    this.closed = true;
  }

  private startRound(p: PeerState): void {
    if (p.running || this.closed) return;
    p.running = true;
    p.framesSince = 0;
    const round = this.round(p).finally(() => {
      p.running = false;
      this.rounds.delete(round);
    });
    this.rounds.add(round);
  }

  private async round(p: PeerState): Promise<void> {
    const linkId = p.peer.port.clockLinkId;
    const newLink = linkId !== p.linkId && p.stats.rounds > 0;
    p.linkId = linkId;
    // One window per round: the estimate is this round's fastest exchange, not one from before a clock jump.
    p.sync.reset();
    for (let i = 0; i < this.samples && !this.closed; i++) {
      let s: ClockSample | null;
      try {
        s = await p.peer.port.clockPing(this.opts.now, this.opts.timeoutMs);
      } catch {
        s = null;
      }
      if (!s) break;
      if (s.t3 < s.t0) continue;
      p.sync.addSample(s.t0, s.t1, s.t3);
    }
    const offset = p.sync.offsetMs;
    const rtt = p.sync.rttMs;
    if (this.closed || offset === null || rtt === null) return;
    // Updated in place (`clocks` hands out copies): a new object every round would give the frame loop's reads of the
    // offset (bridgeTime, once a frame) a shape they were not optimized for, and V8 would deoptimize them each round.
    const st = p.stats;
    st.offsetMs = offset;
    st.rttMs = rtt;
    st.rounds++;
    st.frame = this.frame;
    this.opts.onRound({ peer: p.peer, offsetMs: offset, rttMs: rtt, frame: this.frame, newLink });
  }
}

/** A clock_drift desync as summaries report it (CLI --json, serve's stopped line). */
export interface ClockDriftRecord {
  frame: number;
  peer: string | null;
  offsetMs: number | null;
  driftMs: number | null;
}

export function clockDriftRecords(events: readonly DesyncEvent[]): ClockDriftRecord[] {
  return events.filter((e) => e.type === 'clock_drift')
    .map((e) => ({ frame: e.frame, peer: e.peer ?? null, offsetMs: e.clockOffsetMs, driftMs: e.clockDriftMs ?? null }));
}
