// Launch/attach arguments of the `lockstep` debug type: the TypeScript type, the attribute table package.json must match, and the conversion to a SessionSpec.
import { SYNC_SETTINGS, defaultSyncConfig, mergeSyncConfig, type SyncConfig } from '../core/config/config';
import { parseAgentSpec, type AgentSpec, type SessionSpec } from '../session/sessionSpec';
import type { EmulatorKind } from '../core/ports';

/** An agent as launch.json gives it: `random`, `random:7`, `scripted:PATH`, `onnx:PATH`, `fm2:PATH`, `recording:FOLDER`, `websocket`, `none`, or an object. */
export type AgentSetting = string | AgentSpec;

export interface LockstepLaunchArgs {
  /** ROM file; default: the bundled demo ROM. */
  rom?: string;
  emulator?: EmulatorKind;
  fceuxPath?: string;
  /** FCEUX only: run without a window. */
  headless?: boolean;
  /** Agent driving controller 1. */
  agent?: AgentSetting;
  /** Agent driving controller 2 (released when omitted). */
  agent2?: AgentSetting;
  seed?: number;
  /** Bridge port for FCEUX and trainers; 0 = any free port. */
  port?: number;
  /** Session token FCEUX and trainers must present; default: a random one. */
  token?: string;
  stopOnEntry?: boolean;
  maxSteps?: number;
  ramMap?: string;
  /** Folder for episode recordings. */
  record?: string;
  /** A recording to compare every frame with: the first frame whose fingerprint differs stops on state_divergence. */
  reference?: string;
  /** Frames kept for step back. */
  stepBackDepth?: number;
  /** Keep the whole session for step back and reverse continue (embedded emulator, lockstep mode). */
  timeTravel?: boolean;
  /** Screens: absent, captured while a screen or buffer panel shows them; true, every frame; false, never. */
  captureScreens?: boolean;
  /** Start with pause-until-action on. */
  pauseUntilAction?: boolean;
  sync?: Partial<SyncConfig>;
  /** Folder relative paths are resolved against. */
  cwd?: string;
}

/** Attach: a user-started FCEUX running lua/lockstep.lua connects to the bridge (no emulator choice, no FCEUX path). */
export type LockstepAttachArgs = Omit<LockstepLaunchArgs, 'emulator' | 'fceuxPath' | 'headless'>;

export type RequestKind = 'launch' | 'attach';

export const DEFAULT_STEP_BACK_DEPTH = 600;

// ---- the attribute table (package.json's configurationAttributes must match it; test/unit/debugAdapter/launchArgs.test.ts checks) ----

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

/** The JSON-schema type names a TypeScript property type allows. */
type JsonTypeOf<T> = T extends boolean ? 'boolean'
  : T extends number ? 'number' | 'integer'
  : T extends string ? 'string'
  : T extends readonly unknown[] ? 'array'
  : T extends object ? 'object'
  : never;

export interface AttributeSchema {
  type: JsonType | readonly JsonType[];
  description: string;
  enum?: readonly string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  patternErrorMessage?: string;
  properties?: Record<string, AttributeSchema>;
  required?: readonly string[];
  additionalProperties?: boolean;
  /** What launch.json IntelliSense offers as values (VS Code's JSON schema extension). */
  defaultSnippets?: ReadonlyArray<{ label: string; description: string; body: unknown }>;
}

/** One schema per property of T, whose `type` must be a JSON type T's property type allows (checked by the compiler). */
type AttributeTable<T> = {
  readonly [K in keyof Required<T>]: AttributeSchema & {
    type: JsonTypeOf<NonNullable<T[K]>> | readonly JsonTypeOf<NonNullable<T[K]>>[];
  };
};

const AGENT_PATTERN = '^(random(:-?\\d+)?|scripted:.+|onnx:.+|fm2:.+|recording:.+|websocket|none)$';
const AGENT_OBJECT: Record<string, AttributeSchema> = {
  type: { type: 'string', enum: ['random', 'scripted', 'onnx', 'fm2', 'recording', 'websocket', 'none'], description: 'Agent kind.' },
  seed: { type: 'integer', description: 'Seed for a random agent.' },
  path: { type: 'string', description: 'File for a scripted (.js), onnx (.onnx) or fm2 (.fm2) agent, or the folder of a recording agent.' },
};

