// The extension's debugging contributions without VS Code: status bar text, Debug ROM / F5 configurations, and package.json's commands, menus and keybinding.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { statusView } from '../../../src/extension/statusText';
import { applyFceuxPathSetting, completeConfiguration, debugRomConfiguration, dynamicRomConfigurations } from '../../../src/extension/romConfiguration';
import { LAUNCH_ATTRIBUTES, PICK_ROM_VARIABLE, toSessionSpec } from '../../../src/debugAdapter/launchArgs';
import type { LockstepStatus } from '../../../src/debugAdapter/customProtocol';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));

const status = (over: Partial<LockstepStatus> = {}): LockstepStatus => ({
  state: 'running', frame: 1234, episode: 2, step: 56, framesRun: 900, fps: 811.6, desyncTotal: 0, desyncs: {},
  gateMode: 'strict', pauseUntilAction: false, stepBackAvailable: 600, ...over,
});

describe('status bar text', () => {
  test('running: frame, fps and desyncs; no warning colour while all is well', () => {
    const v = statusView(status());
    assert.equal(v.text, '$(play) frame 1234 · 812 fps · 0 desyncs');
    assert.equal(v.warning, false);
    assert.match(v.tooltip, /frame 1234 \(episode 2, step 56\)/);
  });

  test('waiting for an agent and desyncs draw attention; stopped hides fps', () => {
    const v = statusView(status({ desyncTotal: 2, desyncs: { frame_skip: 2 } }), { frame: 1234, waitingFor: [1], sinceMs: 1500, mode: 'strict' });
    assert.equal(v.text, '$(play) frame 1234 · 812 fps · 2 desyncs · $(watch) c2 1.5 s');
    assert.equal(v.warning, true);
    assert.match(v.tooltip, /desyncs: 2 \(frame_skip 2\)/);
    assert.match(v.tooltip, /waiting for controller 2 on frame 1234 for 1.5 s/);
    assert.equal(statusView(status({ state: 'stopped', desyncTotal: 1, pauseUntilAction: true })).text, '$(debug-pause) frame 1234 · 1 desync · $(debug-breakpoint-conditional) wait');
  });
});

describe('debug configurations made by the extension', () => {
  test('Debug ROM launches that ROM stopped on entry, and the adapter accepts the configuration', () => {
    const c = debugRomConfiguration('/games/catch.nes', '/games');
    assert.deepEqual(c, { type: 'lockstep', request: 'launch', name: 'Debug catch.nes', rom: '/games/catch.nes', agent: 'random', stopOnEntry: true, cwd: '/games' });
    assert.equal('captureScreens' in c, false, 'capture follows the screen panels (lockstep.showScreens)');
    const { spec, stopOnEntry, warnings } = toSessionSpec(c, 'launch');
    assert.equal(spec.rom, '/games/catch.nes');
    assert.equal(stopOnEntry, true);
    assert.deepEqual(warnings, []);
  });

  test('F5 without launch.json: the active .nes file, else the demo ROM; an existing configuration only gains cwd', () => {
    assert.equal(completeConfiguration({}, { activeFile: '/w/a.NES', folder: '/w' }).rom, '/w/a.NES');
    const demo = completeConfiguration({}, { activeFile: '/w/readme.md', folder: '/w' });
    assert.deepEqual([demo.type, demo.request, demo.rom, demo.cwd], ['lockstep', 'launch', undefined, '/w']);
    assert.deepEqual(completeConfiguration({ type: 'lockstep', request: 'attach', name: 'x', port: 1 }, { folder: '/w' }), { type: 'lockstep', request: 'attach', name: 'x', port: 1, cwd: '/w' });
    assert.equal(completeConfiguration({ type: 'lockstep', request: 'launch', name: 'x', cwd: '/elsewhere' }, { folder: '/w' }).cwd, '/elsewhere');
    // No captureScreens: the game shows as soon as a screen panel is open, and costs nothing while none is.
    assert.equal(completeConfiguration({}, { activeFile: '/w/a.nes', folder: '/w' }).captureScreens, undefined);
    assert.equal(demo.captureScreens, undefined);
  });

  test('dynamic configurations: one per workspace ROM, named after it, with ${workspaceFolder} paths, capture left to the panels', () => {
    const configs = dynamicRomConfigurations(['/w/roms/zelda.nes', '/w/catch.nes', '/elsewhere/x.nes'], '/w');
    assert.deepEqual(configs.map((c) => [c.name, c.rom]), [
      ['Lockstep: x.nes', '/elsewhere/x.nes'],
      ['Lockstep: catch.nes', '${workspaceFolder}/catch.nes'],
      ['Lockstep: roms/zelda.nes', '${workspaceFolder}/roms/zelda.nes'],
    ]);
    for (const c of configs) {
      assert.equal(c.captureScreens, undefined);
      assert.deepEqual(toSessionSpec(c, 'launch').warnings, [], 'the adapter accepts it');
    }
  });

  test('the lockstep.fceuxPath setting fills in fceuxPath for launches; launch.json wins; blank does nothing', () => {
    const launch = { type: 'lockstep', request: 'launch', name: 'x', emulator: 'fceux' };
    assert.equal(applyFceuxPathSetting(launch, '/opt/fceux/bin/fceux').fceuxPath, '/opt/fceux/bin/fceux');
    assert.equal(applyFceuxPathSetting({ ...launch, fceuxPath: '/mine' }, '/opt/fceux').fceuxPath, '/mine');
    assert.equal(applyFceuxPathSetting(launch, '  ').fceuxPath, undefined);
    assert.equal(applyFceuxPathSetting({ ...launch, request: 'attach' }, '/opt/fceux').fceuxPath, undefined, 'attach starts no FCEUX');
  });
});

