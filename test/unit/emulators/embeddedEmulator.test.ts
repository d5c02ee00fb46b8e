// EmbeddedEmulator (jsnes in a worker thread) and InProcessEmulator through the EmulatorPort contract.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { ButtonPair } from '../../../src/core/buttons';
import { shortHash } from '../../../src/core/episodes/ramHash';
import type { EmulatorEvent, EmulatorPort } from '../../../src/core/ports';
import { EmbeddedEmulator, InProcessEmulator } from '../../../src/emulators/embedded/embeddedEmulator';

const DEMO = join(__dirname, '../../../roms/demo/demo.nes');
const T = { timeout: 30_000 };

function pattern(count: number, offset = 0): ButtonPair[] {
  return Array.from({ length: count }, (_, i): ButtonPair => [[0x80, 0x41, 0x01, 0x40, 0x82][((i + offset) >> 4) % 5], (i * 7 + offset) & 0x43]);
}

async function runHashes(emu: EmulatorPort, seq: readonly ButtonPair[]): Promise<string[]> {
  const out: string[] = [];
  for (const b of seq) out.push(shortHash((await emu.step(b)).ram));
  return out;
}

/** Resolves with the first exit event, or rejects after a deadline. */
function exitOf(emu: EmulatorPort, ms = 10_000): Promise<Extract<EmulatorEvent, { type: 'exit' }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no exit event')), ms);
    emu.onEvent((e) => {
      if (e.type === 'exit') {
        clearTimeout(timer);
        resolve(e);
      }
    });
  });
}

