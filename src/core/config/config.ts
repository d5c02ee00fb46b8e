// Sync configuration: the defaults, the settings table, lockstep.yaml parsing (seed's nested snake_case or flat camelCase) and validated merging.
import * as path from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument, type Document } from 'yaml';
import { editDistance } from '../editDistance';

export type SyncMode = 'lockstep' | 'runahead';
export type TimeoutPolicy = 'hold' | 'skip';

export interface SyncConfig {
  /** How long the gate waits for an agent's action before the frame counts as timed out. */
  frameTimeoutMs: number;
  /** Frame-id gap above which a jump counts as a frame skip rather than a minor skip. */
  maxFrameSkip: number;
  /** States and screens kept for pairing. */
  syncBufferSize: number;
  /** Frames between clock synchronisations (ping/pong). */
  clockSyncInterval: number;
  heartbeatIntervalMs: number;
  targetFps: number;
  /** Agent think time above which a frame is reported as slow. */
  maxProcessingDelayMs: number;
  /** State/screen timestamp gap above which a pair counts as poorly synced. */
  syncQualityThresholdMs: number;
  /** Desyncs tolerated in a run before the session stops. */
  maxDesyncCount: number;
  reconnectAttempts: number;
  reconnectDelayMs: number;
  /** Clock offset that counts as drift. */
  clockDriftThresholdMs: number;
  mode: SyncMode;
  /** Snapshots kept for stepping back (0 disables step-back). */
  snapshotDepth: number;
  /** What happens when an action is late: keep waiting (hold) or run the frame with the late controller's previous buttons (skip). */
  onTimeout: TimeoutPolicy;
}

export type SyncSettingKey = keyof SyncConfig;
export type SyncSection = 'synchronization' | 'performance' | 'recovery';

/** One setting: where it lives in the nested YAML layout, what values it takes, and what it means (used by docs and checks). */
export interface SyncSettingSpec {
  key: SyncSettingKey;
  yamlKey: string;
  section: SyncSection;
  kind: 'int' | 'number' | 'enum';
  min?: number;
  max?: number;
  /** Whether min itself is allowed (false: strictly greater). */
  minInclusive?: boolean;
  values?: readonly string[];
  default: number | string;
  description: string;
}

const HOUR_MS = 3_600_000;

export const SYNC_SETTINGS: readonly SyncSettingSpec[] = [
  { key: 'frameTimeoutMs', yamlKey: 'frame_timeout_ms', section: 'synchronization', kind: 'int', min: 1, max: HOUR_MS, default: 100,
    description: 'How long to wait for the agent\'s action for a frame before it counts as timed out.' },
  { key: 'maxFrameSkip', yamlKey: 'max_frame_skip', section: 'synchronization', kind: 'int', min: 0, max: 1_000_000, default: 2,
    description: 'Largest forward frame-id gap treated as a minor skip; larger gaps are frame skips.' },
  { key: 'syncBufferSize', yamlKey: 'sync_buffer_size', section: 'synchronization', kind: 'int', min: 1, max: 1_000_000, default: 10,
    description: 'How many recent states and screens are kept for pairing by frame id.' },
  { key: 'clockSyncInterval', yamlKey: 'clock_sync_interval', section: 'synchronization', kind: 'int', min: 1, max: 1_000_000_000, default: 1000,
    description: 'Frames between clock synchronisations (4 ping/pong round trips with FCEUX and each trainer; one more at the start).' },
  { key: 'heartbeatIntervalMs', yamlKey: 'heartbeat_interval_ms', section: 'synchronization', kind: 'int', min: 10, max: HOUR_MS, default: 1000,
    description: 'Interval between heartbeats on an idle link.' },
  { key: 'clockDriftThresholdMs', yamlKey: 'clock_drift_threshold_ms', section: 'synchronization', kind: 'number', min: 0, max: HOUR_MS, default: 50,
    description: 'How far the clock offset of a peer (FCEUX link or a trainer) may move from its reference before clock_drift is reported.' },
  { key: 'mode', yamlKey: 'mode', section: 'synchronization', kind: 'enum', values: ['lockstep', 'runahead'], default: 'lockstep',
    description: 'lockstep: every frame waits for every agent\'s action; runahead: the emulator does not wait, and an action applies to the frame current when it arrives.' },
  { key: 'snapshotDepth', yamlKey: 'snapshot_depth', section: 'synchronization', kind: 'int', min: 0, max: 1_000_000, default: 600,
    description: 'Snapshots kept in the step-back ring (frames you can step back); 0 disables step-back.' },
  { key: 'targetFps', yamlKey: 'target_fps', section: 'performance', kind: 'number', min: 0, minInclusive: false, max: 100_000, default: 60,
    description: 'Frame rate the run aims for; metrics compare against it.' },
  { key: 'maxProcessingDelayMs', yamlKey: 'max_processing_delay_ms', section: 'performance', kind: 'number', min: 0, max: HOUR_MS, default: 16,
    description: 'Agent processing time per frame above which the frame is reported as slow.' },
  { key: 'syncQualityThresholdMs', yamlKey: 'sync_quality_threshold_ms', section: 'performance', kind: 'number', min: 0, max: HOUR_MS, default: 5,
    description: 'Gap between a state\'s and its screen\'s timestamps above which the pair counts as poorly synced.' },
  { key: 'maxDesyncCount', yamlKey: 'max_desync_count', section: 'recovery', kind: 'int', min: 0, max: 1_000_000_000, default: 5,
    description: 'Desyncs tolerated before the run is stopped.' },
  { key: 'reconnectAttempts', yamlKey: 'reconnect_attempts', section: 'recovery', kind: 'int', min: 0, max: 1000, default: 3,
    description: 'Reconnection attempts after a link is lost.' },
  { key: 'reconnectDelayMs', yamlKey: 'reconnect_delay_ms', section: 'recovery', kind: 'int', min: 0, max: HOUR_MS, default: 1000,
    description: 'Wait between reconnection attempts.' },
  { key: 'onTimeout', yamlKey: 'on_timeout', section: 'recovery', kind: 'enum', values: ['hold', 'skip'], default: 'hold',
    description: 'What happens when an action is late: hold (the emulator keeps holding the frame and waits; the timeout is reported) or skip (the frame runs with the late controller\'s previous buttons).' },
];