describe('launch.json IntelliSense and the Run and Debug view', () => {
  const debuggerContribution = pkg.contributes.debuggers.find((d: { type: string }) => d.type === 'lockstep');
  const launch = debuggerContribution.configurationAttributes.launch.properties;

  test('agent offers every kind as a value (random, random:SEED, websocket, onnx:, fm2:, scripted:, none), each matching the pattern', () => {
    for (const attr of ['agent', 'agent2']) {
      const snippets: Array<{ label: string; body: string }> = launch[attr].defaultSnippets;
      assert.deepEqual(snippets.map((s) => s.label), ['random', 'random:SEED', 'websocket', 'onnx:', 'fm2:', 'scripted:', 'none']);
      const pattern = new RegExp(launch[attr].pattern);
      for (const s of snippets) {
        // What the user gets once the snippet's placeholders are filled in (^ = raw JSON value, \$ = a literal $).
        const value = s.body.replace(/^\^"(.*)"$/, '$1').replace(/\\\$/g, '$').replace(/\$\{\d+:([^}]*)\}/g, '$1');
        assert.match(value, pattern, `${attr} snippet ${s.label} gives "${value}"`);
        assert.doesNotThrow(() => toSessionSpec({ [attr]: value.replace('${workspaceFolder}', '/w') }, 'launch'), s.label);
      }
    }
    assert.deepEqual(launch.agent.defaultSnippets, LAUNCH_ATTRIBUTES.agent.defaultSnippets, 'package.json and launchArgs.ts agree');
  });

  test('a ROM picker (${command:lockstep.pickRom}) is offered for rom, used by the initial configuration and the launch snippets, which leave capture to the panels', () => {
    assert.equal(PICK_ROM_VARIABLE, '${command:lockstep.pickRom}');
    assert.ok(launch.rom.defaultSnippets.some((s: { body: string }) => s.body.includes('\\${command:lockstep.pickRom}')));
    assert.ok(pkg.contributes.commands.some((c: { command: string }) => c.command === 'lockstep.pickRom'));
    assert.ok(pkg.contributes.menus.commandPalette.some((e: { command: string; when: string }) => e.command === 'lockstep.pickRom' && e.when === 'false'), 'not a palette command');
    const [initial] = debuggerContribution.initialConfigurations;
    assert.equal(initial.rom, PICK_ROM_VARIABLE);
    assert.equal(initial.captureScreens, undefined);
    for (const s of debuggerContribution.configurationSnippets.filter((x: { body: { request: string } }) => x.body.request === 'launch')) {
      assert.equal(s.body.rom, `^"\\${PICK_ROM_VARIABLE}"`, `${s.label} names the user's ROM`);
      assert.equal(s.body.captureScreens, undefined, `${s.label} leaves capture to the screen panels`);
    }
  });

  test('dynamic configurations and the picker activate the extension; Debug ROM is in the editor\'s Run menu; Run and Debug has a welcome', () => {
    for (const e of ['onDebugDynamicConfigurations:lockstep', 'workspaceContains:**/*.nes']) assert.ok(pkg.activationEvents.includes(e), e);
    assert.ok(pkg.contributes.menus['editor/title/run'].some((e: { command: string; when: string }) => e.command === 'lockstep.debugRom' && /resourceExtname == \.nes/.test(e.when)));
    const welcome = pkg.contributes.viewsWelcome.find((w: { view: string }) => w.view === 'debug');
    assert.match(welcome.contents, /\(command:lockstep\.debugRom\)/);
    assert.match(welcome.contents, /\(command:lockstep\.createDemoWorkspace\)/);
  });

  test('lockstep.fceuxPath is a machine-scoped string setting', () => {
    const setting = pkg.contributes.configuration.properties['lockstep.fceuxPath'];
    assert.equal(setting.type, 'string');
    assert.equal(setting.scope, 'machine');
    assert.match(setting.markdownDescription, /launch configuration's `fceuxPath` wins/);
  });
});

describe('package.json debugging contributions', () => {
  const commands: Array<{ command: string; title: string }> = pkg.contributes.commands;
  const ids = new Set(commands.map((c) => c.command));

  test('the debug commands are declared with titles', () => {
    for (const id of ['lockstep.stepFrame', 'lockstep.stepFrames', 'lockstep.sendAction', 'lockstep.togglePauseUntilAction', 'lockstep.debugRom']) {
      assert.ok(ids.has(id), `${id} declared`);
    }
    assert.ok(commands.every((c) => typeof c.title === 'string' && c.title.length > 0));
  });

  test('every menu entry and keybinding refers to a declared command; Debug ROM is on .nes files in the explorer and editor title', () => {
    for (const [menu, entries] of Object.entries(pkg.contributes.menus as Record<string, Array<{ command: string }>>)) {
      for (const e of entries) assert.ok(ids.has(e.command), `${menu}: ${e.command} is not declared`);
    }
    for (const k of pkg.contributes.keybindings) assert.ok(ids.has(k.command), `keybinding for undeclared ${k.command}`);
    for (const menu of ['explorer/context', 'editor/title']) {
      assert.ok(pkg.contributes.menus[menu].some((e: { command: string; when: string }) => e.command === 'lockstep.debugRom' && /resourceExtname == \.nes/.test(e.when)), menu);
    }
    assert.ok(pkg.contributes.keybindings.some((k: { command: string; when: string }) => k.command === 'lockstep.stepFrame' && /debugType == lockstep/.test(k.when)));
  });
});
