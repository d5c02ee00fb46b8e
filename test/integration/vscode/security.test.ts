// Launch guards in the real extension host: agent files outside the workspace need "Allow once" (prompt answered by the test), Restricted Mode refuses, inside files start unasked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { after, before, describe, it } from 'mocha';
import { LockstepConfigurationProvider, vscodeGuardHost } from '../../../src/extension/debugConfigurationProvider';
import { RESTRICTED_MODE_MESSAGE, type LaunchGuardHost } from '../../../src/extension/launchGuard';
import { activateLockstep } from './activateLockstep';
import { LockstepProbe, agentInWorkspace, extensionRoot, startSession, stopSession, workspaceFolder } from './lockstepProbe';

interface Asked {
  message: string;
  detail: string;
}

describe('launch guard in VS Code', () => {
  let outside: string;
  let linkInWorkspace: string;

  /** The provider as the extension builds it, on the real workspace, with the modal prompt answered by the test. */
  const guarded = (answer: boolean, over: Partial<LaunchGuardHost> = {}) => {
    const asked: Asked[] = [];
    const refused: string[] = [];
    const provider = new LockstepConfigurationProvider(vscodeGuardHost(extensionRoot(), undefined, {
      confirm: async (message, detail) => {
        asked.push({ message, detail });
        return answer;
      },
      refuse: (m) => {
        refused.push(m);
      },
      ...over,
    }));
    return { provider, asked, refused };
  };

  const config = (agent: string): vscode.DebugConfiguration => ({
    type: 'lockstep', request: 'launch', name: 'guarded run', agent, stopOnEntry: true, cwd: workspaceFolder().uri.fsPath,
  });

  before(async () => {
    await activateLockstep();
    outside = mkdtempSync(join(tmpdir(), 'lockstep-outside-'));
    writeFileSync(join(outside, 'agent.js'), 'module.exports = { act: () => 0 };');
    linkInWorkspace = join(workspaceFolder().uri.fsPath, 'agents', `link-${Date.now()}.js`);
    symlinkSync(join(outside, 'agent.js'), linkInWorkspace);
  });

  after(() => {
    rmSync(outside, { recursive: true, force: true });
    rmSync(linkInWorkspace, { force: true });
  });

  it('this test window is a trusted workspace (the stand-in turns workspace trust off)', () => {
    assert.equal(vscode.workspace.isTrusted, true);
  });

  it('a scripted agent from outside the workspace is asked about; Cancel aborts the launch', async () => {
    const { provider, asked } = guarded(false);
    const cfg = config(`scripted:${join(outside, 'agent.js')}`);
    assert.equal(await provider.resolveDebugConfigurationWithSubstitutedVariables(workspaceFolder(), cfg), undefined);
    assert.equal(asked.length, 1);
    assert.equal(asked[0].message, 'Lockstep: "guarded run" runs code from outside the workspace.');
    assert.ok(asked[0].detail.includes(join(outside, 'agent.js')), asked[0].detail);
  });

  it('"Allow once" lets that launch through unchanged', async () => {
    const { provider, asked } = guarded(true);
    const cfg = config(`onnx:${join(outside, 'model.onnx')}`);
    assert.deepEqual(await provider.resolveDebugConfigurationWithSubstitutedVariables(workspaceFolder(), cfg), cfg);
    assert.equal(asked.length, 1);
    assert.match(asked[0].detail, /ONNX model/);
  });

  it('a link in the workspace to a file outside counts as outside', async () => {
    const { provider, asked } = guarded(false);
    assert.equal(await provider.resolveDebugConfigurationWithSubstitutedVariables(workspaceFolder(), config(`scripted:${linkInWorkspace}`)), undefined);
    assert.ok(asked[0]?.detail.includes(join(outside, 'agent.js')), asked[0]?.detail);
  });

  it("agents in the workspace, relative or absolute, and Lockstep's own files start without a question", async () => {
    const { provider, asked } = guarded(false);
    for (const agent of ['scripted:agents/idle.js', `scripted:${agentInWorkspace('skipper.js')}`, `onnx:${join(extensionRoot(), 'models', 'demo-policy.onnx')}`, 'random:1', 'websocket']) {
      assert.ok(await provider.resolveDebugConfigurationWithSubstitutedVariables(workspaceFolder(), config(agent)), agent);
    }
    assert.deepEqual(asked, []);
  });

  it('Restricted Mode: both resolve steps refuse with the reason and never prompt', async () => {
    const { provider, asked, refused } = guarded(true, { isTrusted: () => false });
    assert.equal(provider.resolveDebugConfiguration(workspaceFolder(), { type: '', request: '', name: '' }), undefined);
    assert.equal(await provider.resolveDebugConfigurationWithSubstitutedVariables(workspaceFolder(), config(`scripted:${join(outside, 'agent.js')}`)), undefined);
    assert.deepEqual(refused, [RESTRICTED_MODE_MESSAGE, RESTRICTED_MODE_MESSAGE]);
    assert.deepEqual(asked, []);
  });

  it('in a trusted workspace the provider completes F5 without launch.json (demo ROM, cwd = workspace folder)', () => {
    const { provider } = guarded(false);
    const c = provider.resolveDebugConfiguration(workspaceFolder(), { type: '', request: '', name: '' });
    assert.equal(c?.type, 'lockstep');
    assert.equal(c?.cwd, workspaceFolder().uri.fsPath);
  });

  it('end to end: the registered guard lets a relative workspace agent through without a prompt (a prompt would hang the launch)', async function () {
    this.timeout(30_000);
    const probe = new LockstepProbe();
    try {
      const s = await startSession({ ...config('scripted:agents/idle.js'), name: 't: guarded inside' });
      assert.equal((await probe.nextEvent(s, 'stopped')).body?.reason, 'entry');
      await stopSession(s);
    } finally {
      probe.dispose();
    }
  });
});