const SPEC_BY_KEY = new Map(SYNC_SETTINGS.map((s) => [s.key, s]));
const SECTIONS: readonly SyncSection[] = ['synchronization', 'performance', 'recovery'];

export function defaultSyncConfig(): SyncConfig {
  const c: Record<string, number | string> = {};
  for (const s of SYNC_SETTINGS) c[s.key] = s.default;
  return c as unknown as SyncConfig;
}

/** Everything lockstep.yaml can hold. Paths are as written (loadWorkspaceConfig resolves them against the folder). */
export interface LockstepYaml {
  sync: SyncConfig;
  rom?: string;
  ramMap?: string;
  maxSteps?: number;
  /** Folder that recordings go to. */
  record?: string;
}

/** A configuration problem, with where it is so an editor can point at it. */
export class ConfigError extends Error {
  constructor(message: string, readonly file?: string, readonly line?: number, readonly key?: string) {
    // Keys and values come from the file: control characters (newlines, terminal escapes) must not reach a log or terminal.
    // eslint-disable-next-line no-control-regex -- escaping control characters is the point
    super(message.replace(/[\u0000-\u001f\u007f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')));
    this.name = 'ConfigError';
  }
}

/** Checks one value against its spec; returns the reason it is wrong, or undefined when it is fine. */
function checkValue(spec: SyncSettingSpec, v: unknown): string | undefined {
  if (spec.kind === 'enum') {
    return typeof v === 'string' && spec.values!.includes(v) ? undefined : `must be one of ${spec.values!.join(', ')}`;
  }
  const lo = spec.min ?? -Infinity;
  const hi = spec.max ?? Infinity;
  const isNum = typeof v === 'number' && Number.isFinite(v);
  const inRange = isNum && (spec.minInclusive === false ? v > lo : v >= lo) && v <= hi;
  const kindOk = spec.kind === 'int' ? isNum && Number.isInteger(v) : isNum;
  if (kindOk && inRange) return undefined;
  const what = spec.kind === 'int' ? 'an integer' : 'a number';
  const range = spec.minInclusive === false ? `> ${lo} and <= ${hi}` : `in ${lo}..${hi}`;
  return `must be ${what} ${range}`;
}

function show(v: unknown): string {
  let s: string;
  if (v === undefined) s = 'nothing';
  else if (typeof v === 'number' && !Number.isFinite(v)) s = String(v); // JSON would say null for .nan and .inf
  else if (v instanceof Map) s = 'an ordered map (!!omap/!!pairs)';
  else if (v instanceof Set) s = 'a set (!!set)';
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      // An alias inside its own anchor (`&x [*x]`) makes a cycle.
      s = Array.isArray(v) ? 'a list that contains itself' : 'a mapping that contains itself';
    }
  }
  return s.length > 40 ? s.slice(0, 39) + '…' : s;
}

/** Suggests the known key a typo most likely meant (other naming style, or a small edit distance). */
function suggest(given: string, known: readonly string[]): string {
  const norm = (s: string) => s.toLowerCase().replace(/_/g, '');
  const exact = known.find((k) => norm(k) === norm(given));
  if (exact) return ` (did you mean ${exact}?)`;
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(norm(given), norm(k));
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

/** Merges partial overrides (e.g. from a launch configuration) over a base, checking each key and value. */
export function mergeSyncConfig(base: SyncConfig, ...overrides: Array<Partial<SyncConfig> | undefined>): SyncConfig {
  const out: SyncConfig = { ...base };
  const known = SYNC_SETTINGS.map((s) => s.key);
  for (const o of overrides) {
    if (o === undefined) continue;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      throw new ConfigError(`sync settings must be an object, got ${show(o)}`);
    }
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      const spec = SPEC_BY_KEY.get(k as SyncSettingKey);
      if (!spec) throw new ConfigError(`unknown sync setting "${k}"${suggest(k, known)}`, undefined, undefined, k);
      const problem = checkValue(spec, v);
      if (problem) throw new ConfigError(`sync setting ${k} ${problem}, got ${show(v)}`, undefined, undefined, k);
      (out as unknown as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

const TOP_LEVEL_KEYS = ['sync', ...SECTIONS, 'rom', 'ramMap', 'ram_map', 'maxSteps', 'max_steps', 'record'] as const;

/**
 * Parses lockstep.yaml. Sync settings may be given in the seed's nested layout (`synchronization:`, `performance:`,
 * `recovery:` with snake_case keys) and/or a flat camelCase `sync:` section; a setting given twice is an error.
 */
export function parseLockstepYaml(text: string, fileName: string): LockstepYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    throw new ConfigError(`${where(fileName, line)}YAML error: ${e.message.split('\n')[0]}`, fileName, line);
  }
  const lineOf = (keys: readonly string[]) => keyLine(doc, lineCounter, keys);
  const fail = (keys: readonly string[], message: string): never => {
    const line = lineOf(keys);
    throw new ConfigError(`${where(fileName, line)}${message}`, fileName, line, keys.join('.'));
  };

  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Unresolved aliases and alias bombs surface here, not in doc.errors.
    throw new ConfigError(`${where(fileName, undefined)}YAML error: ${(e as Error).message.split('\n')[0]}`, fileName);
  }
  if (root === null || root === undefined) return { sync: defaultSyncConfig() };
  if (!isPlainObject(root)) fail([], `the top level must be a mapping of keys, got ${show(root)}`);
  const top = root as Record<string, unknown>;

  for (const k of Object.keys(top)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(k)) {
      fail([k], `unknown key "${k}"${suggest(k, TOP_LEVEL_KEYS)} (allowed: sync, synchronization, performance, recovery, rom, ramMap, maxSteps, record)`);
    }
  }

