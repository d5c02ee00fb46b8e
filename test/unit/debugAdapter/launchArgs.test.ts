// Launch arguments: package.json's configurationAttributes must match the TypeScript table (names, types, enums, ranges), and conversion to a SessionSpec names every bad value.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACH_ATTRIBUTES, DEFAULT_STEP_BACK_DEPTH, LAUNCH_ATTRIBUTES, toSessionSpec, type AttributeSchema } from '../../../src/debugAdapter/launchArgs';
import { SYNC_SETTINGS } from '../../../src/core/config/config';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
const debuggerContribution = pkg.contributes.debuggers.find((d: { type: string }) => d.type === 'lockstep');

/** The parts of a schema that must agree (descriptions may be reworded in package.json). */
function shape(s: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = {};
  for (const k of ['type', 'enum', 'minimum', 'maximum', 'exclusiveMinimum', 'pattern', 'additionalProperties', 'default', 'defaultSnippets']) {
    if (s[k] !== undefined) out[k] = s[k];
  }
  if (s.properties) {
    out.properties = Object.fromEntries(Object.entries(s.properties as Record<string, Record<string, unknown>>).map(([k, v]) => [k, shape(v)]));
  }
  return out;
}

function drift(kind: 'launch' | 'attach', table: Record<string, AttributeSchema>, contribution = debuggerContribution): string[] {
  const inPkg: Record<string, Record<string, unknown>> = contribution.configurationAttributes[kind].properties;
  const problems: string[] = [];
  for (const k of Object.keys(table)) if (!(k in inPkg)) problems.push(`${kind}.${k} is in launchArgs.ts but not in package.json`);
  for (const k of Object.keys(inPkg)) if (!(k in table)) problems.push(`${kind}.${k} is in package.json but not in launchArgs.ts`);
  for (const k of Object.keys(table)) {
    if (!(k in inPkg)) continue;
    const want = JSON.stringify(shape(table[k] as unknown as Record<string, unknown>));
    const got = JSON.stringify(shape(inPkg[k]));
    if (want !== got) problems.push(`${kind}.${k} differs:\n  launchArgs.ts ${want}\n  package.json  ${got}`);
    if (typeof inPkg[k].description !== 'string' || inPkg[k].description === '') problems.push(`${kind}.${k} has no description in package.json`);
  }
  return problems;
}

describe('launch arguments: package.json matches the TypeScript type', () => {
  test('the lockstep debugger is contributed with launch and attach attributes and an activation event', () => {
    assert.ok(debuggerContribution, 'contributes.debuggers has type "lockstep"');
    assert.ok(pkg.activationEvents.includes('onDebugResolve:lockstep'));
    assert.ok(debuggerContribution.initialConfigurations.length > 0);
    for (const snippet of debuggerContribution.configurationSnippets) {
      const unknown = Object.keys(snippet.body).filter((k) => !['type', 'request', 'name'].includes(k) && !(k in (snippet.body.request === 'attach' ? ATTACH_ATTRIBUTES : LAUNCH_ATTRIBUTES)));
      assert.deepEqual(unknown, [], `snippet "${snippet.label}" uses attributes the adapter does not know`);
    }
  });

  test('launch attributes: same names, types, enums and ranges (regenerate with configurationAttributes() if this fails)', () => {
    assert.deepEqual(drift('launch', LAUNCH_ATTRIBUTES), []);
  });

  test('the drift check notices a renamed attribute, a changed enum and a changed sync range', () => {
    const copy = JSON.parse(JSON.stringify(debuggerContribution));
    const props = copy.configurationAttributes.launch.properties;
    props.romFile = props.rom;
    delete props.rom;
    props.emulator.enum = ['embedded', 'fceux', 'mesen'];
    props.sync.properties.frameTimeoutMs.maximum = 5;
    const problems = drift('launch', LAUNCH_ATTRIBUTES, copy);
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems.join('\n'), /launch\.rom is in launchArgs\.ts but not in package\.json/);
    assert.match(problems.join('\n'), /launch\.romFile is in package\.json but not in launchArgs\.ts/);
  });

  test('attach attributes: same names, types, enums and ranges', () => {
    assert.deepEqual(drift('attach', ATTACH_ATTRIBUTES), []);
  });

  test('the sync object lists every sync setting with its kind, range and default', () => {
    const props = debuggerContribution.configurationAttributes.launch.properties.sync.properties;
    assert.deepEqual(Object.keys(props).sort(), SYNC_SETTINGS.map((s) => s.key).sort());
    for (const s of SYNC_SETTINGS) {
      assert.equal(props[s.key].default, s.default, s.key);
      assert.equal(props[s.key].type, s.kind === 'enum' ? 'string' : s.kind === 'int' ? 'integer' : 'number', s.key);
    }
  });
});

