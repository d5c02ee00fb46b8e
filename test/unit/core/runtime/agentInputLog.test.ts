// AgentInputLog: keyed by (episode, step, frame), bounded by frames and screen bytes, taps only while watched, a frame run again starts afresh.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AgentInputLog } from '../../../../src/core/runtime/agentInputLog';
import type { AgentAction, AgentPort, GivenInput, Observation } from '../../../../src/core/ports';
import type { FrameRow } from '../../../../src/core/runtime/rows';

function obs(frame: number, step = frame, episode = 0): Observation {
  return { frame, step, episode, player: 0, timestamp: 0, ram: new Uint8Array(0x800), vars: { x: frame }, reward: 0, terminated: false, truncated: false, info: { lag: false } };
}

function row(frame: number, over: Partial<FrameRow> = {}): FrameRow {
  return {
    episode: 0, step: frame, frame, timestamp: 0, buttons: [1, 0], rewards: [0, 0], terminated: false, truncated: false,
    held: [false, false], manual: [false, false], wasSpeculative: false, agentLatencyMs: [2, null], vars: {}, info: {}, ...over,
  };
}

/** An agent that reports a 1000-byte screen for every observation while tapped. */
class TappedAgent implements AgentPort {
  readonly name = 'tapped';
  readonly wantsScreen = true;
  tap: ((i: GivenInput) => void) | undefined;
  setInputTap(tap: ((i: GivenInput) => void) | undefined): void {
    this.tap = tap;
  }
  async act(o: Observation): Promise<AgentAction> {
    this.tap?.({ frame: o.frame, episode: o.episode, step: o.step, via: 'test', screen: { width: 10, height: 100, channels: 1, stack: [new Uint8Array(1000)], stackFrames: [o.frame], encoding: 'gray' } });
    return { frame: o.frame, buttons: 1 };
  }
  async close(): Promise<void> {}
}