/** The agent values IntelliSense offers; paths start in the workspace folder (the `^` keeps `${workspaceFolder}` literal). */
const AGENT_SNIPPETS = [
  { label: 'random', description: 'Seeded random buttons (seed: the seed attribute)', body: 'random' },
  { label: 'random:SEED', description: 'Random buttons with their own seed', body: 'random:${1:7}' },
  { label: 'websocket', description: 'An external trainer connects (Python client, lockstep_client)', body: 'websocket' },
  { label: 'onnx:', description: 'An ONNX policy run in process', body: '^"onnx:\\${workspaceFolder}/${1:policy.onnx}"' },
  { label: 'fm2:', description: 'Replay an FCEUX movie\'s inputs', body: '^"fm2:\\${workspaceFolder}/${1:movie.fm2}"' },
  { label: 'scripted:', description: 'A JavaScript module exporting act(observation)', body: '^"scripted:\\${workspaceFolder}/${1:agent.js}"' },
  { label: 'none', description: 'Nobody: the controller stays released', body: 'none' },
] as const;

function agentSchema(description: string, dflt?: string): AttributeSchema & { type: readonly ('string' | 'object')[] } {
  return {
    type: ['string', 'object'],
    description: `${description} "random", "random:SEED", "scripted:PATH", "onnx:PATH", "fm2:PATH", "recording:FOLDER" (replay a recording folder's episodes), "websocket" (a trainer connects), "none", or an object {"type": ..., "path"/"seed": ...}.`,
    pattern: AGENT_PATTERN,
    patternErrorMessage: 'Use random, random:SEED, scripted:PATH, onnx:PATH, fm2:PATH, recording:FOLDER, websocket or none.',
    properties: AGENT_OBJECT,
    defaultSnippets: AGENT_SNIPPETS,
    ...(dflt !== undefined ? { default: dflt } : {}),
  };
}

/** The `sync` object's properties, straight from the sync settings table (one source of truth). */
export function syncSchema(): AttributeSchema & { type: 'object' } {
  const properties: Record<string, AttributeSchema> = {};
  for (const s of SYNC_SETTINGS) {
    const p: AttributeSchema = { type: s.kind === 'enum' ? 'string' : s.kind === 'int' ? 'integer' : 'number', description: s.description, default: s.default };
    if (s.values) p.enum = s.values;
    if (s.min !== undefined) {
      if (s.minInclusive === false) p.exclusiveMinimum = s.min;
      else p.minimum = s.min;
    }
    if (s.max !== undefined) p.maximum = s.max;
    properties[s.key] = p;
  }
  return {
    type: 'object',
    description: 'Sync settings for this run, over the workspace lockstep.yaml (same names as its flat `sync:` section).',
    properties,
    additionalProperties: false,
  };
}

/** `${command:lockstep.pickRom}` asks for the ROM when the session starts (the workspace's .nes files, or a file dialog). */
export const PICK_ROM_VARIABLE = '${command:lockstep.pickRom}';

const ROM = {
  type: 'string',
  description: 'The .nes ROM to run. Default: the bundled demo ROM (Lockstep Catch). "${command:lockstep.pickRom}" asks when the session starts.',
  defaultSnippets: [
    { label: 'Pick the ROM when the session starts', description: 'The workspace\'s .nes files, or a file dialog', body: '^"\\' + PICK_ROM_VARIABLE + '"' },
    { label: 'A ROM in the workspace', description: 'A path under the workspace folder', body: '^"\\${workspaceFolder}/${1:game.nes}"' },
  ],
} as const;

