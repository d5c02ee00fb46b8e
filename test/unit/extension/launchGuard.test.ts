// The launch guard without VS Code: Restricted Mode refuses, agent files outside the workspace (also through symbolic links) need "Allow once".
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALLOW_ONCE, LaunchGuard, RESTRICTED_MODE_MESSAGE, agentFiles, filesOutside, isInside, outsidePrompt, realpathOrNearest,
  type LaunchGuardHost,
} from '../../../src/extension/launchGuard';

interface FakeHost extends LaunchGuardHost {
  asked: Array<{ message: string; detail: string }>;
  refused: string[];
}

let root: string;
let ws: string;
let other: string;
let ext: string;

function host(over: Partial<LaunchGuardHost> & { answer?: boolean } = {}): FakeHost {
  const h: FakeHost = {
    asked: [],
    refused: [],
    isTrusted: () => true,
    workspaceFolders: () => [ws],
    extensionRoot: ext,
    realpath: (p) => realpath(p),
    confirm: async (message, detail) => {
      h.asked.push({ message, detail });
      return over.answer ?? false;
    },
    refuse: (m) => {
      h.refused.push(m);
    },
    processCwd: () => ws,
    platform: 'linux',
    ...over,
  };
  return h;
}

const launch = (extra: Record<string, unknown>) => ({ type: 'lockstep', request: 'launch', name: 'Test run', cwd: ws, ...extra });

