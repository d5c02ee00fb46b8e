// DAP tests, stepping: stop on entry, next = exactly one frame, step back, stepFrames, manual actions, pause while waiting, disconnect.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, demoArgs } from './dapHarness';

describe('DAP: stepping frames', () => {
  test('stopOnEntry, then next three times grows the frame by exactly 3; step back takes it to +2', async () => {
    let sheetPath = '';
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js'));
      const entry = await h.next('stopped');
      assert.equal(entry.body.reason, 'entry');
      const f0 = await h.frame();
      for (let i = 1; i <= 3; i++) {
        await h.dc.nextRequest({ threadId: 1 });
        const s = await h.next('stopped');
        assert.equal(s.body.reason, 'step');
        assert.equal(await h.frame(), f0 + i);
      }
      await h.dc.stepBackRequest({ threadId: 1 });
      assert.equal((await h.next('stopped')).body.reason, 'step');
      assert.equal(await h.frame(), f0 + 2);
      const st = await h.dc.stackTraceRequest({ threadId: 1 });
      assert.equal(st.body.stackFrames.length, 1);
      assert.equal(st.body.stackFrames[0].name, `frame ${f0 + 2} (episode 0, step 2)`);
      // VS Code focuses only a frame whose source it can open: the source is a page describing the stopped frame,
      // one file rewritten at every stop (one editor tab, reloaded, never a stale page).
      const sheet = st.body.stackFrames[0].source?.path ?? '';
      assert.ok(existsSync(sheet), `the frame sheet ${sheet} exists`);
      const page = readFileSync(sheet, 'utf8');
      assert.match(page, new RegExp(`frame ${f0 + 2} \\(episode 0, step 2\\)`));
      assert.match(page, /^stopped: step \(Stepped back to frame \d+\)$/m);
      assert.match(page, /^ {2}p1_x = \d+ \(0x[0-9A-F]{2}\)$/m);
      assert.equal((await h.dc.sourceRequest({ sourceReference: 0, source: st.body.stackFrames[0].source })).body.content, page);
      await h.dc.nextRequest({ threadId: 1 });
      await h.next('stopped');
      const st2 = await h.dc.stackTraceRequest({ threadId: 1 });
      assert.equal(st2.body.stackFrames[0].source?.path, sheet);
      assert.match(readFileSync(sheet, 'utf8'), new RegExp(`frame ${f0 + 3} \\(episode 0, step 3\\)\\nstopped: step\\n`));
      sheetPath = sheet;
    } finally {
      assert.equal(await h.close(), 0);
    }
    assert.equal(existsSync(sheetPath), false, 'the frame sheet is removed when the session ends');
  });

  test('lockstep.stepFrames runs exactly N frames; "frames N" in the console does the same; step back past the ring (timeTravel off) is a clear error', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js', { stepBackDepth: 5, timeTravel: false }));
      await h.next('stopped');
      const f0 = await h.frame();
      const r = await h.dc.customRequest('lockstep.stepFrames', { count: 25 });
      assert.equal(r.body.from, f0);
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'step');
      assert.equal(await h.frame(), f0 + 25);
      const status = await h.dc.customRequest('lockstep.getStatus', {});
      assert.equal(status.body.frame, f0 + 25);
      assert.equal(status.body.framesRun, 25);
      assert.equal(status.body.stepBackAvailable, 5);
      const ev = await h.evaluate('frames 10');
      assert.match(ev.body.result, /running 10 frame/);
      await h.next('stopped');
      assert.equal(await h.frame(), f0 + 35);
      const back = await h.evaluate('back 9');
      assert.match(back.body.result, new RegExp(`from frame ${f0 + 35} to frame ${f0 + 30}`));
      await h.next('stopped');
      await assert.rejects(h.dc.stepBackRequest({ threadId: 1 }), /No earlier frame kept: step back goes at most 5 frames back/);
      await assert.rejects(h.dc.customRequest('lockstep.stepFrames', { count: 0 }), /count must be an integer >= 1, got 0/);
    } finally {
      await h.close();
    }
  });

  test('step out runs to the end of the episode and stops on the next episode\'s first frame', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js', { maxSteps: 20 }));
      await h.next('stopped');
      const f0 = await h.frame();
      await h.dc.stepOutRequest({ threadId: 1 });
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'step');
      assert.equal(s.body.description, 'Episode 0 ended (max_steps)');
      const end = await h.next('lockstep.episodeEnd');
      assert.deepEqual([end.body.episode, end.body.rows, end.body.reason], [0, 20, 'max_steps']);
      assert.equal((await h.variable('Sync', 'episode')).value, '1');
      assert.equal((await h.variable('Sync', 'step')).value, '0');
      assert.equal(await h.frame(), f0, 'each episode starts from the same saved start state');
    } finally {
      await h.close();
    }
  });

  test('"press RIGHT" then next moves p1_x by 2; a plain next does not move it', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js'));
      await h.next('stopped');
      const x = async () => Number((await h.evaluate('p1_x')).body.result.split(' ')[0]);
      const x0 = await x();
      await h.dc.nextRequest({ threadId: 1 });
      await h.next('stopped');
      assert.equal(await x(), x0, 'the idle agent presses nothing');
      const pressed = await h.evaluate('press RIGHT');
      assert.match(pressed.body.result, /controller 1 <- RIGHT \(applies when frame \d+ runs: step or continue\)/);
      await h.dc.nextRequest({ threadId: 1 });
      await h.next('stopped');
      assert.equal(await x(), x0 + 2);
      const row = await h.variable('Sync', 'last action c1');
      assert.match(row.value, /^RIGHT \(0x80, by hand, frame \d+\)$/);
      await assert.rejects(h.evaluate('press JUMP'), /press: unknown button "JUMP"/);
    } finally {
      await h.close();
    }
  });

  test('after a step back the Sync scope shows the action that led to the frame stepped back to, not "none yet"', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js', { stepBackDepth: 10 }));
      await h.next('stopped');
      const f0 = await h.frame();
      for (const buttons of ['RIGHT', 'A', 'LEFT']) {
        await h.evaluate(`press ${buttons}`);
        await h.dc.nextRequest({ threadId: 1 });
        await h.next('stopped');
      }
      assert.match((await h.variable('Sync', 'last action c1')).value, new RegExp(`^LEFT \\(0x40, by hand, frame ${f0 + 2}\\)$`));
      await h.dc.stepBackRequest({ threadId: 1 });
      await h.next('stopped');
      assert.equal(await h.frame(), f0 + 2);
      assert.match((await h.variable('Sync', 'last action c1')).value, new RegExp(`^A \\(0x01, by hand, frame ${f0 + 1}\\)$`));
      await h.evaluate('back 1');
      await h.next('stopped');
      assert.match((await h.variable('Sync', 'last action c1')).value, new RegExp(`^RIGHT \\(0x80, by hand, frame ${f0}\\)$`));
      // Run again from there: the new frame's action replaces the old future.
      await h.evaluate('press B');
      await h.dc.nextRequest({ threadId: 1 });
      await h.next('stopped');
      await h.dc.stepBackRequest({ threadId: 1 });
      await h.next('stopped');
      assert.match((await h.variable('Sync', 'last action c1')).value, new RegExp(`^RIGHT \\(0x80, by hand, frame ${f0}\\)$`));
      await h.dc.nextRequest({ threadId: 1 });
      await h.next('stopped');
      assert.match((await h.variable('Sync', 'last action c1')).value, new RegExp(`^none \\(0x00, agent, frame ${f0 + 1}\\)$`));
    } finally {
      await h.close();
    }
  });

  test('an agent that never answers: the wait is shown, pause interrupts it, a hand-supplied action releases the frame', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('never.js', { stopOnEntry: false, sync: { frameTimeoutMs: 3_600_000 } }));
      const waiting = await h.next('lockstep.waiting');
      assert.deepEqual(waiting.body.waitingFor, [0]);
      assert.ok(waiting.body.sinceMs >= 300, `waited ${waiting.body.sinceMs} ms before showing it`);
      const held = waiting.body.frame;
      await h.next('output', (e) => /waiting for controller 1 \(scripted\(.*never\.js\)\)/.test(e.body.output));
      await h.dc.pauseRequest({ threadId: 1 });
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'pause');
      assert.equal(await h.frame(), held, 'still holding the frame it waited on');
      assert.match((await h.variable('Sync', 'gate')).value, new RegExp(`waiting for controller 1 for frame ${held}`));
      const sent = await h.dc.customRequest('lockstep.sendAction', { buttons: ['RIGHT'] });
      assert.deepEqual([sent.body.frame, sent.body.buttons, sent.body.players], [held, 0x80, [0]]);
      await h.next('lockstep.released', (e) => e.body.frame === held && e.body.by === 'manual');
      await h.dc.nextRequest({ threadId: 1 });
      await h.next('stopped');
      assert.equal(await h.frame(), held + 1);
      await assert.rejects(h.dc.customRequest('lockstep.sendAction', { buttons: 300 }), /buttons must be a list of button names or a mask 0-255, got 300/);
    } finally {
      await h.close();
    }
  });

  test('pause-until-action stops by itself when the gate waits; "press" then continue runs on', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('never.js', { stopOnEntry: false, pauseUntilAction: true, sync: { frameTimeoutMs: 3_600_000 } }));
      const s = await h.next('stopped');
      assert.equal(s.body.reason, 'pause');
      assert.match(s.body.description, /^Waiting for an action: controller 1, frame \d+$/);
      const f = await h.frame();
      await h.dc.customRequest('lockstep.setGateMode', { mode: 'hold' });
      assert.equal((await h.variable('Sync', 'on timeout')).value, "skip (the frame runs with the late controller's previous buttons)", 'the gate holding buttons is onTimeout skip');
      await h.evaluate('press A');
      await h.dc.continueRequest({ threadId: 1 });
      // The next frame waits again (the agent never answers): pause-until-action stops there.
      const again = await h.next('stopped');
      assert.equal(again.body.reason, 'pause');
      assert.equal(await h.frame(), f + 1);
    } finally {
      await h.close();
    }
  });

  test('disconnect ends the adapter cleanly and prints a summary with frames, fps and desyncs', async () => {
    const h = await startHarness();
    await h.launch(demoArgs('idle.js', { stopOnEntry: false }));
    await h.next('lockstep.status', (e) => e.body.framesRun > 50);
    const code = await h.close();
    assert.equal(code, 0);
    const summary = h.all('output').map((e) => String(e.body.output)).find((o) => o.startsWith('Lockstep summary:'));
    assert.match(summary ?? '', /^Lockstep summary: \d+ frames in [\d.]+ s of running \(\d+ fps\), 0 desync\(s\), 0 episode\(s\) ended\.$/m);
    const sum = h.all('lockstep.summary')[0];
    assert.ok(sum.body.frames > 50);
  });

  test('record: the episode run under the debugger is written to the folder when the session ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-dap-record-'));
    const h = await startHarness();
    try {
      await h.launch(demoArgs('rightLater.js', { record: dir }));
      await h.next('stopped');
      await h.dc.customRequest('lockstep.stepFrames', { count: 30 });
      await h.next('stopped');
      await h.next('output', (e) => /recording episodes into /.test(e.body.output));
    } finally {
      assert.equal(await h.close(), 0);
    }
    try {
      const files = readdirSync(dir, { recursive: true }).map(String);
      assert.ok(files.some((f) => /\.jsonl$/.test(f)), `episode rows written: ${files.join(', ')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