const COMMON = {
  agent: agentSchema('Agent driving controller 1.', 'random'),
  agent2: agentSchema('Agent driving controller 2 (released when omitted).'),
  seed: { type: 'integer', description: 'Seed for random agents and sampling policies (controller 2 gets seed + 1).' },
  port: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: 'Bridge port FCEUX and trainers connect to (ws://127.0.0.1:PORT); 0 picks a free port.' },
  token: { type: 'string', description: 'Session token FCEUX and trainers must present. Default: a random token, shown in the Debug Console.' },
  stopOnEntry: { type: 'boolean', default: false, description: 'Stop on the first frame of episode 0 instead of running.' },
  maxSteps: { type: 'integer', minimum: 1, description: 'Steps per episode before it is truncated.' },
  ramMap: { type: 'string', description: 'RAM map (.rammap.json). Default: <rom>.rammap.json beside the ROM.' },
  record: { type: 'string', description: 'Folder to record episodes into.' },
  reference: { type: 'string', description: 'A recording (folder or episode-NNNN.json) to compare every frame with: the first frame whose RAM fingerprint differs (RAM-map variables for a recording from the other emulator) stops on the "State divergence" exception breakpoint.' },
  stepBackDepth: { type: 'integer', minimum: 0, maximum: 100000, default: DEFAULT_STEP_BACK_DEPTH, description: 'Frames kept for Step Back / Reverse Continue (0 turns step back off).' },
  timeTravel: { type: 'boolean', default: true, description: 'Keep the whole session for Step Back / Reverse Continue: any frame of any episode, restored from keyframes (compressed ones kept by the embedded emulator, in-memory savestates in FCEUX) within 256 MiB. Off, or in run-ahead mode: only the last stepBackDepth frames of the current episode.' },
  captureScreens: { type: 'boolean', description: 'Screens: absent, captured while a screen or buffer panel is open; true, every frame even with no panel (configurations Lockstep makes, Debug ROM and the snippets, set it); false, never (the screen panel says so). Agents that take screens get them either way.' },
  pauseUntilAction: { type: 'boolean', default: false, description: 'Stop whenever the emulator has waited for an agent longer than a moment, so the action can be given by hand.' },
  sync: syncSchema(),
  cwd: { type: 'string', default: '${workspaceFolder}', description: 'Folder relative paths are resolved against.' },
} satisfies Omit<AttributeTable<LockstepAttachArgs>, 'rom'>;

export const LAUNCH_ATTRIBUTES: AttributeTable<LockstepLaunchArgs> = {
  rom: ROM,
  emulator: { type: 'string', enum: ['embedded', 'fceux'], default: 'embedded', description: 'embedded: jsnes inside Lockstep (fast, no install). fceux: a real FCEUX started by Lockstep.' },
  fceuxPath: { type: 'string', description: 'FCEUX executable. Default: the lockstep.fceuxPath setting, else fceux on PATH (or /usr/games/fceux).' },
  headless: { type: 'boolean', default: true, description: 'FCEUX only: run without a window.' },
  ...COMMON,
};

export const ATTACH_ATTRIBUTES: AttributeTable<LockstepAttachArgs> = { rom: ROM, ...COMMON };

/** The `configurationAttributes` block for package.json's `lockstep` debugger, generated from the tables. */
export function configurationAttributes(): { launch: { properties: Record<string, AttributeSchema> }; attach: { properties: Record<string, AttributeSchema> } } {
  return {
    launch: { properties: { ...LAUNCH_ATTRIBUTES } },
    attach: { properties: { ...ATTACH_ATTRIBUTES } },
  };
}

// ---- conversion ----