describe('EmbeddedEmulator (worker)', () => {
  let emu: EmbeddedEmulator;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockstep-embedded-'));
  });
  after(async () => {
    await emu?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('start returns the ROM info and frame 0; each step advances the frame id by one', T, async () => {
    emu = new EmbeddedEmulator();
    assert.equal(emu.kind, 'embedded');
    const { rom, first } = await emu.start(DEMO);
    assert.equal(rom.name, 'demo.nes');
    assert.match(rom.md5, /^[0-9a-f]{32}$/);
    assert.equal(first.frame, 0);
    assert.equal(first.ram.length, 0x800);
    assert.equal(first.screen, undefined);
    assert.equal(first.lag, false);
    for (let i = 1; i <= 5; i++) assert.equal((await emu.step([0, 0])).frame, i);
    const withScreen = await emu.step([0, 0], { screen: true });
    assert.equal(withScreen.frame, 6);
    assert.equal(withScreen.screen?.length, 256 * 240 * 4);
  });

  test('the worker computes the same frames as the in-process machine', T, async () => {
    const local = new InProcessEmulator();
    try {
      await local.start(DEMO);
      await emu.reset();
      const seq = pattern(180);
      assert.deepEqual(await runHashes(emu, seq), await runHashes(local, seq));
      const a = await emu.current({ screen: true });
      const b = await local.current({ screen: true });
      assert.equal(a.frame, 180);
      assert.equal(b.frame, 180);
      assert.deepEqual(a.screen, b.screen);
    } finally {
      await local.close();
    }
  });

  test('current() repeats the frame without advancing; writeRam shows up in it', T, async () => {
    const before = await emu.step([0, 0]);
    const again = await emu.current();
    assert.equal(again.frame, before.frame);
    assert.deepEqual(again.ram, before.ram);
    await emu.writeRam(0x700, Uint8Array.of(1, 2, 3));
    const poked = await emu.current();
    assert.deepEqual([...poked.ram.subarray(0x700, 0x703)], [1, 2, 3]);
    assert.equal(poked.frame, before.frame);
    await assert.rejects(emu.writeRam(0x7ff, Uint8Array.of(1, 2)), /outside work RAM \$0000-\$07FF/);
  });

  test('snapshots restore RAM, screen and frame id, and replay identically', T, async () => {
    const saved = await emu.current({ screen: true });
    const handle = await emu.saveSnapshot();
    assert.equal(handle.frame, saved.frame);
    const seq = pattern(120, 3);
    const first = await runHashes(emu, seq);
    await runHashes(emu, pattern(40, 9)); // wander off

    const restored = await emu.loadSnapshot(handle, { screen: true });
    assert.equal(restored.frame, saved.frame);
    assert.deepEqual(restored.ram, saved.ram);
    assert.deepEqual(restored.screen, saved.screen);
    assert.deepEqual(await runHashes(emu, seq), first);
    assert.equal((await emu.current()).frame, saved.frame + seq.length);

    emu.dropSnapshot(handle);
    await assert.rejects(emu.loadSnapshot(handle), /snapshot \d+ \(frame \d+\) was dropped/);
    await assert.rejects(emu.loadSnapshot({ id: handle.id, frame: handle.frame }), /belongs to another emulator/);
  });

  test('reset power-cycles to frame 0 with power-on RAM', T, async () => {
    const fresh = new InProcessEmulator();
    try {
      const { first } = await fresh.start(DEMO);
      const reset = await emu.reset();
      assert.equal(reset.frame, 0);
      assert.deepEqual(reset.ram, first.ram);
      assert.equal((await emu.step([0, 0])).frame, 1);
    } finally {
      await fresh.close();
    }
  });

  test('frames are stamped with the injected clock', T, async () => {
    let t = 1000;
    const clocked = new EmbeddedEmulator({ now: () => (t += 0.5) });
    try {
      const { first } = await clocked.start(DEMO);
      const next = await clocked.step([0, 0]);
      assert.equal(first.timestamp, 1000.5);
      assert.equal(next.timestamp, 1001);
    } finally {
      await clocked.close();
    }
    const real = await emu.step([0, 0]);
    assert.ok(Math.abs(real.timestamp - Date.now()) < 5_000, `timestamp ${real.timestamp} is not epoch-based`);
  });

  test('bad ROMs are refused with one clear line before any frame runs', T, async () => {
    const other = new EmbeddedEmulator();
    try {
      const missing = join(dir, 'missing.nes');
      await assert.rejects(other.start(missing), { message: `ROM not found: ${missing}` });
      const patched = new Uint8Array(await readFile(DEMO));
      patched[6] = (patched[6] & 0x0f) | 0x60;
      patched[7] &= 0x0f;
      await writeFile(join(dir, 'm6.nes'), patched);
      await assert.rejects(other.start(join(dir, 'm6.nes')), /^Error: Unsupported mapper 6 in m6\.nes: the embedded emulator supports mappers 0,1,2,/);
      await assert.rejects(other.step([0, 0]), /no ROM loaded: call start\(\) first/);
    } finally {
      await other.close();
    }
  });

  test('close() is idempotent, announces the exit once, and later calls fail clearly', T, async () => {
    const e = new EmbeddedEmulator();
    const exits: EmulatorEvent[] = [];
    e.onEvent((ev) => ev.type === 'exit' && exits.push(ev));
    await e.start(DEMO);
    await Promise.all([e.close(), e.close()]);
    await e.close();
    assert.equal(exits.length, 1);
    assert.equal(exits[0].type === 'exit' && exits[0].reason, 'closed');
    await assert.rejects(e.step([0, 0]), /embedded emulator is not running \(closed\); cannot step/);
  });

  test('a killed worker rejects the pending call with a clear error and emits exit', T, async () => {
    const e = new EmbeddedEmulator();
    try {
      await e.start(DEMO);
      const exited = exitOf(e);
      // Queue plenty of frames so some are surely still waiting, then kill the worker from outside as a crash would
      // (reaching the private worker on purpose).
      const calls = Array.from({ length: 50 }, () => e.step([0, 0]));
      void (e as unknown as { worker: Worker }).worker.terminate();
      const results = await Promise.allSettled(calls);
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.ok(failures.length > 0, 'every queued step finished before the kill');
      for (const f of failures) {
        assert.match(String(f.reason), /embedded emulator stopped while waiting for step \(worker exited with code 1\)/);
      }
      const ev = await exited;
      assert.equal(ev.code, 1);
      assert.match(ev.reason, /worker exited with code 1/);
      await assert.rejects(e.current(), /embedded emulator is not running \(worker exited with code 1\); cannot current/);
    } finally {
      await e.close();
    }
  });

  test('an exception thrown in the worker surfaces as an error log and an exit naming it', T, async () => {
    const crashing = join(dir, 'crashingWorker.js');
    await writeFile(
      crashing,
      "require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom in worker'); });\n",
    );
    const e = new EmbeddedEmulator({ workerPath: crashing });
    const logs: string[] = [];
    e.onEvent((ev) => ev.type === 'log' && logs.push(ev.message));
    try {
      const exited = exitOf(e);
      await assert.rejects(e.start(DEMO), /stopped while waiting for start \(worker exited with code 1: boom in worker\)/);
      assert.match((await exited).reason, /boom in worker/);
      assert.ok(logs.some((m) => m.includes('boom in worker')));
    } finally {
      await e.close();
    }
  });

  test('a missing worker script is named', T, async () => {
    const e = new EmbeddedEmulator({ workerPath: join(dir, 'nope.js') });
    try {
      await assert.rejects(e.start(DEMO), /embedded emulator worker not found: .*nope\.js/);
    } finally {
      await e.close();
    }
  });
});

describe('InProcessEmulator', () => {
  test('same contract without a worker: frame ids, snapshots, close', T, async () => {
    const e = new InProcessEmulator();
    const exits: EmulatorEvent[] = [];
    e.onEvent((ev) => ev.type === 'exit' && exits.push(ev));
    const { first } = await e.start(DEMO, { screen: true });
    assert.equal(first.frame, 0);
    assert.equal(first.screen?.length, 256 * 240 * 4);
    await runHashes(e, pattern(30));
    const h = await e.saveSnapshot();
    assert.equal(h.frame, 30);
    const ahead = await runHashes(e, pattern(30, 5));
    assert.equal((await e.loadSnapshot(h)).frame, 30);
    assert.deepEqual(await runHashes(e, pattern(30, 5)), ahead);
    await e.close();
    await e.close();
    assert.equal(exits.length, 1);
    await assert.rejects(e.step([0, 0]), /embedded emulator is closed/);
  });
});
