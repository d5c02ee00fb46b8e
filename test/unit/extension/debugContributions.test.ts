// The extension's debugging contributions without VS Code: status bar text, Debug ROM / F5 configurations, and package.json's commands, menus and keybinding.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { statusView } from '../../../src/extension/statusText';
import { completeConfiguration, debugRomConfiguration } from '../../../src/extension/romConfiguration';
import { toSessionSpec } from '../../../src/debugAdapter/launchArgs';
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