  const sync = defaultSyncConfig() as unknown as Record<string, unknown>;
  const setBy = new Map<SyncSettingKey, string>();
  const assign = (spec: SyncSettingSpec, value: unknown, keys: readonly string[]) => {
    const label = keys.join('.');
    const earlier = setBy.get(spec.key);
    if (earlier) fail(keys, `${label} sets ${spec.key} again (already set by ${earlier})`);
    const problem = checkValue(spec, value);
    if (problem) fail(keys, `${label} ${problem}, got ${show(value)}`);
    sync[spec.key] = value;
    setBy.set(spec.key, label);
  };

  for (const section of SECTIONS) {
    const body = top[section];
    if (body === undefined || body === null) continue;
    if (!isPlainObject(body)) fail([section], `${section} must be a mapping of settings, got ${show(body)}`);
    const inSection = SYNC_SETTINGS.filter((s) => s.section === section);
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      const spec = inSection.find((s) => s.yamlKey === k);
      if (!spec) {
        const elsewhere = SYNC_SETTINGS.find((s) => s.yamlKey === k);
        const hint = elsewhere ? ` (${k} belongs in ${elsewhere.section}:)` : suggest(k, inSection.map((s) => s.yamlKey));
        fail([section, k], `unknown key "${section}.${k}"${hint}`);
      }
      assign(spec!, v, [section, k]);
    }
  }

  const flat = top.sync;
  if (flat !== undefined && flat !== null) {
    if (!isPlainObject(flat)) fail(['sync'], `sync must be a mapping of settings, got ${show(flat)}`);
    for (const [k, v] of Object.entries(flat as Record<string, unknown>)) {
      const spec = SPEC_BY_KEY.get(k as SyncSettingKey);
      if (!spec) fail(['sync', k], `unknown key "sync.${k}"${suggest(k, SYNC_SETTINGS.map((s) => s.key))}`);
      assign(spec!, v, ['sync', k]);
    }
  }

  const out: LockstepYaml = { sync: sync as unknown as SyncConfig };
  const pick = (camel: 'ramMap' | 'maxSteps', snake: string): [unknown, string] | undefined => {
    if (top[camel] !== undefined && top[snake] !== undefined) fail([snake], `${camel} and ${snake} are the same setting; give only one`);
    if (top[camel] !== undefined) return [top[camel], camel];
    if (top[snake] !== undefined) return [top[snake], snake];
    return undefined;
  };
  for (const key of ['rom', 'record'] as const) {
    const v = top[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v.trim() === '') fail([key], `${key} must be a non-empty path, got ${show(v)}`);
    out[key] = v as string;
  }
  const ramMap = pick('ramMap', 'ram_map');
  if (ramMap && ramMap[0] !== null) {
    if (typeof ramMap[0] !== 'string' || ramMap[0].trim() === '') fail([ramMap[1]], `${ramMap[1]} must be a non-empty path, got ${show(ramMap[0])}`);
    out.ramMap = ramMap[0] as string;
  }
  const maxSteps = pick('maxSteps', 'max_steps');
  if (maxSteps && maxSteps[0] !== null) {
    const v = maxSteps[0];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) fail([maxSteps[1]], `${maxSteps[1]} must be an integer >= 1, got ${show(v)}`);
    out.maxSteps = v as number;
  }
  return out;
}

