// What a run is made of (ROM, emulator, one agent per controller, sync settings): the one description shared by the CLI, the debug adapter and `lockstep serve`.
import type { SyncConfig } from '../core/config/config';
import type { EmulatorKind } from '../core/ports';

export type AgentSpec =
  | { type: 'random'; seed?: number }
  | { type: 'scripted'; path: string }
  | { type: 'onnx'; path: string }
  | { type: 'fm2'; path: string }
  /** A recording folder: each recorded episode's buttons replayed in order (the timeline's Open Recording). */
  | { type: 'recording'; path: string }
  | { type: 'websocket' }
  | { type: 'none' };

export interface SessionSpec {
  /** ROM path; default: the bundled demo ROM. */
  rom?: string;
  emulator?: EmulatorKind;
  fceuxPath?: string;
  /** FCEUX only: launch it (default) or wait for a user-started FCEUX running lua/lockstep.lua. */
  fceuxMode?: 'launch' | 'attach';
  /** FCEUX only: run without a window (default true). */
  headless?: boolean;
  /** One agent per controller; controller 2 is left released when omitted. */
  agents: [AgentSpec | undefined, AgentSpec | undefined];
  /** Seed for built-in random agents and sampling policies. */
  seed?: number;
  maxSteps?: number | null;
  /** RAM-map JSON; default: `<rom>.rammap.json` beside the ROM if present. */
  ramMap?: string;
  /** Folder for episode recordings. */
  record?: string;
  sync?: Partial<SyncConfig>;
  /** Bridge port for FCEUX and trainers; 0 = any free port. */
  port?: number;
  token?: string;
  captureScreens?: boolean;
  stepBackDepth?: number;
  /** Keep the whole session for step back and travel (embedded emulator, lockstep mode); default on when stepBackDepth > 0. */
  timeTravel?: boolean;
  /** Embedded emulator: a recording's rows carry the machine state every this many steps (snapshot sidecar); runs jsnes in process. */
  snapshotEvery?: number;
  /**
   * Embedded emulator: where jsnes runs. 'worker' (default): a thread of its own, so a frame never blocks the session's
   * event loop (the VS Code extension host). 'main': on the session's own thread, which spares the two thread hand-offs
   * every frame costs; for a server with nothing else to do, e.g. the `lockstep serve` a Python env starts for itself.
   */
  embeddedThread?: EmbeddedThread;
  /** A recording (folder, manifest) to compare every frame with: the first differing fingerprint is a state_divergence desync. */
  reference?: string;
  /** Folder relative paths are resolved against (workspace folder). */
  cwd?: string;
}

export const EMBEDDED_THREADS = ['worker', 'main'] as const;
export type EmbeddedThread = (typeof EMBEDDED_THREADS)[number];

const AGENT_KINDS = ['random', 'scripted', 'onnx', 'fm2', 'recording', 'websocket', 'none'] as const;

/**
 * Parses an agent given as text: `random`, `random:SEED`, `scripted:PATH`, `onnx:PATH`, `fm2:PATH`, `recording:FOLDER`, `websocket`, `none`,
 * or as an object `{ "type": ..., ... }`. Throws naming what is wrong.
 */
export function parseAgentSpec(value: unknown, where = 'agent'): AgentSpec {
  if (typeof value === 'string') {
    const i = value.indexOf(':');
    const kind = (i < 0 ? value : value.slice(0, i)).trim();
    const arg = i < 0 ? '' : value.slice(i + 1).trim();
    switch (kind) {
      case 'random': {
        if (arg === '') return { type: 'random' };
        const seed = Number(arg);
        if (!Number.isSafeInteger(seed)) throw new Error(`${where}: "random:${arg}" needs an integer seed`);
        return { type: 'random', seed };
      }
      case 'scripted':
      case 'onnx':
      case 'fm2':
      case 'recording':
        if (arg === '') throw new Error(`${where}: "${kind}" needs a path, e.g. "${kind}:${kind === 'scripted' ? 'agent.js' : kind === 'onnx' ? 'model.onnx' : kind === 'fm2' ? 'movie.fm2' : 'recordings/run-1'}"`);
        return { type: kind, path: arg };
      case 'websocket':
      case 'none':
        return { type: kind };
      default:
        throw new Error(`${where}: unknown agent "${value}" (expected one of ${AGENT_KINDS.join(', ')}, e.g. "random:7" or "scripted:agent.js")`);
    }
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const type = o.type;
    if (typeof type !== 'string' || !(AGENT_KINDS as readonly string[]).includes(type)) {
      throw new Error(`${where}.type must be one of ${AGENT_KINDS.join(', ')}, got ${JSON.stringify(type)}`);
    }
    if (type === 'random') {
      if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw new Error(`${where}.seed must be an integer, got ${JSON.stringify(o.seed)}`);
      return { type: 'random', seed: o.seed as number | undefined };
    }
    if (type === 'scripted' || type === 'onnx' || type === 'fm2' || type === 'recording') {
      if (typeof o.path !== 'string' || o.path === '') throw new Error(`${where}.path must be a file path for a ${type} agent`);
      return { type, path: o.path };
    }
    return { type: type as 'websocket' | 'none' };
  }
  throw new Error(`${where} must be a string like "random" or an object with "type", got ${JSON.stringify(value)}`);
}

export function describeAgentSpec(spec: AgentSpec | undefined): string {
  if (!spec) return 'none';
  switch (spec.type) {
    case 'random':
      return spec.seed === undefined ? 'random' : `random:${spec.seed}`;
    case 'scripted':
    case 'onnx':
    case 'fm2':
    case 'recording':
      return `${spec.type}:${spec.path}`;
    case 'websocket':
    case 'none':
      return spec.type;
    default: {
      const _never: never = spec;
      return String(_never);
    }
  }
}