describe('launch arguments: conversion to a SessionSpec', () => {
  test('defaults: embedded emulator, random agent on controller 1, step back 600', () => {
    const { spec, stopOnEntry, pauseUntilAction, warnings } = toSessionSpec({ type: 'lockstep', request: 'launch', name: 'x' }, 'launch');
    assert.equal(spec.emulator, 'embedded');
    assert.equal(spec.fceuxMode, 'launch');
    assert.deepEqual(spec.agents, [{ type: 'random' }, undefined]);
    assert.equal(spec.stepBackDepth, DEFAULT_STEP_BACK_DEPTH);
    assert.equal(spec.maxSteps, null);
    assert.equal(stopOnEntry, false);
    assert.equal(pauseUntilAction, false);
    assert.deepEqual(warnings, []);
  });

  test('agents as text and as objects, one per controller; "none" leaves a controller released', () => {
    const { spec } = toSessionSpec({ agent: 'scripted:a.js', agent2: { type: 'random', seed: 4 } }, 'launch');
    assert.deepEqual(spec.agents, [{ type: 'scripted', path: 'a.js' }, { type: 'random', seed: 4 }]);
    assert.deepEqual(toSessionSpec({ agent: 'none', agent2: 'websocket' }, 'launch').spec.agents, [undefined, { type: 'websocket' }]);
  });

  test('attach always means a user-started FCEUX, and launch-only attributes are refused', () => {
    const { spec } = toSessionSpec({ port: 8765, token: 'abc' }, 'attach');
    assert.deepEqual([spec.emulator, spec.fceuxMode, spec.port, spec.token], ['fceux', 'attach', 8765, 'abc']);
    assert.throws(() => toSessionSpec({ emulator: 'embedded' }, 'attach'), /launch.json "emulator" is not used by "attach"/);
  });

  test('sync overrides are checked up front; stepBackDepth falls back to sync.snapshotDepth', () => {
    const { spec } = toSessionSpec({ sync: { frameTimeoutMs: 50, snapshotDepth: 30 } }, 'launch');
    assert.deepEqual(spec.sync, { frameTimeoutMs: 50, snapshotDepth: 30 });
    assert.equal(spec.stepBackDepth, 30);
    assert.throws(() => toSessionSpec({ sync: { frame_timeout_ms: 5 } }, 'launch'), /launch.json "sync": unknown sync setting "frame_timeout_ms" \(did you mean frameTimeoutMs\?\)/);
  });

  test('each bad value is named with the attribute', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ emulator: 'mesen' }, /"emulator" must be "embedded" or "fceux", got "mesen"/],
      [{ port: 70000 }, /"port" must be an integer from 0 to 65535, got 70000/],
      [{ stopOnEntry: 'yes' }, /"stopOnEntry" must be true or false, got "yes"/],
      [{ maxSteps: 0 }, /"maxSteps" must be an integer from 1/],
      [{ rom: '' }, /"rom" must be a non-empty string/],
      [{ agent: 'onnx' }, /"agent": "onnx" needs a path/],
      [{ agent2: 42 }, /"agent2" must be a string like "random" or an object/],
    ];
    for (const [args, re] of bad) assert.throws(() => toSessionSpec(args, 'launch'), re, JSON.stringify(args));
  });

  test('unknown attributes are warned about, with a suggestion', () => {
    const { warnings } = toSessionSpec({ stopOnentry: true, preLaunchTask: 'build' }, 'launch');
    assert.deepEqual(warnings, ['launch.json attribute "stopOnentry" is not a Lockstep launch attribute and is ignored (did you mean "stopOnEntry"?)']);
  });
});