describe('AgentInputLog', () => {
  test('keeps the last N frames and says which is the oldest', () => {
    const log = new AgentInputLog([undefined], { frames: 3 });
    for (let f = 0; f < 5; f++) log.observed(obs(f));
    assert.equal(log.get(0, 1, 1), undefined);
    assert.deepEqual(log.oldest, { episode: 0, step: 2, frame: 2 });
    assert.deepEqual(log.lastDropped, { episode: 0, step: 1, frame: 1 });
    assert.equal(log.get(0, 4, 4)?.players[0].observation.vars.x, 4);
  });

  test('a resend counts; a frame observed again after it ran starts a fresh record', () => {
    const log = new AgentInputLog([undefined]);
    log.observed(obs(7));
    log.observed(obs(7));
    assert.equal(log.get(0, 7, 7)?.players[0].sends, 2);
    log.answered(obs(7), { frame: 7, buttons: 1 });
    log.ran(row(7));
    assert.deepEqual(log.get(0, 7, 7)?.players[0].applied, { buttons: 1, held: false, manual: false, latencyMs: 2, info: null });
    log.observed(obs(7));
    const again = log.get(0, 7, 7)!.players[0];
    assert.equal(again.sends, 1);
    assert.equal(again.applied, undefined);
    assert.deepEqual(again.answers, []);
  });

  test('what was given and answered is recorded as it was then, with its times, however late the log is read', () => {
    let clock = 100;
    const log = new AgentInputLog([undefined], { frames: 3 }, () => clock);
    const given = obs(5);
    log.observed(given);
    // The agent changes what it was given before anything reads the log; its answer comes 7 ms after the observation.
    given.vars.x = 999;
    given.reward = 42;
    clock = 107;
    log.answered(given, { frame: 5, buttons: 3 });
    clock = 500;
    const v = log.get(0, 5, 5)!.players[0];
    assert.deepEqual(v.observation.vars, { x: 5 });
    assert.equal(v.observation.reward, 0);
    assert.equal(v.givenAt, 100);
    assert.deepEqual(v.answers, [{ frame: 5, buttons: 3, afterMs: 7 }]);
    // A version read counts the notes taken before it.
    const before = log.version;
    log.observed(obs(6));
    assert.equal(log.version, before + 1);
    // Many frames given with nobody reading: the window stays bounded and says what it dropped.
    for (let f = 7; f < 300; f++) log.observed(obs(f));
    assert.deepEqual(log.oldest, { episode: 0, step: 297, frame: 297 });
    assert.deepEqual(log.lastDropped, { episode: 0, step: 296, frame: 296 });
  });

  test('records that differ only in episode or step keep apart, the newest ones too', () => {
    const log = new AgentInputLog([undefined], { frames: 3 });
    // Episode 1 reaches step 5 on the same frame id as episode 0; (episode 0, step 6, frame 7) is found by all three ids.
    log.observed(obs(5, 5, 0));
    log.observed(obs(5, 5, 1));
    log.answered(obs(5, 5, 0), { frame: 5, buttons: 10 });
    log.answered(obs(5, 5, 1), { frame: 5, buttons: 11 });
    log.ran(row(5, { episode: 1, step: 5, buttons: [11, 0] }));
    log.observed(obs(7, 6, 0));
    log.answered(obs(7, 6, 0), { frame: 7, buttons: 12 });
    assert.deepEqual(log.get(0, 5, 5)?.players[0].answers.map((a) => a.buttons), [10]);
    assert.equal(log.get(0, 5, 5)?.players[0].applied, undefined);
    assert.deepEqual(log.get(1, 5, 5)?.players[0].answers.map((a) => a.buttons), [11]);
    assert.equal(log.get(1, 5, 5)?.players[0].applied?.buttons, 11);
    assert.deepEqual(log.get(0, 6, 7)?.players[0].answers.map((a) => a.buttons), [12]);
    assert.equal(log.get(0, 7, 7), undefined);
    // Two more frames push the two oldest out; answers for them find nothing, and the newest still take theirs.
    log.observed(obs(8, 7, 0));
    log.observed(obs(9, 8, 0));
    log.answered(obs(5, 5, 0), { frame: 5, buttons: 13 });
    log.answered(obs(9, 8, 0), { frame: 9, buttons: 14 });
    assert.equal(log.get(0, 5, 5), undefined);
    assert.equal(log.get(1, 5, 5), undefined);
    assert.deepEqual(log.lastDropped, { episode: 1, step: 5, frame: 5 });
    assert.deepEqual(log.get(0, 8, 9)?.players[0].answers.map((a) => a.buttons), [14]);
  });

  test('a record that left the window is refilled for a later frame and shows only that frame', () => {
    const log = new AgentInputLog([undefined], { frames: 2 });
    const first = obs(1);
    log.observed(first);
    log.observed(first);
    log.answered(first, { frame: 1, buttons: 5, info: { why: 'first' } });
    log.answered(first, { frame: 1, buttons: 6 });
    log.ran(row(1, { buttons: [6, 0], info: { p1: { policy: 'a' } } }));
    log.desync({ type: 'timeout', frame: 1, expectedFrame: 1, receivedFrame: null, gap: null, delayMs: 120, clockOffsetMs: null, player: 0, timestamp: 0, message: 'late' }, 0);
    const old = log.get(0, 1, 1)!;
    const oldView = old.players[0];
    assert.equal(oldView.sends, 2);
    assert.equal(oldView.desyncs.length, 1);
    // Two more frames: frame 1 leaves the window and its record (and its agent's view) is taken for frame 3.
    log.observed(obs(2));
    const third = obs(3);
    third.vars = { y: 9 };
    third.info = { lag: true, extra: 1 };
    log.observed(third);
    log.answered(third, { frame: 3, buttons: 7 });
    assert.equal(log.get(0, 1, 1), undefined);
    const now = log.get(0, 3, 3)!;
    assert.equal(now, old, 'the record that left the window is reused');
    assert.equal(now.players[0], oldView, "and so is its agent's view");
    assert.deepEqual({ episode: now.episode, step: now.step, frame: now.frame }, { episode: 0, step: 3, frame: 3 });
    assert.equal(now.players.length, 1);
    const v = now.players[0];
    assert.equal(v.sends, 1);
    assert.deepEqual(v.observation.vars, { y: 9 }, 'variables with other names are not mixed with the old ones');
    assert.deepEqual(v.observation.info, { lag: true, extra: 1 });
    assert.deepEqual(v.answers, [{ frame: 3, buttons: 7, afterMs: v.answers[0].afterMs }]);
    assert.equal(v.applied, undefined);
    assert.deepEqual(v.desyncs, []);
    // The same variable names refill the view in place, with this frame's values.
    log.observed(obs(4));
    log.observed(obs(5));
    assert.deepEqual(log.get(0, 5, 5)?.players[0].observation.vars, { x: 5 });
    assert.deepEqual(log.get(0, 4, 4)?.players[0].observation.vars, { x: 4 });
    // Names that objects inherit (a variable may be called toString) count only as the observation's own.
    const sixth = obs(6);
    sixth.vars = { x: 6, toString: 1 };
    log.observed(sixth);
    const seventh = obs(7);
    seventh.vars = { toString: 7 };
    log.observed(seventh);
    assert.deepEqual(log.get(0, 7, 7)?.players[0].observation.vars, { toString: 7 });
    // Frame 8 takes frame 6's record, whose variables have a toString of their own that frame 8's do not.
    const eighth = obs(8);
    eighth.vars = { x: 8 };
    log.observed(eighth);
    assert.deepEqual(log.get(0, 8, 8)?.players[0].observation.vars, { x: 8 });
  });

  test('agents report their own input only while watched, and screens count against the byte budget', async () => {
    const agent = new TappedAgent();
    const log = new AgentInputLog([agent], { frames: 100, screenBytes: 2500 });
    log.observed(obs(0));
    await agent.act(obs(0));
    assert.equal(log.get(0, 0, 0)?.players[0].given, undefined, 'not watched: no tap');
    const stop = log.watch();
    for (let f = 1; f <= 4; f++) {
      log.observed(obs(f));
      await agent.act(obs(f));
    }
    assert.equal(log.get(0, 4, 4)?.players[0].given?.screen?.stackFrames[0], 4);
    // 1000 bytes a frame under a 2500-byte budget: only the two newest frames' records stay.
    assert.equal(log.get(0, 2, 2), undefined);
    assert.ok(log.get(0, 3, 3)?.players[0].given);
    stop();
    assert.equal(agent.tap, undefined, 'the last watcher gone: the tap is removed');
  });
});