/** Turns launch.json arguments into a SessionSpec; throws one clear sentence naming the attribute and value. */
export function toSessionSpec(raw: unknown, kind: RequestKind): { spec: SessionSpec; stopOnEntry: boolean; pauseUntilAction: boolean; warnings: string[] } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${kind} arguments must be an object`);
  const a = raw as Record<string, unknown>;
  const table: Record<string, AttributeSchema> = kind === 'launch' ? LAUNCH_ATTRIBUTES : ATTACH_ATTRIBUTES;
  const where = (k: string) => `launch.json "${k}"`;
  const str = (k: string): string | undefined => {
    const v = a[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new Error(`${where(k)} must be a non-empty string, got ${show(v)}`);
    return v;
  };
  const bool = (k: string): boolean | undefined => {
    const v = a[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new Error(`${where(k)} must be true or false, got ${show(v)}`);
    return v;
  };
  const int = (k: string, min: number, max: number): number | undefined => {
    const v = a[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new Error(`${where(k)} must be an integer from ${min} to ${max}, got ${show(v)}`);
    return v;
  };
  // Attributes of the other request kind are a mistake worth naming (e.g. "emulator" in an attach configuration).
  for (const k of ['emulator', 'fceuxPath', 'headless']) {
    if (kind === 'attach' && a[k] !== undefined) throw new Error(`${where(k)} is not used by "attach" (attach always waits for a user-started FCEUX running lua/lockstep.lua)`);
  }
  const warnings: string[] = [];
  for (const k of Object.keys(a)) {
    if (k in table || GENERIC_ATTRIBUTES.includes(k) || k.startsWith('__')) continue;
    warnings.push(`launch.json attribute "${k}" is not a Lockstep ${kind} attribute and is ignored${suggest(k, Object.keys(table))}`);
  }

  let emulator: EmulatorKind = 'embedded';
  if (kind === 'attach') emulator = 'fceux';
  else if (a.emulator !== undefined) {
    if (a.emulator !== 'embedded' && a.emulator !== 'fceux') throw new Error(`${where('emulator')} must be "embedded" or "fceux", got ${show(a.emulator)}`);
    emulator = a.emulator;
  }
  const agent1 = a.agent === undefined ? { type: 'random' as const } : parseAgentSpec(a.agent, where('agent'));
  const agent2 = a.agent2 === undefined ? undefined : parseAgentSpec(a.agent2, where('agent2'));

  let sync: Partial<SyncConfig> | undefined;
  if (a.sync !== undefined && a.sync !== null) {
    if (typeof a.sync !== 'object' || Array.isArray(a.sync)) throw new Error(`${where('sync')} must be an object of sync settings, got ${show(a.sync)}`);
    try {
      mergeSyncConfig(defaultSyncConfig(), a.sync as Partial<SyncConfig>);
    } catch (e) {
      throw new Error(`${where('sync')}: ${(e as Error).message}`);
    }
    sync = a.sync as Partial<SyncConfig>;
  }
  const stepBackDepth = int('stepBackDepth', 0, 100000) ?? sync?.snapshotDepth ?? DEFAULT_STEP_BACK_DEPTH;

  const spec: SessionSpec = {
    rom: str('rom'),
    emulator,
    fceuxPath: kind === 'launch' ? str('fceuxPath') : undefined,
    fceuxMode: kind === 'attach' ? 'attach' : 'launch',
    headless: kind === 'launch' ? bool('headless') : undefined,
    agents: [agent1.type === 'none' ? undefined : agent1, agent2 && agent2.type !== 'none' ? agent2 : undefined],
    seed: int('seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    maxSteps: int('maxSteps', 1, Number.MAX_SAFE_INTEGER) ?? null,
    ramMap: str('ramMap'),
    record: str('record'),
    reference: str('reference'),
    sync,
    port: int('port', 0, 65535),
    token: str('token'),
    captureScreens: bool('captureScreens'),
    stepBackDepth,
    timeTravel: bool('timeTravel'),
    cwd: str('cwd'),
  };
  return { spec, stopOnEntry: bool('stopOnEntry') ?? false, pauseUntilAction: bool('pauseUntilAction') ?? false, warnings };
}

/** Attributes VS Code itself puts in every debug configuration. */
const GENERIC_ATTRIBUTES = ['type', 'request', 'name', 'noDebug', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions', 'presentation', 'debugServer', 'suppressMultipleSessionWarning'];

function suggest(given: string, known: readonly string[]): string {
  const g = given.toLowerCase();
  const hit = known.find((k) => k.toLowerCase() === g || k.toLowerCase().startsWith(g) || g.startsWith(k.toLowerCase()));
  return hit ? ` (did you mean "${hit}"?)` : '';
}

function show(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 59) + '…' : s;
}
