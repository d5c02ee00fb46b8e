// The seam between the runtime and its two run modes: what a frame driver does for the runtime, and what the runtime lends it.
import type { AgentInputLog } from './agentInputLog';
import type { EmulatorFrame } from '../ports';
import type { Observation } from '../ports';
import type { FrameGate } from '../sync/frameGate';
import type { DesyncDetector, DesyncEvent } from '../sync/desyncDetector';
import type { RecoveryPlan, RecoveryPolicy } from '../sync/recovery';
import type { SyncBuffer } from '../sync/syncBuffer';
import type { SyncMetrics } from '../sync/metrics';
import type { TypedEmitter } from '../typedEmitter';
import type { RuntimeFault } from './runtimeFault';
import type { EpisodeEnd } from './rows';
import type { FrameOutcome, RunAheadStats, RuntimeDeps, RuntimeEvents, RuntimeOptions, RuntimeStateBuffered } from './runtimeTypes';

/**
 * How frames advance in one sync mode. The runtime owns the episode (counters, history, observations, step back) and
 * hands each frame's advance to exactly one driver, chosen once from sync.mode.
 */
export interface FrameDriver {
  /** Called when an episode's first frame is about to become current (before the runtime holds it). */
  startEpisode(first: EmulatorFrame): void;
  /** The held frame was replaced (a new frame, step back, a RAM write): agents must be asked about it afresh. */
  heldChanged(): void;
  /**
   * Runs one frame, or returns advanced=false when the wait was interrupted. `cur` is the frame the runtime holds.
   * `eager`: the caller advances again at once, so the driver may send the next frame's step before returning (then
   * `inFlight` is true until the next advance takes it over).
   */
  advance(cur: EmulatorFrame, eager?: boolean): Promise<FrameOutcome>;
  /** A step was sent for the held frame by an eager advance and the next advance has not taken it over yet. */
  readonly inFlight: boolean;
  /** Buttons given by hand for one controller; `gateOpen` says whether a frame was held at the gate when they came. */
  supply(controller: number, buttons: number, gateOpen: boolean): void;
  /** Recovery asked to tell an agent the held frame again. */
  resync(controller: number, cur: EmulatorFrame): void;
  /** The state is about to be changed in place (a RAM write): frames that depend on the old state are dropped. */
  beforeEdit(): Promise<void>;
  /** The state changed in place: `fresh` is the frame the emulator now holds. */
  afterEdit(fresh: EmulatorFrame): void;
  /** The trainer ended its episode at `frame`. */
  agentTerminated(frame: number): void;
  /** The user ends the episode at the held frame (before the runtime records the end). */
  stopEpisode(): Promise<void>;
  /** Frames below this have final rows. */
  confirmedFrame(cur: EmulatorFrame | undefined): number | undefined;
  readonly runAheadStats: RunAheadStats;
  dispose(): void;
}

/** Where the held frame is in its episode. Drivers move these counters as frames run; the runtime reads and restores them. */
export interface EpisodeCounters {
  episode: number;
  step: number;
  /** Frame id of the episode's first frame. */
  startFrame: number;
  returns: [number, number];
  /** Reward of the transition that led to the held frame, per controller (what a Gym step() returns with the observation). */
  lastRewards: [number, number];
  lastButtons: [number, number];
  /** The frame after which the trainer said its episode is over, if it did. */
  agentTerminatedAt: number | null;
}

/** What the runtime lends its driver: the shared parts (gate, detector, recovery, buffer, metrics) and the episode's bookkeeping. */
export interface DriverHost {
  readonly deps: RuntimeDeps;
  readonly options: RuntimeOptions;
  readonly events: TypedEmitter<RuntimeEvents>;
  readonly gate: FrameGate;
  readonly detector: DesyncDetector;
  readonly recovery: RecoveryPolicy;
  readonly buffer: SyncBuffer<RuntimeStateBuffered, Uint8Array>;
  readonly metrics: SyncMetrics;
  /** Controllers driven by an agent. */
  readonly players: readonly number[];
  readonly counters: EpisodeCounters;
  readonly wantsScreens: boolean;
  now(): number;
  current(): EmulatorFrame | undefined;
  setCurrent(f: EmulatorFrame): void;
  /** A frame that ran becomes the held frame (and, with the session history, its next tick). */
  holdNext(f: EmulatorFrame): void;
  fault(): RuntimeFault | undefined;
  closed(): boolean;
  fail(f: RuntimeFault): void;
  /** The signal that ends the coming wait when the run is interrupted (pause, fault, close). */
  interruptSignal(): AbortSignal;
  /** The RAM-map variables of a frame (read once for the held frame). */
  varsOf(f: EmulatorFrame): Record<string, number>;
  observation(cur: EmulatorFrame, player: 0 | 1, withScreen: boolean): Observation;
  /** Where the observations given and the answers received are kept for the agent's-eye view. */
  readonly agentInputs: AgentInputLog;
  /** Forgets buffered states and screens at or after `toFrame`. */
  rewindBuffer(toFrame: number): void;
  handleDesync(ev: DesyncEvent, player: number | null, cur: EmulatorFrame): RecoveryPlan;
  /** Keeps what step back needs before the held frame runs with `buttons` (the snapshot ring, or the session history's buttons). */
  pushHistory(cur: EmulatorFrame, buttons: [number, number]): Promise<void>;
  /**
   * pushHistory does all its work before it returns (the session history's buttons, or no step-back ring): nothing
   * to wait for from the emulator, so a step may follow in the same turn.
   */
  readonly historyAtOnce: boolean;
  /** Compares a frame that became current with the reference run. */
  checkReference(f: EmulatorFrame): void;
  /** `after`: the frame the emulator holds once the episode's last frame ran (the trainer's terminal observation). */
  makeEpisodeEnd(reason: EpisodeEnd['reason'], after: EmulatorFrame): EpisodeEnd;
  /** Moves to the next episode after `end`: counts it, drops the step-back ring, reloads the first frame and holds it. */
  nextEpisode(end: EpisodeEnd): Promise<EmulatorFrame>;
}

/** A timeout desync for frame `cur.frame` that no detector check produced (the gate's own wait ran out). */
export function timeoutEvent(cur: EmulatorFrame, missing: number[], waited: number, now: number): DesyncEvent {
  return {
    type: 'timeout',
    frame: cur.frame,
    expectedFrame: cur.frame,
    receivedFrame: null,
    gap: null,
    delayMs: waited,
    clockOffsetMs: null,
    player: missing[0] ?? null,
    timestamp: now,
    message: `no action for frame ${cur.frame} from controller ${missing.map((m) => m + 1).join(', ')} after ${Math.round(waited)} ms`,
  };
}
