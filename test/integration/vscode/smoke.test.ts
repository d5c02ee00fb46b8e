// Smoke test in the real extension host: Lockstep activates, registers lockstep.showLog, and the command shows its log.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { describe, it } from 'mocha';
import { activateLockstep } from './activateLockstep';
import { waitFor } from './waitFor';

describe('extension smoke', () => {
  it('activates', async () => {
    const ext = await activateLockstep();
    assert.equal(ext.isActive, true);
  });

  it('registers lockstep.showLog', async () => {
    await activateLockstep();
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('lockstep.showLog'), 'lockstep.showLog missing from the command registry');
  });

  it('lockstep.showLog opens the Lockstep output channel', async () => {
    await activateLockstep();
    await vscode.commands.executeCommand('lockstep.showLog');
    // The output view loads the channel's log file asynchronously: the document can exist before its text does.
    const doc = await waitFor(
      () => vscode.workspace.textDocuments.find(
        (d) => d.uri.scheme === 'output' && d.uri.path.includes('Lockstep') && /Lockstep \S+ activated/.test(d.getText()),
      ),
      { what: 'the Lockstep output channel showing its activation line' },
    );
    assert.match(doc.getText(), /\[info\] Lockstep 0\.\d+\.\d+ activated/);
  });
});
