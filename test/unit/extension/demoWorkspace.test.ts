// The demo workspace's files: launch configurations the adapter accepts, lockstep.yaml with the seed's settings, a misbehaving agent that really makes a frame_skip, and a safe writer.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEMO_CONFIG_NAMES, DEMO_PATHS, FRAME_SKIPPER_GAP, FRAME_SKIPPER_STEP, demoWorkspaceFiles, folderProblem, newDemoToken,
  readDemoAssets, writeDemoWorkspace, type DemoAssets, type DemoFiles,
} from '../../../src/extension/demoWorkspace';
import { toSessionSpec } from '../../../src/debugAdapter/launchArgs';
import { SYNC_SETTINGS, defaultSyncConfig, parseLockstepYaml } from '../../../src/core/config/config';
import { parseRamMap } from '../../../src/core/config/ramMap';
import { ScriptedAgent } from '../../../src/agents/scriptedAgent';
import { OnnxAgent } from '../../../src/agents/onnxAgent';
import { InProcessEmulator } from '../../../src/emulators/embedded/embeddedEmulator';
import { LockstepRuntime } from '../../../src/core/runtime/runtime';
import type { DesyncEvent } from '../../../src/core/sync/desyncDetector';

const ROOT = join(__dirname, '..', '..', '..');
const OPTIONS = { port: 8765, token: 'demo-test-token-1' };

/** Small stand-ins: the generator copies bytes, it does not look inside them. */
const FAKE_ASSETS: DemoAssets = {
  rom: Uint8Array.from([0x4e, 0x45, 0x53, 0x1a, 1, 2, 3]),
  ramMap: '{"variables": []}',
  onnxModel: Uint8Array.from([8, 1, 2]),
  onnxSidecar: '{"seed": 0}',
  python: { example: 'print("hi")\n', client: { '__init__.py': '', 'env.py': 'X = 1\n' } },
};

const text = (files: DemoFiles, path: string): string => {
  const v = files[path];
  assert.equal(typeof v, 'string', `${path} should be text`);
  return v as string;
};

function withTempDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-demo-test-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe('demoWorkspaceFiles', () => {
  const files = demoWorkspaceFiles(FAKE_ASSETS, OPTIONS);

  test('copies the ROM, RAM map, ONNX model and sidecar byte for byte', () => {
    assert.deepEqual(files[DEMO_PATHS.rom], FAKE_ASSETS.rom);
    assert.equal(files[DEMO_PATHS.ramMap], FAKE_ASSETS.ramMap);
    assert.deepEqual(files[DEMO_PATHS.onnxModel], FAKE_ASSETS.onnxModel);
    assert.equal(files[DEMO_PATHS.onnxSidecar], FAKE_ASSETS.onnxSidecar);
  });

  test('the ONNX sidecar sits where the ONNX agent looks for it (model name + .lockstep.json)', () => {
    assert.equal(DEMO_PATHS.onnxSidecar, DEMO_PATHS.onnxModel.replace(/\.onnx$/, '.lockstep.json'));
  });

  test('the workspace recommends the Hex Editor extension, which VS Code\'s hex view of RAM needs', () => {
    assert.deepEqual(JSON.parse(String(files[DEMO_PATHS.extensions])).recommendations, ['ms-vscode.hexeditor']);
  });

  test('launch.json holds the four configurations in order, each accepted by the adapter without warnings', () => {
    const launch = JSON.parse(text(files, DEMO_PATHS.launch)) as { version: string; configurations: Array<Record<string, unknown>> };
    assert.equal(launch.version, '0.2.0');
    assert.deepEqual(launch.configurations.map((c) => c.name), Object.values(DEMO_CONFIG_NAMES));
    const specs = launch.configurations.map((c) => {
      assert.equal(c.type, 'lockstep');
      assert.equal(c.request, 'launch');
      // VS Code substitutes ${workspaceFolder} before the adapter sees the configuration.
      const resolved = JSON.parse(JSON.stringify(c).replaceAll('${workspaceFolder}', '/ws')) as Record<string, unknown>;
      const r = toSessionSpec(resolved, 'launch');
      assert.deepEqual(r.warnings, [], `${String(c.name)}: ${r.warnings.join('; ')}`);
      assert.equal(r.spec.rom, `/ws/${DEMO_PATHS.rom}`);
      assert.equal(r.spec.captureScreens, undefined, `${String(c.name)} leaves capture to the screen panels`);
      return r;
    });
    const agents = specs.map((s) => s.spec.agents[0] as { type: string; path?: string } | undefined);
    assert.deepEqual(agents.map((a) => a?.type), ['random', 'onnx', 'websocket', 'scripted']);
    assert.equal(agents[1]?.path, `/ws/${DEMO_PATHS.onnxModel}`);
    assert.equal(agents[3]?.path, `/ws/${DEMO_PATHS.misbehavingAgent}`);
    assert.equal(specs[0].stopOnEntry, true, 'F5 on the first configuration stops on the first frame');
    assert.equal(specs[3].stopOnEntry, false, 'the misbehaving agent runs straight into its desync');
    assert.equal(specs[2].spec.port, OPTIONS.port);
    assert.equal(specs[2].spec.token, OPTIONS.token);
  });

  test('lockstep.yaml parses to exactly the seed defaults and names every setting', () => {
    const yaml = text(files, DEMO_PATHS.config);
    assert.deepEqual(parseLockstepYaml(yaml, 'lockstep.yaml').sync, defaultSyncConfig());
    for (const s of SYNC_SETTINGS) assert.match(yaml, new RegExp(`^  ${s.yamlKey}: ${String(s.default)}$`, 'm'), `${s.yamlKey} missing`);
  });

  test('the folder\'s settings open the README when VS Code opens the folder', () => {
    assert.deepEqual(JSON.parse(text(files, DEMO_PATHS.settings)), { 'workbench.startupEditor': 'readme' });
  });

  test('the README gives the trainer command with this workspace\'s port and token', () => {
    const readme = text(files, DEMO_PATHS.readme);
    assert.ok(readme.includes(`python3 ${DEMO_PATHS.pythonExample} --port ${OPTIONS.port} --token ${OPTIONS.token}`), readme);
    for (const name of Object.values(DEMO_CONFIG_NAMES)) assert.ok(readme.includes(name), `README misses ${name}`);
  });

  test('the Python example goes next to its client package', () => {
    assert.equal(files[DEMO_PATHS.pythonExample], FAKE_ASSETS.python?.example);
    assert.equal(files[`${DEMO_PATHS.pythonClient}/env.py`], 'X = 1\n');
    assert.equal(files[`${DEMO_PATHS.pythonClient}/__init__.py`], '');
  });

  test('without the Python files the README says where to get them and no Python file is written', () => {
    const bare = demoWorkspaceFiles({ ...FAKE_ASSETS, python: undefined }, OPTIONS);
    assert.ok(!Object.keys(bare).some((p) => p.startsWith('python/')));
    assert.match(text(bare, DEMO_PATHS.readme), /clients\/python/);
  });

  test('bad options are refused naming the field and value', () => {
    assert.throws(() => demoWorkspaceFiles(FAKE_ASSETS, { port: 0, token: OPTIONS.token }), /port must be an integer from 1 to 65535, got 0/);
    assert.throws(() => demoWorkspaceFiles(FAKE_ASSETS, { port: 8765, token: 'has space' }), /token must be .* got "has space"/);
    assert.throws(
      () => demoWorkspaceFiles({ ...FAKE_ASSETS, python: { example: '', client: { '../evil.py': '' } } }, OPTIONS),
      /Python client file name "\.\.\/evil\.py"/,
    );
  });

  test('tokens differ between workspaces and fit the token rule', () => {
    const a = newDemoToken();
    const b = newDemoToken();
    assert.notEqual(a, b);
    assert.doesNotThrow(() => demoWorkspaceFiles(FAKE_ASSETS, { port: 1, token: a }));
  });
});

describe('writeDemoWorkspace', () => {
  test('writes every file under the folder, creating it and its subfolders', () => withTempDir((dir) => {
    const target = join(dir, 'new', 'demo');
    const files = demoWorkspaceFiles(FAKE_ASSETS, OPTIONS);
    const written = writeDemoWorkspace(target, files);
    assert.equal(written.length, Object.keys(files).length);
    assert.deepEqual(new Uint8Array(readFileSync(join(target, DEMO_PATHS.rom))), FAKE_ASSETS.rom);
    assert.equal(readFileSync(join(target, DEMO_PATHS.launch), 'utf8'), files[DEMO_PATHS.launch]);
  }));

  test('refuses a folder that is not empty, naming it and what is inside', () => withTempDir((dir) => {
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    assert.match(folderProblem(dir) ?? '', /is not empty \(notes\.txt\)/);
    assert.throws(() => writeDemoWorkspace(dir, { 'a.txt': 'x' }), /is not empty/);
    assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine');
  }));

  test('refuses paths that leave the folder', () => withTempDir((dir) => {
    assert.throws(() => writeDemoWorkspace(join(dir, 'w'), { '../outside.txt': 'x' }), /leaves the folder/);
    assert.equal(existsSync(join(dir, 'outside.txt')), false);
  }));

  test('an empty or missing folder has no problem', () => withTempDir((dir) => {
    assert.equal(folderProblem(dir), undefined);
    assert.equal(folderProblem(join(dir, 'missing')), undefined);
    mkdirSync(join(dir, 'empty'));
    assert.equal(folderProblem(join(dir, 'empty')), undefined);
  }));
});

