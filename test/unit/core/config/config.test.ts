// Tests for the sync configuration: seed defaults, both YAML layouts, errors with file/line/key, merging, workspace loading.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import {
  ConfigError, SYNC_SETTINGS, defaultSyncConfig, loadWorkspaceConfig, mergeSyncConfig, parseLockstepYaml, type SyncConfig,
} from '../../../../src/core/config/config';

const SEED_YAML = `synchronization:
  frame_timeout_ms: 100
  max_frame_skip: 2
  sync_buffer_size: 10
  clock_sync_interval: 1000
  heartbeat_interval_ms: 1000
  
performance:
  target_fps: 60
  max_processing_delay_ms: 16
  sync_quality_threshold_ms: 5
  
recovery:
  max_desync_count: 5
  reconnect_attempts: 3
  reconnect_delay_ms: 1000
`;

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e;
  }
  return assert.fail('expected a ConfigError');
}

describe('config: defaults', () => {
  test('the seed\'s values plus Lockstep\'s own', () => {
    assert.deepEqual(defaultSyncConfig(), {
      frameTimeoutMs: 100, maxFrameSkip: 2, syncBufferSize: 10, clockSyncInterval: 1000, heartbeatIntervalMs: 1000,
      targetFps: 60, maxProcessingDelayMs: 16, syncQualityThresholdMs: 5,
      maxDesyncCount: 5, reconnectAttempts: 3, reconnectDelayMs: 1000,
      clockDriftThresholdMs: 50, mode: 'lockstep', snapshotDepth: 600, onTimeout: 'hold',
    } satisfies SyncConfig);
  });

  test('each call returns a fresh object', () => {
    const a = defaultSyncConfig();
    a.frameTimeoutMs = 1;
    assert.equal(defaultSyncConfig().frameTimeoutMs, 100);
  });

  test('the seed\'s own YAML block parses to the defaults', () => {
    assert.deepEqual(parseLockstepYaml(SEED_YAML, 'lockstep.yaml'), { sync: defaultSyncConfig() });
  });

  test('every default passes its own validation', () => {
    for (const s of SYNC_SETTINGS) assert.doesNotThrow(() => mergeSyncConfig(defaultSyncConfig(), { [s.key]: s.default }), s.key);
  });
});

