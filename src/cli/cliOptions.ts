// Turns the command line's option values into a SessionSpec (shared by `run` and `serve`), with clear errors for bad values.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, defaultSyncConfig, mergeSyncConfig, parseLockstepYaml, SYNC_SETTINGS, type SyncConfig } from '../core/config/config';
import { EMBEDDED_THREADS, parseAgentSpec, type AgentSpec, type EmbeddedThread, type SessionSpec } from '../session/sessionSpec';
import type { OptionTable } from './commandLine';
import { UsageError } from './usageError';

/** The options `run` and `serve` share (one table for the parser, one text for --help). */
export const SESSION_OPTIONS = {
  rom: { type: 'string' },
  emulator: { type: 'string' },
  'embedded-thread': { type: 'string' },
  'fceux-path': { type: 'string' },
  attach: { type: 'boolean' },
  agent: { type: 'string' },
  agent2: { type: 'string' },
  frames: { type: 'string' },
  episodes: { type: 'string' },
  'max-steps': { type: 'string' },
  seed: { type: 'string' },
  'ram-map': { type: 'string' },
  config: { type: 'string' },
  sync: { type: 'string', multiple: true },
  record: { type: 'string' },
  snapshots: { type: 'string' },
  reference: { type: 'string' },
  screens: { type: 'boolean' },
  port: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionTable;

export const SESSION_OPTIONS_HELP = `  --rom PATH              NES ROM (default: rom in lockstep.yaml, else the bundled demo ROM)
  --emulator KIND         embedded (default) | fceux
  --embedded-thread T     embedded emulator: worker (default: jsnes on a thread of its own) | main (on the session's
                          own thread: no thread hand-off per frame; faster when nothing else shares the process)
  --fceux-path PATH       FCEUX binary (default: PATH, then /usr/games/fceux)
  --attach                FCEUX: wait for a user-started FCEUX running lua/lockstep.lua
  --agent SPEC            controller 1: random[:SEED] | scripted:FILE.js | onnx:MODEL.onnx | fm2:MOVIE.fm2 | websocket | none
  --agent2 SPEC           controller 2 (default: none)
  --max-steps N           rows per episode (truncate at N; N >= 1)
  --seed N                seed for random agents (N >= 0; default 0)
  --ram-map PATH          RAM-map JSON (default: <rom>.rammap.json beside the ROM)
  --config PATH           lockstep.yaml (default: ./lockstep.yaml if present)
  --sync KEY=VALUE        override one sync setting (repeatable), camelCase or lockstep.yaml's snake_case:
                          --sync frameTimeoutMs=250 or --sync frame_timeout_ms=250
  --record DIR            write episode recordings (JSONL, CSV, FM2, manifest) into DIR
  --snapshots N           with --record on the embedded emulator: a machine state every N steps (snapshot sidecar)
  --reference PATH        a recording to compare every frame with: the first difference is a state_divergence desync
  --screens               capture the screen every frame
  --port N                bridge port, 0 to 65535 (0 = any free port; default 0)
  --token TOKEN           bridge session token (default: random)
  -h, --help              this text
`;

export interface CliValues {
  rom?: string;
  emulator?: string;
  'embedded-thread'?: string;
  'fceux-path'?: string;
  attach?: boolean;
  agent?: string;
  agent2?: string;
  frames?: string;
  episodes?: string;
  'max-steps'?: string;
  seed?: string;
  'ram-map'?: string;
  config?: string;
  sync?: string[];
  record?: string;
  snapshots?: string;
  reference?: string;
  screens?: boolean;
  port?: string;
  token?: string;
  json?: boolean;
}

/** An integer option in [min, max]; the error names the flag and the range. */
export function intOption(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be an integer ${range}, got "${value}"`);
  }
  return n;
}

const CAMEL_BY_YAML_KEY = new Map(SYNC_SETTINGS.map((s) => [s.yamlKey, s.key]));

/**
 * `--sync key=value` pairs as a checked partial config. Keys are the launch configuration's camelCase or lockstep.yaml's
 * snake_case (`frame_timeout_ms`); values are numbers or words. An unknown key or a value out of range is a UsageError.
 */
export function parseSyncOverrides(pairs: string[] | undefined): Partial<SyncConfig> {
  const out: Record<string, unknown> = {};
  const givenAs = new Map<string, string>();
  for (const pair of pairs ?? []) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new UsageError(`--sync expects KEY=VALUE, e.g. frameTimeoutMs=250, got "${pair}"`);
    const given = pair.slice(0, i).trim();
    const key = CAMEL_BY_YAML_KEY.get(given) ?? given;
    const raw = pair.slice(i + 1).trim();
    const num = Number(raw);
    out[key] = raw !== '' && Number.isFinite(num) ? num : raw;
    givenAs.set(key, given);
  }
  try {
    mergeSyncConfig(defaultSyncConfig(), out as Partial<SyncConfig>);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // "sync setting frameTimeoutMs must be …" becomes "--sync frame_timeout_ms must be …", in the spelling the user gave.
    const shown = e.key ? (givenAs.get(e.key) ?? e.key) : undefined;
    const message = shown ? e.message.replace(`sync setting ${e.key}`, shown) : e.message;
    throw new UsageError(`--sync ${message}`);
  }
  return out as Partial<SyncConfig>;
}

function agentOption(value: string, flag: string): AgentSpec {
  try {
    return parseAgentSpec(value, flag);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export interface CliSession {
  spec: SessionSpec;
  workspaceSync: Partial<SyncConfig>;
  frames: number | undefined;
  episodes: number | undefined;
  json: boolean;
}

export async function cliSession(values: CliValues, defaults: { frames?: number; agent?: string } = {}): Promise<CliSession> {
  const cwd = process.cwd();
  const emulator = values.emulator ?? 'embedded';
  if (emulator !== 'embedded' && emulator !== 'fceux') throw new UsageError(`--emulator must be "embedded" or "fceux", got "${emulator}"`);
  const embeddedThread = values['embedded-thread'];
  if (embeddedThread !== undefined && !(EMBEDDED_THREADS as readonly string[]).includes(embeddedThread)) {
    throw new UsageError(`--embedded-thread must be ${EMBEDDED_THREADS.map((t) => `"${t}"`).join(' or ')}, got "${embeddedThread}"`);
  }
  if (embeddedThread !== undefined && emulator !== 'embedded') throw new UsageError('--embedded-thread applies to the embedded emulator only, not to --emulator fceux');
  const configPath = values.config ?? (existsSync(resolve(cwd, 'lockstep.yaml')) ? 'lockstep.yaml' : undefined);
  let workspaceSync: Partial<SyncConfig> = {};
  let yamlRom: string | undefined;
  let yamlRamMap: string | undefined;
  let yamlMaxSteps: number | undefined;
  let yamlRecord: string | undefined;
  if (configPath) {
    let text: string;
    try {
      text = await readFile(resolve(cwd, configPath), 'utf8');
    } catch (e) {
      throw new UsageError(`config not readable: ${configPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let y;
    try {
      y = parseLockstepYaml(text, configPath);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    workspaceSync = y.sync;
    yamlRom = y.rom;
    yamlRamMap = y.ramMap;
    yamlMaxSteps = y.maxSteps;
    yamlRecord = y.record;
  }
  const spec: SessionSpec = {
    rom: values.rom ?? yamlRom,
    emulator,
    ...(embeddedThread !== undefined ? { embeddedThread: embeddedThread as EmbeddedThread } : {}),
    fceuxPath: values['fceux-path'],
    fceuxMode: values.attach ? 'attach' : 'launch',
    agents: [
      agentOption(values.agent ?? defaults.agent ?? 'random', '--agent'),
      values.agent2 ? agentOption(values.agent2, '--agent2') : undefined,
    ],
    seed: intOption('seed', values.seed, 0),
    maxSteps: intOption('max-steps', values['max-steps'], 1) ?? yamlMaxSteps ?? null,
    ramMap: values['ram-map'] ?? yamlRamMap,
    record: values.record ?? yamlRecord,
    sync: parseSyncOverrides(values.sync),
    port: intOption('port', values.port, 0, 65535) ?? 0,
    token: values.token,
    captureScreens: values.screens ?? false,
    snapshotEvery: intOption('snapshots', values.snapshots, 1),
    reference: values.reference,
    cwd,
  };
  return {
    spec,
    workspaceSync,
    frames: intOption('frames', values.frames, 1) ?? defaults.frames,
    episodes: intOption('episodes', values.episodes, 1),
    json: values.json ?? false,
  };
}