/** A YAML mapping as toJS gives it: !!omap (Map), !!set (Set) or !!binary are not, or their entries would be silently skipped. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function where(fileName: string, line: number | undefined): string {
  return line === undefined ? `${fileName}: ` : `${fileName}:${line}: `;
}

/** The 1-based line of the last key in `keys` (walking nested mappings), if the document has it. */
function keyLine(doc: Document, lc: LineCounter, keys: readonly string[]): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined;
  for (const k of keys) {
    if (!isMap(node)) return line;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === k);
    if (!pair) return line;
    const range = (pair.key as { range?: [number, number, number] }).range;
    if (range) line = lc.linePos(range[0]).line;
    node = pair.value;
  }
  return line;
}

export const WORKSPACE_CONFIG_FILES = ['lockstep.yaml', 'lockstep.yml'] as const;

export interface WorkspaceConfig extends LockstepYaml {
  /** The file the settings came from; undefined when the folder has none (all defaults). */
  file?: string;
}

/**
 * Reads `lockstep.yaml` (or `.yml`) from a folder through an injected reader (undefined = no such file),
 * and resolves rom, ramMap and record against the folder.
 */
export async function loadWorkspaceConfig(
  folder: string, readFile: (path: string) => Promise<string | undefined>,
): Promise<WorkspaceConfig> {
  for (const name of WORKSPACE_CONFIG_FILES) {
    const file = path.join(folder, name);
    const text = await readFile(file);
    if (text === undefined) continue;
    const parsed = parseLockstepYaml(text, file);
    const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(folder, p));
    const out: WorkspaceConfig = { ...parsed, file };
    if (parsed.rom !== undefined) out.rom = resolve(parsed.rom);
    if (parsed.ramMap !== undefined) out.ramMap = resolve(parsed.ramMap);
    if (parsed.record !== undefined) out.record = resolve(parsed.record);
    return out;
  }
  return { sync: defaultSyncConfig() };
}
