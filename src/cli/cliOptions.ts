// Turns the command line's option values into a SessionSpec (shared by `run` and `serve`), with clear errors for bad values.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseLockstepYaml, type SyncConfig } from '../core/config/config';
import { parseAgentSpec, type SessionSpec } from '../session/sessionSpec';

export interface CliValues {
  rom?: string;
  emulator?: string;
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

export function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

/** `--sync key=value` pairs as a partial config; values are JSON-ish (numbers, booleans, strings). */
export function parseSyncOverrides(pairs: string[] | undefined): Partial<SyncConfig> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs ?? []) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new Error(`--sync expects KEY=VALUE, got "${pair}"`);
    const key = pair.slice(0, i).trim();
    const raw = pair.slice(i + 1).trim();
    const num = Number(raw);
    out[key] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(num) ? num : raw;
  }
  return out as Partial<SyncConfig>;
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
  if (emulator !== 'embedded' && emulator !== 'fceux') throw new Error(`--emulator must be "embedded" or "fceux", got "${emulator}"`);
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
      throw new Error(`config not readable: ${configPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const y = parseLockstepYaml(text, configPath);
    workspaceSync = y.sync;
    yamlRom = y.rom;
    yamlRamMap = y.ramMap;
    yamlMaxSteps = y.maxSteps;
    yamlRecord = y.record;
  }
  const spec: SessionSpec = {
    rom: values.rom ?? yamlRom,
    emulator,
    fceuxPath: values['fceux-path'],
    fceuxMode: values.attach ? 'attach' : 'launch',
    agents: [
      parseAgentSpec(values.agent ?? defaults.agent ?? 'random', '--agent'),
      values.agent2 ? parseAgentSpec(values.agent2, '--agent2') : undefined,
    ],
    seed: intOption('seed', values.seed, 0),
    maxSteps: intOption('max-steps', values['max-steps'], 1) ?? yamlMaxSteps ?? null,
    ramMap: values['ram-map'] ?? yamlRamMap,
    record: values.record ?? yamlRecord,
    sync: parseSyncOverrides(values.sync),
    port: intOption('port', values.port, 0) ?? 0,
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