before(() => {
  // realpath: macOS's /tmp is itself a link, and the guard compares real paths.
  root = realpathSync(mkdtempSync(join(tmpdir(), 'lockstep-guard-')));
  ws = join(root, 'ws');
  other = join(root, 'elsewhere');
  ext = join(root, 'extension');
  for (const d of [ws, join(ws, 'agents'), other, join(ext, 'models')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(ws, 'agents', 'good.js'), 'module.exports = { act: () => 0 };');
  writeFileSync(join(other, 'evil.js'), 'module.exports = { act: () => 0 };');
  writeFileSync(join(other, 'policy.onnx'), '');
  writeFileSync(join(ext, 'models', 'demo-policy.onnx'), '');
  symlinkSync(join(other, 'evil.js'), join(ws, 'agents', 'link.js'));
  symlinkSync(other, join(ws, 'linkdir'));
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('launch guard: Restricted Mode', () => {
  test('an untrusted workspace refuses every launch with the reason, and never asks about files', async () => {
    const h = host({ isTrusted: () => false });
    const g = new LaunchGuard(h);
    assert.equal(g.allowsStart(), false);
    assert.equal(await g.allowsFiles(launch({ agent: `scripted:${join(other, 'evil.js')}` })), false);
    assert.deepEqual(h.refused, [RESTRICTED_MODE_MESSAGE, RESTRICTED_MODE_MESSAGE]);
    assert.match(RESTRICTED_MODE_MESSAGE, /Restricted Mode/);
    assert.match(RESTRICTED_MODE_MESSAGE, /Trust this folder/);
    assert.equal(h.asked.length, 0);
  });

  test('a trusted workspace starts without a word', () => {
    const h = host();
    assert.equal(new LaunchGuard(h).allowsStart(), true);
    assert.deepEqual(h.refused, []);
  });
});

describe('launch guard: files from outside the workspace', () => {
  test('agents inside the workspace (relative to cwd, absolute, object form) start without a question', async () => {
    const h = host();
    const ok = await new LaunchGuard(h).allowsFiles(launch({ agent: 'scripted:agents/good.js', agent2: { type: 'scripted', path: join(ws, 'agents', 'good.js') } }));
    assert.equal(ok, true);
    assert.equal(h.asked.length, 0);
  });

  test('random, websocket, none and unparsable agents involve no file', async () => {
    const h = host();
    assert.deepEqual(await agentFiles(launch({ agent: 'random:7', agent2: 'websocket' }), h), []);
    assert.deepEqual(await agentFiles(launch({ agent: 'none', agent2: 'bogus:x' }), h), []);
    assert.equal(await new LaunchGuard(h).allowsFiles(launch({ agent: 'bogus' })), true);
  });

  test('a scripted agent outside asks once, naming the launch, the attribute and the real path; Cancel refuses', async () => {
    const h = host({ answer: false });
    const ok = await new LaunchGuard(h).allowsFiles(launch({ agent: 'random', agent2: `scripted:${join(other, 'evil.js')}` }));
    assert.equal(ok, false);
    assert.equal(h.asked.length, 1);
    assert.equal(h.asked[0].message, 'Lockstep: "Test run" runs code from outside the workspace.');
    assert.match(h.asked[0].detail, /agent2 \(controller 2\): scripted agent/);
    assert.ok(h.asked[0].detail.includes(join(other, 'evil.js')), h.asked[0].detail);
    assert.match(h.asked[0].detail, /nothing is remembered/);
  });

  test('"Allow once" lets this launch run, and the next launch asks again', async () => {
    const h = host({ answer: true });
    const g = new LaunchGuard(h);
    const cfg = launch({ agent: `onnx:${join(other, 'policy.onnx')}` });
    assert.equal(await g.allowsFiles(cfg), true);
    assert.equal(await g.allowsFiles(cfg), true);
    assert.equal(h.asked.length, 2);
    assert.match(h.asked[0].detail, /agent \(controller 1\): ONNX model/);
  });

  test('ONNX and FM2 paths count, and "../" out of the workspace is outside', async () => {
    const h = host();
    const out = await filesOutside(launch({ agent: 'onnx:../elsewhere/policy.onnx', agent2: 'fm2:../elsewhere/movie.fm2' }), h);
    assert.deepEqual(out.map((f) => [f.attribute, f.kind, f.resolved]), [
      ['agent', 'onnx', join(other, 'policy.onnx')],
      ['agent2', 'fm2', join(other, 'movie.fm2')],
    ]);
  });

  test('a symbolic link inside the workspace to a file (or folder) outside is outside', async () => {
    const h = host();
    const out = await filesOutside(launch({ agent: 'scripted:agents/link.js', agent2: 'scripted:linkdir/not-yet.js' }), h);
    assert.deepEqual(out.map((f) => f.resolved), [join(other, 'evil.js'), join(other, 'not-yet.js')]);
  });

  test("Lockstep's own folder (the shipped demo policy) is trusted like the workspace", async () => {
    const h = host();
    assert.deepEqual(await filesOutside(launch({ agent: `onnx:${join(ext, 'models', 'demo-policy.onnx')}` }), h), []);
  });

  test('with no folder open every agent file is outside, relative paths resolve against the host cwd, and the prompt says so', async () => {
    const h = host({ workspaceFolders: () => [], processCwd: () => ws, answer: false });
    const cfg = { type: 'lockstep', request: 'launch', name: 'Loose file', agent: 'scripted:agents/good.js' };
    assert.equal(await new LaunchGuard(h).allowsFiles(cfg), false);
    assert.ok(h.asked[0].detail.includes(join(ws, 'agents', 'good.js')));
    assert.match(h.asked[0].detail, /No folder is open/);
  });

  test('a second workspace folder counts as inside', async () => {
    const h = host({ workspaceFolders: () => [ws, other] });
    assert.equal(await new LaunchGuard(h).allowsFiles(launch({ agent: `scripted:${join(other, 'evil.js')}` })), true);
    assert.equal(h.asked.length, 0);
  });
});

describe('launch guard: path pieces', () => {
  test('isInside: the root itself and below are inside; siblings sharing a prefix, parents and .. are not', () => {
    assert.equal(isInside('/w/ws', '/w/ws', 'linux'), true);
    assert.equal(isInside('/w/ws', '/w/ws/a/b.js', 'linux'), true);
    assert.equal(isInside('/w/ws', '/w/ws2/b.js', 'linux'), false);
    assert.equal(isInside('/w/ws', '/w/b.js', 'linux'), false);
    assert.equal(isInside('/w/ws', '/w/ws/..hidden/b.js', 'linux'), true, 'a folder named "..hidden" is still inside');
    assert.equal(isInside('/w/WS', '/w/ws/a.js', 'linux'), false);
    assert.equal(isInside('/w/WS', '/w/ws/a.js', 'darwin'), true);
  });

  test('realpathOrNearest follows links in the part of the path that exists', async () => {
    assert.equal(await realpathOrNearest(join(ws, 'linkdir', 'a', 'b.js'), (p) => realpath(p)), join(other, 'a', 'b.js'));
    assert.equal(await realpathOrNearest(join(ws, 'agents', 'good.js'), (p) => realpath(p)), join(ws, 'agents', 'good.js'));
  });

  test('the prompt without a name says "This launch"; the button is "Allow once"', () => {
    const p = outsidePrompt(undefined, [{ attribute: 'agent', kind: 'fm2', given: 'm.fm2', resolved: '/x/m.fm2' }], true);
    assert.equal(p.message, 'Lockstep: This launch runs code from outside the workspace.');
    assert.match(p.detail, /agent \(controller 1\): FM2 movie\n {2}\/x\/m\.fm2/);
    assert.equal(ALLOW_ONCE, 'Allow once');
  });
});