describe('the demo workspace from the real assets', () => {
  test('readDemoAssets reads the checkout: demo ROM, RAM map, ONNX policy and the Python example with its client', async () => {
    const assets = await readDemoAssets(ROOT);
    assert.deepEqual(new Uint8Array(assets.rom), new Uint8Array(readFileSync(join(ROOT, 'roms/demo/demo.nes'))));
    assert.equal(assets.python?.example, readFileSync(join(ROOT, 'examples/python/random_agent.py'), 'utf8'));
    assert.ok(assets.python && 'client.py' in assets.python.client && '__init__.py' in assets.python.client);
  });

  test('readDemoAssets names the missing file', async () => withTempDir(async (dir) => {
    await assert.rejects(readDemoAssets(dir), /cannot read roms\/demo\/demo\.nes from the extension folder/);
  }));

  test('the misbehaving agent makes exactly one frame_skip (gap 3) at its step, under the workspace\'s own settings', () => withTempDir(async (dir) => {
    writeDemoWorkspace(dir, demoWorkspaceFiles(await readDemoAssets(ROOT), OPTIONS));
    const sync = parseLockstepYaml(readFileSync(join(dir, DEMO_PATHS.config), 'utf8'), 'lockstep.yaml').sync;
    const ramMap = parseRamMap(readFileSync(join(dir, DEMO_PATHS.ramMap), 'utf8'), DEMO_PATHS.ramMap);
    const agent = await ScriptedAgent.load(join(dir, DEMO_PATHS.misbehavingAgent));
    const rt = new LockstepRuntime(
      { emulator: new InProcessEmulator(), agents: [agent, undefined], ramMap, sync },
      { romPath: join(dir, DEMO_PATHS.rom), maxSteps: null, stepBackDepth: 0 },
    );
    const desyncs: DesyncEvent[] = [];
    rt.events.on('desync', (e) => desyncs.push(e));
    try {
      const first = await rt.start();
      for (let i = 0; i < FRAME_SKIPPER_STEP + 30; i++) await rt.advance();
      assert.equal(desyncs.length, 1, desyncs.map((d) => d.message).join('; '));
      assert.equal(desyncs[0].type, 'frame_skip');
      assert.equal(desyncs[0].gap, FRAME_SKIPPER_GAP);
      assert.equal(desyncs[0].expectedFrame, first.frame + FRAME_SKIPPER_STEP);
      assert.equal(desyncs[0].receivedFrame, first.frame + FRAME_SKIPPER_STEP + FRAME_SKIPPER_GAP);
      assert.equal(desyncs[0].player, 0);
    } finally {
      await rt.close();
    }
  }));

  test('the copied ONNX policy loads from the workspace and answers with a button mask', () => withTempDir(async (dir) => {
    writeDemoWorkspace(dir, demoWorkspaceFiles(await readDemoAssets(ROOT), OPTIONS));
    const ramMap = parseRamMap(readFileSync(join(dir, DEMO_PATHS.ramMap), 'utf8'), DEMO_PATHS.ramMap);
    const agent = await OnnxAgent.load(join(dir, DEMO_PATHS.onnxModel), { player: 0, ramMap, seed: 0 });
    try {
      const ram = new Uint8Array(2048);
      const action = await agent.act({
        frame: 10, step: 0, episode: 0, player: 0, timestamp: 0, ram, vars: ramMap.read(ram), reward: 0, terminated: false, truncated: false, info: {},
      });
      assert.equal(action.frame, 10);
      assert.ok(Number.isInteger(action.buttons) && action.buttons >= 0 && action.buttons <= 255);
    } finally {
      await agent.close();
    }
  }));
});