describe('config: parseLockstepYaml', () => {
  test('nested snake_case layout with Lockstep\'s extra settings', () => {
    const c = parseLockstepYaml(`
synchronization:
  frame_timeout_ms: 250
  mode: runahead
  snapshot_depth: 0
  clock_drift_threshold_ms: 12.5
performance:
  target_fps: 60.0988
recovery:
  on_timeout: skip
  max_desync_count: 0
`, 'a.yaml');
    assert.deepEqual(c.sync, {
      ...defaultSyncConfig(), frameTimeoutMs: 250, mode: 'runahead', snapshotDepth: 0, clockDriftThresholdMs: 12.5,
      targetFps: 60.0988, onTimeout: 'skip', maxDesyncCount: 0,
    });
  });

  test('flat camelCase sync: section, and the other top-level keys', () => {
    const c = parseLockstepYaml(`
rom: roms/demo/demo.nes
ramMap: roms/demo/demo.rammap.json
maxSteps: 3000
record: recordings
sync:
  frameTimeoutMs: 40
  onTimeout: skip
  heartbeatIntervalMs: 500
`, 'b.yaml');
    assert.deepEqual(c, {
      sync: { ...defaultSyncConfig(), frameTimeoutMs: 40, onTimeout: 'skip', heartbeatIntervalMs: 500 },
      rom: 'roms/demo/demo.nes', ramMap: 'roms/demo/demo.rammap.json', maxSteps: 3000, record: 'recordings',
    });
  });

  test('snake_case aliases ram_map and max_steps', () => {
    const c = parseLockstepYaml('ram_map: m.json\nmax_steps: 10\n', 'c.yaml');
    assert.equal(c.ramMap, 'm.json');
    assert.equal(c.maxSteps, 10);
    assert.match(configError(() => parseLockstepYaml('ramMap: a\nram_map: b\n', 'c.yaml')).message, /ramMap and ram_map are the same setting/);
  });

  test('both layouts together, but one setting only once', () => {
    const c = parseLockstepYaml('synchronization:\n  max_frame_skip: 4\nsync:\n  targetFps: 30\n', 'd.yaml');
    assert.equal(c.sync.maxFrameSkip, 4);
    assert.equal(c.sync.targetFps, 30);
    const e = configError(() => parseLockstepYaml('synchronization:\n  frame_timeout_ms: 5\nsync:\n  frameTimeoutMs: 6\n', 'd.yaml'));
    assert.equal(e.message, 'd.yaml:4: sync.frameTimeoutMs sets frameTimeoutMs again (already set by synchronization.frame_timeout_ms)');
  });

  test('empty file, comments only, or empty sections mean defaults', () => {
    assert.deepEqual(parseLockstepYaml('', 'e.yaml'), { sync: defaultSyncConfig() });
    assert.deepEqual(parseLockstepYaml('# nothing here\n', 'e.yaml'), { sync: defaultSyncConfig() });
    assert.deepEqual(parseLockstepYaml('synchronization:\nsync:\n', 'e.yaml'), { sync: defaultSyncConfig() });
  });

  test('unknown keys name the key, file and line, with a suggestion', () => {
    let e = configError(() => parseLockstepYaml('synchronization:\n  frame_timeout_ms: 5\n  frame_timout_ms: 6\n', 'lockstep.yaml'));
    assert.equal(e.message, 'lockstep.yaml:3: unknown key "synchronization.frame_timout_ms" (did you mean frame_timeout_ms?)');
    assert.equal(e.line, 3);
    assert.equal(e.key, 'synchronization.frame_timout_ms');
    assert.equal(e.file, 'lockstep.yaml');

    e = configError(() => parseLockstepYaml('sync:\n  frame_timeout_ms: 5\n', 'lockstep.yaml'));
    assert.equal(e.message, 'lockstep.yaml:2: unknown key "sync.frame_timeout_ms" (did you mean frameTimeoutMs?)');

    e = configError(() => parseLockstepYaml('rom: a.nes\nsyncronization:\n  x: 1\n', 'lockstep.yaml'));
    assert.match(e.message, /^lockstep\.yaml:2: unknown key "syncronization" \(did you mean synchronization\?\)/);

    e = configError(() => parseLockstepYaml('performance:\n  max_desync_count: 1\n', 'lockstep.yaml'));
    assert.equal(e.message, 'lockstep.yaml:2: unknown key "performance.max_desync_count" (max_desync_count belongs in recovery:)');
  });

  test('wrong types and ranges name the key and value', () => {
    const cases: Array<[string, RegExp]> = [
      ['synchronization:\n  frame_timeout_ms: fast\n', /^f\.yaml:2: synchronization\.frame_timeout_ms must be an integer in 1\.\.3600000, got "fast"$/],
      ['synchronization:\n  frame_timeout_ms: 0\n', /frame_timeout_ms must be an integer in 1\.\.3600000, got 0$/],
      ['synchronization:\n  max_frame_skip: 1.5\n', /max_frame_skip must be an integer in 0\.\.1000000, got 1\.5$/],
      ['synchronization:\n  mode: turbo\n', /^f\.yaml:2: synchronization\.mode must be one of lockstep, runahead, got "turbo"$/],
      ['performance:\n  target_fps: 0\n', /target_fps must be a number > 0 and <= 100000, got 0$/],
      ['performance:\n  sync_quality_threshold_ms: -1\n', /sync_quality_threshold_ms must be a number in 0\.\.3600000, got -1$/],
      ['recovery:\n  on_timeout: 5\n', /^f\.yaml:2: recovery\.on_timeout must be one of hold, skip, got 5$/],
      ['sync:\n  reconnectAttempts: "3"\n', /^f\.yaml:2: sync\.reconnectAttempts must be an integer in 0\.\.1000, got "3"$/],
      ['sync: 5\n', /^f\.yaml:1: sync must be a mapping of settings, got 5$/],
      ['recovery: [1, 2]\n', /^f\.yaml:1: recovery must be a mapping/],
      ['maxSteps: 0\n', /^f\.yaml:1: maxSteps must be an integer >= 1, got 0$/],
      ['rom: 12\n', /^f\.yaml:1: rom must be a non-empty path, got 12$/],
      ['- a\n- b\n', /^f\.yaml: the top level must be a mapping of keys/],
    ];
    for (const [yaml, re] of cases) assert.match(configError(() => parseLockstepYaml(yaml, 'f.yaml')).message, re, yaml);
  });

  test('YAML syntax errors and duplicate keys carry a line', () => {
    let e = configError(() => parseLockstepYaml('sync:\n  frameTimeoutMs: 5\nfoo: [1\n', 'g.yaml'));
    assert.match(e.message, /^g\.yaml:\d+: YAML error: /);
    assert.ok(!e.message.includes('\n'), 'one line');
    e = configError(() => parseLockstepYaml('sync:\n  frameTimeoutMs: 5\n  frameTimeoutMs: 6\n', 'g.yaml'));
    assert.match(e.message, /^g\.yaml:3: YAML error: Map keys must be unique/);
  });
});

