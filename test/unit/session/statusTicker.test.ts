// Tests for StatusTicker on the real runtime (demo ROM, jsnes in process): long waits at the gate are shown once, their end is noticed, status comes on time.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessEmulator } from '../../../src/emulators/embedded/embeddedEmulator';
import { LockstepRuntime } from '../../../src/core/runtime/runtime';
import { defaultSyncConfig, mergeSyncConfig } from '../../../src/core/config/config';
import { parseRamMap } from '../../../src/core/config/ramMap';
import { ScriptedAgent } from '../../../src/agents/scriptedAgent';
import { BUTTON } from '../../../src/core/buttons';
import { StatusTicker, type StatusTickerEvents } from '../../../src/session/statusTicker';

const ROOT = join(__dirname, '..', '..', '..');
const ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const RAM_MAP = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A runtime whose only agent answers after `delayMs` (never when null), and a running ticker watching it. */
async function setup(delayMs: number | null) {
  const agent = new ScriptedAgent({ act: () => (delayMs === null ? new Promise<number>(() => undefined) : sleep(delayMs).then(() => 0)) }, 'test');
  const rt = new LockstepRuntime(
    { emulator: new InProcessEmulator(), agents: [agent], ramMap: RAM_MAP, sync: mergeSyncConfig(defaultSyncConfig(), { frameTimeoutMs: 60_000 }) },
    { romPath: ROM, maxSteps: null },
  );
  const first = (await rt.start()).frame;
  let running = true;
  const shownFor: number[] = [];
  const ticker = new StatusTicker({ runtime: () => rt, isRunning: () => running, waitNoticeMs: 60, statusIntervalMs: 100, onWaitShown: (i) => shownFor.push(i.frame) });
  const waiting: Array<StatusTickerEvents['waiting']> = [];
  const released: Array<StatusTickerEvents['released']> = [];
  let statuses = 0;
  ticker.events.on('waiting', (e) => waiting.push(e));
  ticker.events.on('released', (e) => released.push(e));
  ticker.events.on('status', () => statuses++);
  ticker.start();
  const close = async () => {
    running = false;
    ticker.stop();
    await rt.close();
  };
  return { rt, ticker, first, waiting, released, shownFor, statuses: () => statuses, stopRunning: () => { running = false; }, close };
}

describe('StatusTicker', () => {
  test('a wait longer than waitNoticeMs is shown once for its frame; buttons by hand end it as "manual"', async () => {
    const s = await setup(null);
    const advancing = s.rt.advance();
    await until('the wait to be shown', () => s.waiting.length > 0);
    assert.equal(s.waiting[0].first, true);
    assert.equal(s.waiting[0].info.frame, s.first);
    assert.deepEqual(s.waiting[0].info.waitingFor, [0]);
    assert.ok(s.waiting[0].info.sinceMs >= 60);
    assert.deepEqual(s.shownFor, [s.first]);
    assert.equal(s.ticker.showingWait, true);
    s.rt.supplyAction(BUTTON.A, 0);
    s.ticker.markManual();
    await advancing;
    s.ticker.checkWaiting();
    assert.equal(s.released.length, 1);
    assert.equal(s.released[0].frame, s.first);
    assert.equal(s.released[0].by, 'manual');
    assert.equal(s.ticker.showingWait, false);
    assert.equal(s.waiting.filter((w) => w.first).length, 1, 'shown once for the frame');
    await s.close();
  });

  test('an agent that answers late ends the shown wait as "agent"; a wait is repeated each second while it lasts', async () => {
    const s = await setup(1600);
    await s.rt.advance();
    await until('the release', () => s.released.length > 0);
    assert.equal(s.released[0].by, 'agent');
    assert.equal(s.released[0].frame, s.first);
    assert.ok(s.released[0].waitedMs >= 1000, `waited ${s.released[0].waitedMs} ms`);
    assert.deepEqual(s.waiting.map((w) => w.first), [true, false], 'the first notice, then one a second later');
    await s.close();
  });

  test('status comes every statusIntervalMs while running, and not when stopped', async () => {
    const s = await setup(0);
    await until('three status reports', () => s.statuses() >= 3);
    s.stopRunning();
    await sleep(50);
    const n = s.statuses();
    await sleep(350);
    assert.equal(s.statuses(), n);
    s.ticker.sendStatus();
    assert.equal(s.statuses(), n + 1, 'on demand it comes at once');
    await s.close();
  });
});
