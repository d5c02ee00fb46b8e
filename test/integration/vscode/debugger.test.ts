// The lockstep debugger in the real extension host: F5 stopping on entry, the Step Frame / Step N Frames / Send Action / pause-until-action / Debug ROM commands, step back, desync exception breakpoints, and clean ends.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { after, afterEach, before, describe, it } from 'mocha';
import { activateLockstep } from './activateLockstep';
import {
  LockstepProbe, agentInWorkspace, demoRom, heldFrame, scopeVariables, sessionEnded, startSession, stopSession, variable,
  workspaceFolder,
} from './lockstepProbe';
import { waitFor } from './waitFor';

describe('lockstep debugger in VS Code', () => {
  let probe: LockstepProbe;
  const started: vscode.DebugSession[] = [];
  let ended: Set<string>;
  let endSub: vscode.Disposable;

  const launch = async (name: string, extra: Record<string, unknown>) => {
    const s = await startSession({ type: 'lockstep', request: 'launch', name, rom: demoRom(), ...extra });
    started.push(s);
    return s;
  };

  before(async () => {
    await activateLockstep();
    probe = new LockstepProbe();
    ended = new Set();
    endSub = vscode.debug.onDidTerminateDebugSession((s) => ended.add(s.id));
  });

  afterEach(async () => {
    // A failed test must not leave its session running into the next one (the commands act on the active session).
    for (const s of started.splice(0)) {
      if (!ended.has(s.id)) await stopSession(s).catch(() => undefined);
    }
  });

  after(() => {
    probe.dispose();
    endSub.dispose();
  });

  it('F5 on the demo ROM stops on entry; Step Frame runs exactly one frame, step back restores it, Step N Frames runs N', async function () {
    this.timeout(60_000);
    const s = await launch('t: step frame', { agent: `scripted:${agentInWorkspace('idle.js')}`, stopOnEntry: true });
    const entry = await probe.nextEvent(s, 'stopped');
    assert.equal(entry.body?.reason, 'entry');
    const f0 = await heldFrame(s);
    assert.match(String(entry.body?.description), new RegExp(`^Stopped on entry at frame ${f0}$`));
    const stack = (await s.customRequest('stackTrace', { threadId: 1 })) as { stackFrames: Array<{ name: string }> };
    assert.match(stack.stackFrames[0].name, new RegExp(`^frame ${f0} \\(episode 0, step 0\\)`));
    const threads = (await s.customRequest('threads')) as { threads: Array<{ id: number; name: string }> };
    assert.deepEqual(threads.threads.map((t) => t.name), ['NES: demo.nes']);

    // The command, not a DAP request: it goes through the extension's active-session tracking.
    assert.equal(vscode.debug.activeDebugSession?.id, s.id);
    let mark = probe.mark(s);
    await vscode.commands.executeCommand('lockstep.stepFrame');
    assert.equal((await probe.nextEvent(s, 'stopped', { since: mark })).body?.reason, 'step');
    assert.equal(await heldFrame(s), f0 + 1);
    assert.equal((await variable(s, 'Sync', 'step')).value, '1');

    mark = probe.mark(s);
    await s.customRequest('stepBack', { threadId: 1 });
    const back = await probe.nextEvent(s, 'stopped', { since: mark });
    assert.equal(back.body?.reason, 'step');
    assert.equal(back.body?.description, `Stepped back to frame ${f0}`);
    assert.equal(await heldFrame(s), f0);
    assert.equal((await variable(s, 'Sync', 'step')).value, '0');

    mark = probe.mark(s);
    await vscode.commands.executeCommand('lockstep.stepFrames', 5);
    await probe.nextEvent(s, 'stopped', { since: mark });
    assert.equal(await heldFrame(s), f0 + 5);
    const status = await probe.nextEvent(s, 'lockstep.status', { since: mark, pred: (b) => b.state === 'stopped' });
    assert.equal(status.body?.frame, f0 + 5);

    const summary = probe.nextEvent(s, 'lockstep.summary');
    await stopSession(s);
    // One frame, stepped back, then five: six frames ran.
    assert.equal((await summary).body?.frames, 6);
  });

  it('a launch.json configuration started by name has ${workspaceFolder} substituted and its workspace agent loaded', async function () {
    this.timeout(30_000);
    const s = await startSession('Idle agent, stop on entry');
    started.push(s);
    assert.equal((await probe.nextEvent(s, 'stopped')).body?.reason, 'entry');
    assert.equal(s.configuration.agent, `scripted:${agentInWorkspace('idle.js')}`);
    assert.equal(s.configuration.cwd, workspaceFolder().uri.fsPath, 'the provider filled in cwd');
    const agents = await scopeVariables(s, 'Agents');
    assert.equal(agents.find((v) => v.name === 'controller 1')?.value, `scripted(${agentInWorkspace('idle.js')})`);
    await stopSession(s);
  });

  it("frame_skip: VS Code's default-on exception filter stops a skipping agent; exceptionInfo has expected, received and gap", async function () {
    this.timeout(30_000);
    // No setExceptionBreakpoints of our own: VS Code sends the filters initialize declared with default: true.
    const s = await launch('t: frame skip', { agent: `scripted:${agentInWorkspace('skipper.js')}`, stopOnEntry: false });
    const stop = await probe.nextEvent(s, 'stopped');
    assert.equal(stop.body?.reason, 'exception');
    const held = await heldFrame(s);
    assert.equal(stop.body?.description, `Desync: frame_skip at frame ${held}`);
    const info = (await s.customRequest('exceptionInfo', { threadId: 1 })) as { exceptionId: string; description: string; breakMode: string; details: { stackTrace: string } };
    assert.equal(info.exceptionId, 'frame_skip');
    assert.equal(info.breakMode, 'always');
    assert.match(info.description, new RegExp(`sent an action for frame ${held + 3} while the emulator holds frame ${held}: 3 frames ahead`));
    assert.match(info.details.stackTrace, new RegExp(`expected frame: ${held}\\n`));
    assert.match(info.details.stackTrace, new RegExp(`received frame: ${held + 3}\\n`));
    assert.match(info.details.stackTrace, /gap:\s+3 frame\(s\)/);
    assert.match(info.details.stackTrace, /controller:\s+1\n/);
    const desync = probe.events(s, 'lockstep.desync').map((e) => [e.body?.type, e.body?.gap, e.body?.stops]);
    assert.deepEqual(desync, [['frame_skip', 3, true]]);
    await stopSession(s);
  });

  it('timeout: with the filter set through setExceptionBreakpoints, a late agent stops with the delay in exceptionInfo', async function () {
    this.timeout(30_000);
    const s = await launch('t: timeout', { agent: `scripted:${agentInWorkspace('late.js')}`, stopOnEntry: true, sync: { frameTimeoutMs: 60 } });
    await probe.nextEvent(s, 'stopped');
    // The vscode API has no setter for exception filters (the Breakpoints view owns them): send the DAP request.
    const set = (await s.customRequest('setExceptionBreakpoints', { filters: ['timeout'] })) as { breakpoints?: Array<{ verified: boolean }> } | undefined;
    assert.ok(!set?.breakpoints || set.breakpoints.every((b) => b.verified));
    const mark = probe.mark(s);
    await s.customRequest('continue', { threadId: 1 });
    const stop = await probe.nextEvent(s, 'stopped', { since: mark });
    assert.equal(stop.body?.reason, 'exception');
    const held = await heldFrame(s);
    const info = (await s.customRequest('exceptionInfo', { threadId: 1 })) as { exceptionId: string; details: { stackTrace: string } };
    assert.equal(info.exceptionId, 'timeout');
    assert.match(info.details.stackTrace, new RegExp(`expected frame: ${held}\\n`));
    assert.match(info.details.stackTrace, /received frame: none/);
    const delay = Number(/delay:\s+([\d.]+) ms/.exec(info.details.stackTrace)?.[1]);
    assert.ok(delay >= 60 && delay < 400, `delay ${delay} ms is past the 60 ms limit and before the agent's 400 ms answer`);
    await stopSession(s);
  });

  it('Toggle Pause-Until-Action stops while the gate waits for a silent agent; Send Action supplies the frame, Step Frame runs it', async function () {
    this.timeout(30_000);
    const s = await launch('t: pause until action', { agent: `scripted:${agentInWorkspace('never.js')}`, stopOnEntry: true });
    await probe.nextEvent(s, 'stopped');
    const f0 = await heldFrame(s);
    let mark = probe.mark(s);
    await vscode.commands.executeCommand('lockstep.togglePauseUntilAction');
    await probe.nextEvent(s, 'lockstep.status', { since: mark, pred: (b) => b.pauseUntilAction === true });

    mark = probe.mark(s);
    await s.customRequest('continue', { threadId: 1 });
    const wait = await probe.nextEvent(s, 'stopped', { since: mark });
    assert.equal(wait.body?.reason, 'pause');
    assert.equal(wait.body?.description, `Waiting for an action: controller 1, frame ${f0}`);
    assert.equal(await heldFrame(s), f0, 'the frame is held, not run');
    assert.match((await variable(s, 'Sync', 'gate')).value, new RegExp(`^waiting for controller 1 for frame ${f0} `));
    assert.equal((await variable(s, 'Sync', 'pause until action')).value, 'on');

    await vscode.commands.executeCommand('lockstep.sendAction', ['RIGHT', 'A']);
    mark = probe.mark(s);
    await vscode.commands.executeCommand('lockstep.stepFrame');
    assert.equal((await probe.nextEvent(s, 'stopped', { since: mark })).body?.reason, 'step');
    assert.equal(await heldFrame(s), f0 + 1);
    const action = (await variable(s, 'Sync', 'last action c1')).value;
    assert.match(action, /RIGHT/);
    assert.match(action, /\bA\b/);
    const released = probe.events(s, 'lockstep.released').map((e) => e.body?.by);
    assert.ok(released.includes('manual'), `the wait ended by hand (released events: ${JSON.stringify(released)})`);

    mark = probe.mark(s);
    await vscode.commands.executeCommand('lockstep.togglePauseUntilAction');
    await probe.nextEvent(s, 'lockstep.status', { since: mark, pred: (b) => b.pauseUntilAction === false });
    await stopSession(s);
  });

  it('Debug ROM on a .nes URI starts a session named after it, stopped on entry', async function () {
    this.timeout(30_000);
    let sub: vscode.Disposable | undefined;
    const session = new Promise<vscode.DebugSession>((resolve) => {
      sub = vscode.debug.onDidStartDebugSession((x) => {
        if (x.type === 'lockstep') resolve(x);
      });
    });
    await vscode.commands.executeCommand('lockstep.debugRom', vscode.Uri.file(demoRom()));
    const s = await session;
    sub?.dispose();
    started.push(s);
    assert.equal(s.name, 'Debug demo.nes');
    assert.equal(s.configuration.rom, demoRom());
    assert.equal((await probe.nextEvent(s, 'stopped')).body?.reason, 'entry');
    await stopSession(s);
  });

  it('at log level trace, the DAP traffic of a session goes to the Lockstep log both ways', async function () {
    this.timeout(30_000);
    // The extension-test-only command sets the default level every log channel follows (Developer: Set Log Level in the UI).
    await vscode.commands.executeCommand('_extensionTests.setLogLevel', 'trace');
    try {
      const s = await launch('t: trace', { agent: `scripted:${agentInWorkspace('idle.js')}`, stopOnEntry: true });
      await probe.nextEvent(s, 'stopped');
      const mark = probe.mark(s);
      await s.customRequest('next', { threadId: 1 });
      await probe.nextEvent(s, 'stopped', { since: mark });
      await vscode.commands.executeCommand('lockstep.showLog');
      const doc = await waitFor(
        () => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'output' && d.uri.path.includes('Lockstep') &&
          d.getText().includes('[dap t: trace] -> {"command":"next"')),
        { what: 'the next request in the Lockstep log' },
      );
      assert.match(doc.getText(), /\[trace\] \[dap t: trace\] <- \{"[^\n]*"event":"stopped"[^\n]*"reason":"step"/);
      await stopSession(s);
    } finally {
      await vscode.commands.executeCommand('_extensionTests.setLogLevel', 'info');
    }
  });

  it('stopping a session ends it cleanly: summary, terminated, no Lockstep session left; the commands then report there is none', async function () {
    this.timeout(30_000);
    const s = await launch('t: clean end', { agent: 'random:3', stopOnEntry: false });
    await probe.nextEvent(s, 'lockstep.status', { pred: (b) => b.state === 'running' && Number(b.framesRun) > 30 });
    const done = sessionEnded(s);
    await vscode.debug.stopDebugging(s);
    await done;
    const summary = probe.events(s, 'lockstep.summary');
    assert.equal(summary.length, 1);
    assert.ok(Number(summary[0].body?.frames) > 30, JSON.stringify(summary[0].body));
    assert.equal(summary[0].body?.fault, null);
    await waitFor(() => (vscode.debug.activeDebugSession?.type === 'lockstep' ? undefined : true), { what: 'no active Lockstep session' });
    // No session: the command does not throw into the command service; it logs (and shows) the reason instead.
    await vscode.commands.executeCommand('lockstep.stepFrame');
    await vscode.commands.executeCommand('lockstep.showLog');
    await waitFor(
      () => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'output' && d.uri.path.includes('Lockstep') &&
        d.getText().includes('No Lockstep debug session is active: start one with F5')),
      { what: 'the Lockstep log saying no session is active' },
    );
  });
});