describe('config: mergeSyncConfig', () => {
  test('later overrides win; undefined values are skipped; the base is untouched', () => {
    const base = defaultSyncConfig();
    const m = mergeSyncConfig(base, { frameTimeoutMs: 50, mode: 'runahead' }, { frameTimeoutMs: 70, maxFrameSkip: undefined }, undefined);
    assert.deepEqual(m, { ...defaultSyncConfig(), frameTimeoutMs: 70, mode: 'runahead' });
    assert.equal(base.frameTimeoutMs, 100);
  });

  test('unknown keys and bad values are refused, naming the key', () => {
    assert.equal(
      configError(() => mergeSyncConfig(defaultSyncConfig(), { frameTimeout: 5 } as Partial<SyncConfig>)).message,
      'unknown sync setting "frameTimeout" (did you mean frameTimeoutMs?)');
    const e = configError(() => mergeSyncConfig(defaultSyncConfig(), { snapshotDepth: -5 }));
    assert.equal(e.message, 'sync setting snapshotDepth must be an integer in 0..1000000, got -5');
    assert.equal(e.key, 'snapshotDepth');
    assert.match(configError(() => mergeSyncConfig(defaultSyncConfig(), { onTimeout: 'wait' as 'hold' })).message, /onTimeout must be one of hold, skip, got "wait"/);
    assert.match(configError(() => mergeSyncConfig(defaultSyncConfig(), { targetFps: Number.NaN })).message, /targetFps must be a number > 0/);
    assert.match(configError(() => mergeSyncConfig(defaultSyncConfig(), [] as unknown as Partial<SyncConfig>)).message, /must be an object/);
  });
});

describe('config: loadWorkspaceConfig', () => {
  const folder = path.resolve('/ws/game');

  test('no lockstep.yaml: defaults and no file', async () => {
    const asked: string[] = [];
    const c = await loadWorkspaceConfig(folder, async (p) => {
      asked.push(p);
      return undefined;
    });
    assert.deepEqual(c, { sync: defaultSyncConfig() });
    assert.deepEqual(asked, [path.join(folder, 'lockstep.yaml'), path.join(folder, 'lockstep.yml')]);
  });

  test('reads lockstep.yaml and resolves paths against the folder', async () => {
    const files: Record<string, string> = {
      [path.join(folder, 'lockstep.yaml')]: `rom: roms/demo.nes\nramMap: ${path.resolve('/abs/map.json')}\nrecord: out\nsync:\n  frameTimeoutMs: 30\n`,
    };
    const c = await loadWorkspaceConfig(folder, async (p) => files[p]);
    assert.equal(c.file, path.join(folder, 'lockstep.yaml'));
    assert.equal(c.rom, path.join(folder, 'roms', 'demo.nes'));
    assert.equal(c.ramMap, path.resolve('/abs/map.json'));
    assert.equal(c.record, path.join(folder, 'out'));
    assert.equal(c.sync.frameTimeoutMs, 30);
  });

  test('falls back to lockstep.yml; errors carry the full path', async () => {
    const yml = path.join(folder, 'lockstep.yml');
    const ok = await loadWorkspaceConfig(folder, async (p) => (p === yml ? 'maxSteps: 5\n' : undefined));
    assert.equal(ok.maxSteps, 5);
    await assert.rejects(
      loadWorkspaceConfig(folder, async (p) => (p === yml ? 'sync:\n  bogus: 1\n' : undefined)),
      (e: unknown) => e instanceof ConfigError && e.file === yml && e.message.startsWith(`${yml}:2: unknown key "sync.bogus"`),
    );
  });
});

test('docs/configuration.md documents every setting with its default', () => {
  const doc = readFileSync(path.join(__dirname, '..', '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
  for (const s of SYNC_SETTINGS) {
    assert.ok(doc.includes(`\`${s.key}\``), `docs/configuration.md lacks ${s.key}`);
    assert.ok(doc.includes(`\`${s.yamlKey}\``), `docs/configuration.md lacks ${s.yamlKey}`);
    const row = doc.split('\n').find((l) => l.includes(`\`${s.key}\``) && l.startsWith('|'));
    assert.ok(row?.includes(`| ${s.default} |`) || row?.includes(`| \`${s.default}\` |`), `default of ${s.key} missing from its table row`);
  }
});
