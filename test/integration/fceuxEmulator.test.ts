// FceuxEmulator against a real headless FCEUX on the demo ROM: lockstep stepping, screens, snapshots, RAM writes, reset, start errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUTTON, type ButtonPair } from '../../src/core/buttons';
import { demoRomPath } from '../../src/core/packageRoot';
import { hasScreen, type EmulatorFrame, type EmulatorPort, type StepNow, type StepOptions } from '../../src/core/ports';
import { FceuxEmulator, type FceuxEmulatorOptions } from '../../src/emulators/fceux/fceuxEmulator';
import { LockstepRuntime } from '../../src/core/runtime/runtime';
import type { FrameRow } from '../../src/core/runtime/rows';
import { defaultSyncConfig } from '../../src/core/config/config';
import { parseRamMap } from '../../src/core/config/ramMap';
import { RandomAgent } from '../../src/agents/randomAgent';
import { processAlive } from './processAlive';

// Demo ROM RAM map (roms/demo/demo.s): 16-bit NMI counter, paddles, raw controller masks.
const FRAME_LO = 0x10;
const FRAME_HI = 0x11;
const DONE = 0x13;
const P1_X = 0x18;
const P2_X = 0x19;
const PAD1 = 0x1c;
const PAD2 = 0x1d;
const PADDLE_MAX_X = 232;
const PADDLE_SPEED = 2;

const ROM = demoRomPath();

/** The fields of /proc/<pid>/task/<tid>/stat after the thread's name in parentheses (which may hold spaces): [0] is field 3, the state. */
function threadStat(pid: number, tid: string): string[] {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Polls /proc until every thread of `pid` is in the stopped state (Linux). */
async function waitAllThreadsStopped(pid: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    const states = readdirSync(`/proc/${pid}/task`).map((tid) => threadStat(pid, tid)[0]);
    if (states.every((st) => st === 'T' || st === 't')) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`FCEUX ${pid} did not stop within 3 s`);
}

/** Runs `body` with a started emulator; always closes it and checks that its FCEUX is gone. */
async function withFceux<T>(
  body: (emu: FceuxEmulator, first: EmulatorFrame) => Promise<T>,
  options: FceuxEmulatorOptions = {},
  screen = false,
): Promise<T> {
  const emu = new FceuxEmulator({ stepTimeoutMs: 5000, connectTimeoutMs: 15000, ...options });
  let pid: number | undefined;
  try {
    const { first } = await emu.start(ROM, { screen });
    pid = emu.pid;
    assert.ok(pid, 'launch mode has a process id');
    return await body(emu, first);
  } finally {
    await emu.close();
    if (pid !== undefined) assert.equal(processAlive(pid), false, `FCEUX ${pid} still running after close()`);
  }
}

/** The demo game's paddle rule, as documented in demo.s (right first, then left, clamped). */
function movePaddle(x: number, pad: number): number {
  if (pad & BUTTON.RIGHT && x < PADDLE_MAX_X) x += PADDLE_SPEED;
  if (pad & BUTTON.LEFT && x >= PADDLE_SPEED) x -= PADDLE_SPEED;
  return x;
}

/** Deterministic scripted inputs: held segments of random length, both controllers. */
function scriptedInputs(count: number, seed: number): ButtonPair[] {
  const choices = [0, BUTTON.RIGHT, BUTTON.LEFT, BUTTON.RIGHT | BUTTON.A, BUTTON.LEFT | BUTTON.B, BUTTON.RIGHT | BUTTON.LEFT];
  let s = seed >>> 0;
  const rand = (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  const out: ButtonPair[] = [];
  while (out.length < count) {
    const pair: ButtonPair = [choices[rand(choices.length)], choices[rand(choices.length)]];
    for (let len = 1 + rand(40); len > 0 && out.length < count; len--) out.push(pair);
  }
  return out;
}

describe('FceuxEmulator (real FCEUX, headless)', () => {
  test('600 lockstep frames: consecutive frame ids, and RAM follows the inputs', async () => {
    await withFceux(async (emu, first) => {
      assert.equal(first.frame, 0, 'the first state is frame 0 (before any frame ran)');
      assert.equal(first.ram.length, 0x800);
      const inputs = scriptedInputs(600, 7);
      let prev = first;
      let checkedMoves = 0;
      let sawRight = false;
      for (const buttons of inputs) {
        const next = await emu.step(buttons);
        assert.equal(next.frame, prev.frame + 1, 'frame ids are consecutive');
        assert.ok(next.timestamp >= prev.timestamp, 'timestamps from FCEUX do not go backwards');
        if (!next.lag) {
          // The game read the controllers during the frame those buttons were held for.
          assert.equal(next.ram[PAD1], buttons[0], `pad1 at frame ${next.frame}`);
          assert.equal(next.ram[PAD2], buttons[1], `pad2 at frame ${next.frame}`);
          const frameCounter = next.ram[FRAME_LO] | (next.ram[FRAME_HI] << 8);
          const prevCounter = prev.ram[FRAME_LO] | (prev.ram[FRAME_HI] << 8);
          if (!prev.lag && prev.ram[P1_X] !== 0 && next.ram[DONE] === 0) {
            assert.equal(frameCounter, prevCounter + 1, 'one game tick per frame');
            assert.equal(next.ram[P1_X], movePaddle(prev.ram[P1_X], buttons[0]), `p1_x at frame ${next.frame}`);
            assert.equal(next.ram[P2_X], movePaddle(prev.ram[P2_X], buttons[1]), `p2_x at frame ${next.frame}`);
            checkedMoves++;
            if (buttons[0] === BUTTON.RIGHT && next.ram[P1_X] > prev.ram[P1_X]) sawRight = true;
          }
        }
        prev = next;
      }
      assert.equal(prev.frame, 600);
      assert.ok(checkedMoves > 550, `paddle moves checked on most frames (${checkedMoves})`);
      assert.ok(sawRight, 'holding RIGHT moved p1 right');
    });
  });

  test("a step's arrival sees its frame before the step settles; a step sent from it goes out at once, unless a call waits its turn", async () => {
    await withFceux(async (emu) => {
      // Past the game's boot, so it reads the controllers every frame.
      let first = await emu.step([0, 0]);
      for (let i = 0; i < 30; i++) first = await emu.step([0, 0]);
      const order: string[] = [];
      let chained: Promise<EmulatorFrame> | undefined;
      const stepped = emu.step([BUTTON.RIGHT, 0], {
        arrived: (frame, next) => {
          order.push(`arrived ${frame.frame}`);
          chained = next([BUTTON.RIGHT, BUTTON.LEFT]);
        },
      });
      const f1 = await stepped;
      order.push(`settled ${f1.frame}`);
      assert.deepEqual(order, [`arrived ${first.frame + 1}`, `settled ${first.frame + 1}`]);
      assert.ok(chained, 'nothing else was in flight: the step went out from the arrival');
      const f2 = await chained;
      assert.equal(f2.frame, first.frame + 2);
      assert.equal(f2.lag, false);
      assert.equal(f2.ram[PAD1], BUTTON.RIGHT);
      assert.equal(f2.ram[PAD2], BUTTON.LEFT);
      // A call made while the step is out waits its turn: a step from the arrival would overtake it, so none is sent.
      let declined: Promise<EmulatorFrame> | undefined | 'not called';
      declined = 'not called';
      const third = emu.step([0, 0], { arrived: (_f, next) => { declined = next([0, 0]); } });
      const current = emu.current();
      assert.equal((await third).frame, first.frame + 3);
      assert.equal(declined, undefined);
      assert.equal((await current).frame, first.frame + 3, 'the queued call ran after the step, and no step went between');
      assert.equal((await emu.step([0, 0])).frame, first.frame + 4);
    });
  });

  test('a run through the runtime sends most steps from their frame\'s arrival and records the rows of a run that never does', async () => {
    const ramMap = parseRamMap(readFileSync(ROM.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');
    /** 300 eager frames of a seeded random agent; `arrivals` false hides StepOptions.arrived from FceuxEmulator. */
    async function run(arrivals: boolean): Promise<{ rows: string[]; sentFromArrival: number }> {
      const emulator = new FceuxEmulator({ stepTimeoutMs: 5000, connectTimeoutMs: 15000 });
      let sentFromArrival = 0;
      const countSent = (next: StepNow): StepNow => (b, o) => {
        const p = next(b, o && countedOptions(o));
        if (p) sentFromArrival++;
        return p;
      };
      const countedOptions = (o: StepOptions): StepOptions => {
        const arrived = o.arrived;
        if (!arrivals) return { screen: o.screen };
        return arrived ? { ...o, arrived: (frame, next) => arrived(frame, countSent(next)) } : o;
      };
      const port = new Proxy(emulator, {
        get(target, key) {
          if (key === 'step') return (b: [number, number], o: StepOptions = {}) => target.step(b, countedOptions(o));
          const v = Reflect.get(target, key, target) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }) as EmulatorPort;
      const rows: FrameRow[] = [];
      const rt = new LockstepRuntime(
        { emulator: port, agents: [new RandomAgent({ seed: 5 })], ramMap, sync: defaultSyncConfig() },
        { romPath: ROM, recorder: { addRow: (r) => rows.push(r), endEpisode: () => undefined, truncate: () => undefined } },
      );
      try {
        await rt.start();
        for (let i = 0; i < 300; i++) await rt.advance({ eager: i < 299 });
      } finally {
        await rt.close();
      }
      return { rows: rows.map((r) => JSON.stringify([r.step, r.frame, r.buttons, r.rewards, r.terminated, r.ramFingerprint])), sentFromArrival };
    }
    const plain = await run(false);
    const arriving = await run(true);
    assert.equal(plain.rows.length, 300);
    assert.deepEqual(arriving.rows, plain.rows);
    assert.equal(plain.sentFromArrival, 0);
    // FCEUX takes longer to run a frame than the runtime to record one: the next advance is nearly always waiting.
    assert.ok(arriving.sentFromArrival > 100, `steps sent from an arrival: ${arriving.sentFromArrival} of 299`);
  });

  test('holding RIGHT on controller 1 only moves p1 to the right edge; p2 stays', async () => {
    await withFceux(async (emu, first) => {
      let f = first;
      for (let i = 0; i < 10; i++) f = await emu.step([0, 0]);
      const p1Start = f.ram[P1_X];
      const p2Start = f.ram[P2_X];
      assert.equal(p1Start, 64, 'p1 starts at x=64 (demo.s P1_START_X)');
      for (let i = 0; i < 30; i++) f = await emu.step([BUTTON.RIGHT, 0]);
      assert.equal(f.ram[P1_X], p1Start + 30 * PADDLE_SPEED);
      assert.equal(f.ram[P2_X], p2Start);
      for (let i = 0; i < 60; i++) f = await emu.step([BUTTON.RIGHT, BUTTON.LEFT]);
      assert.equal(f.ram[P1_X], PADDLE_MAX_X, 'p1 stops at the right edge');
      assert.equal(f.ram[P2_X], p2Start - 60 * PADDLE_SPEED, 'controller 2 moves p2 left');
    });
  });

  test('a state with a screen carries 256x240 RGBA pixels that change as the paddle moves', async () => {
    await withFceux(async (emu, first) => {
      assert.ok(first.screen, 'start({screen: true}) gives a screen with the first state');
      assert.equal(first.screen.length, 256 * 240 * 4);
      for (let i = 0; i < 10; i++) await emu.step([0, 0]);
      const before = await emu.step([0, 0], { screen: true });
      assert.ok(before.screen);
      assert.equal(before.screen.length, 256 * 240 * 4);
      for (let i = 3; i < before.screen.length; i += 4) assert.equal(before.screen[i], 255, 'opaque pixels');
      const colours = new Set<number>();
      for (let i = 0; i < before.screen.length; i += 4) colours.add((before.screen[i] << 16) | (before.screen[i + 1] << 8) | before.screen[i + 2]);
      assert.ok(colours.size >= 3, `the game draws several colours (${colours.size})`);
      const noScreen = await emu.step([0, 0]);
      assert.equal(noScreen.screen, undefined, 'no screen unless asked');
      for (let i = 0; i < 20; i++) await emu.step([BUTTON.RIGHT, 0]);
      const after = await emu.step([0, 0], { screen: true });
      assert.ok(after.screen);
      // The paddle row (y 200..207) differs once p1 moved 40 pixels.
      const row = (s: Uint8Array) => s.subarray(202 * 256 * 4, 203 * 256 * 4);
      assert.notDeepEqual(row(after.screen), row(before.screen));
    }, {}, true);
  });

  test('snapshots restore frame id and RAM; dropped snapshots are gone; writeRam changes what the game sees', async () => {
    await withFceux(async (emu, first) => {
      let f = first;
      for (let i = 0; i < 20; i++) f = await emu.step([0, 0]);
      const snap = await emu.saveSnapshot();
      assert.equal(snap.frame, 20);
      const saved = f;
      for (let i = 0; i < 25; i++) f = await emu.step([BUTTON.RIGHT, BUTTON.LEFT]);
      assert.equal(f.frame, 45);
      assert.notEqual(f.ram[P1_X], saved.ram[P1_X]);
      const restored = await emu.loadSnapshot(snap);
      assert.equal(restored.frame, 20);
      assert.deepEqual(restored.ram, saved.ram, 'all 2 KB of RAM restored');
      // Replaying the same inputs from the snapshot gives the same machine.
      const replay = await emu.step([BUTTON.RIGHT, BUTTON.LEFT]);
      assert.equal(replay.frame, 21);
      assert.equal(replay.ram[P1_X], saved.ram[P1_X] + PADDLE_SPEED);

      await emu.writeRam(P1_X, new Uint8Array([100]));
      const seen = await emu.current();
      assert.equal(seen.frame, 21, 'writeRam does not advance');
      assert.equal(seen.ram[P1_X], 100);
      const moved = await emu.step([BUTTON.RIGHT, 0]);
      assert.equal(moved.ram[P1_X], 102, 'the game moves the paddle on from the written value');

      emu.dropSnapshot(snap);
      await assert.rejects(emu.loadSnapshot(snap), /no snapshot/);
      const still = await emu.step([0, 0]);
      assert.equal(still.frame, 23, 'a failed load leaves the run where it was');
    });
  });

  test('loading a snapshot brings back its picture, and replays draw the same pictures', async () => {
    await withFceux(async (emu) => {
      for (let i = 0; i < 20; i++) await emu.step([0, 0]);
      const atSave = await emu.current({ screen: true });
      const snap = await emu.saveSnapshot();
      const original: Uint8Array[] = [];
      for (let i = 0; i < 30; i++) original.push((await emu.step([BUTTON.RIGHT, 0], { screen: true })).screen!);
      const loaded = await emu.loadSnapshot(snap, { screen: true });
      assert.equal(loaded.frame, 20);
      assert.ok(loaded.screen);
      assert.deepEqual(loaded.screen, atSave.screen, 'the picture of the snapshot frame');
      assert.notDeepEqual(loaded.screen, original[29], 'not the picture from before the load');
      const again = await emu.current({ screen: true });
      assert.deepEqual(again.screen, loaded.screen, 'the restored picture stays until a frame runs');
      for (let i = 0; i < 30; i++) {
        const f = await emu.step([BUTTON.RIGHT, 0], { screen: true });
        assert.deepEqual(f.screen, original[i], `replayed picture of frame ${f.frame}`);
      }
    });
  });

  test('a snapshot saved without its picture loads without a screen, never with the picture FCEUX shows from before the load', async () => {
    await withFceux(async (emu) => {
      const inputs = scriptedInputs(80, 11);
      for (let i = 0; i < 20; i++) await emu.step(inputs[i]);
      const snap = await emu.saveSnapshot({ screen: false });
      const later: Uint8Array[] = [];
      for (let i = 20; i < 80; i++) later.push((await emu.step(inputs[i], { screen: true })).screen!.slice());
      const loaded = await emu.loadSnapshot(snap, { screen: true });
      assert.equal(loaded.frame, 20);
      assert.equal(hasScreen(loaded), false, 'no picture was kept: none is sent (FCEUX still shows frame 80)');
      assert.equal(hasScreen(await emu.current({ screen: true })), false, 'nor when asked again before a frame runs');
      // The next frame run draws its own picture, the one seen live.
      assert.deepEqual((await emu.step(inputs[20], { screen: true })).screen, later[0]);
      // A snapshot saved with its picture (the default) still brings it back.
      const withPicture = await emu.saveSnapshot();
      for (let i = 21; i < 40; i++) await emu.step(inputs[i]);
      assert.deepEqual((await emu.loadSnapshot(withPicture, { screen: true })).screen, later[0]);
      // Saving again while the picture is unknown keeps none (it cannot be taken from FCEUX until a frame runs).
      await emu.loadSnapshot(snap);
      const resaved = await emu.saveSnapshot();
      await emu.step(inputs[20]);
      assert.equal(hasScreen(await emu.loadSnapshot(resaved, { screen: true })), false);
    });
  });

  test('replaySnapshot runs recorded frames inside lockstep.lua: each state as stepping gave it, RAM writes where recorded, the last picture', async () => {
    await withFceux(async (emu) => {
      const inputs = scriptedInputs(60, 5);
      for (let i = 0; i < 10; i++) await emu.step(inputs[i]);
      const snap = await emu.saveSnapshot({ screen: false });
      const write = { at: 7, address: P1_X, bytes: Uint8Array.of(100) };
      const live: EmulatorFrame[] = [await emu.current()];
      for (let i = 0; i < 40; i++) {
        let f = await emu.step(inputs[10 + i], { screen: i === 39 });
        if (i + 1 === write.at) {
          await emu.writeRam(write.address, write.bytes);
          f = await emu.current();
        }
        live.push(f);
      }
      const buttons = new Uint8Array(inputs.slice(10, 50).flat());
      const states = await emu.replaySnapshot(snap, buttons, [write], { screen: true });
      assert.equal(states.length, 41);
      states.forEach((s, i) => {
        assert.equal(s.frame, 10 + i);
        assert.deepEqual(s.ram, live[i].ram, `RAM of state ${i} (frame ${s.frame})`);
        assert.equal(hasScreen(s), i === 40, `only the last state carries a screen (state ${i})`);
      });
      assert.equal(states[write.at].ram[P1_X], 100, 'the write landed on its state');
      assert.deepEqual(states[40].screen, live[40].screen, 'the last picture, drawn by the replayed frame');
      // The emulator holds the last state: the run goes on from there.
      assert.equal((await emu.step([0, 0])).frame, 51);
      // No frames: the snapshot's own state, without a picture (none was kept).
      const [only] = await emu.replaySnapshot(snap, new Uint8Array(0), [], { screen: true });
      assert.equal(only.frame, 10);
      assert.deepEqual(only.ram, live[0].ram);
      assert.equal(hasScreen(only), false);
      emu.dropSnapshot(snap);
      await assert.rejects(emu.replaySnapshot(snap, buttons, []), /^Error: FCEUX cannot replay from snapshot \d+: no savestate in slot \d+$/);
      assert.equal((await emu.current()).frame, 10, 'a refused replay leaves the run where it was');
    });
  });

  test('reset power-cycles: frame 0 and the game starts over', async () => {
    await withFceux(async (emu, first) => {
      let f = first;
      for (let i = 0; i < 40; i++) f = await emu.step([BUTTON.RIGHT, 0]);
      assert.ok(f.ram[P1_X] > 64);
      const r = await emu.reset();
      assert.equal(r.frame, 0);
      for (let i = 0; i < 10; i++) f = await emu.step([0, 0]);
      assert.equal(f.frame, 10);
      assert.equal(f.ram[P1_X], 64, 'paddle back at its start');
    });
  });

  test('start fails clearly for a missing ROM, a bad fceuxPath, and a script that makes FCEUX exit', async () => {
    const missing = new FceuxEmulator();
    await assert.rejects(missing.start('/nonexistent/game.nes'), /ROM not found: \/nonexistent\/game\.nes/);
    await missing.close();

    const badPath = new FceuxEmulator({ fceuxPath: '/nonexistent/fceux' });
    await assert.rejects(badPath.start(ROM), /fceuxPath "\/nonexistent\/fceux" is not an executable file/);
    await badPath.close();

    const dir = mkdtempSync(join(tmpdir(), 'lockstep-fceux-test-'));
    try {
      const lua = join(dir, 'dies.lua');
      writeFileSync(lua, 'io.stderr:write("dies.lua: giving up on purpose\\n") io.stderr:flush() os.exit(9)\n');
      const dies = new FceuxEmulator({ luaPath: lua, connectTimeoutMs: 15000 });
      const events: string[] = [];
      dies.onEvent((e) => {
        if (e.type === 'exit') events.push(`exit ${e.code}`);
      });
      await assert.rejects(dies.start(ROM), (err: Error) => {
        assert.match(err.message, /FCEUX exited \(code 9\)/);
        assert.match(err.message, /giving up on purpose/);
        return true;
      });
      assert.deepEqual(events, ['exit 9']);
      await dies.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a stalled FCEUX makes step time out; the run goes on once it resumes', async () => {
    await withFceux(async (emu) => {
      for (let i = 0; i < 5; i++) await emu.step([0, 0]);
      const pid = emu.pid!;
      process.kill(pid, 'SIGSTOP');
      // kill() returns before every thread has stopped; on a busy machine FCEUX could still run the next frame.
      await waitAllThreadsStopped(pid);
      try {
        await assert.rejects(emu.step([0, 0]), /FCEUX did not answer the action for frame 5 within 400 ms/);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // The action sent before the stall was applied once FCEUX resumed; stepping continues from there.
      const next = await emu.step([0, 0]);
      assert.equal(next.frame, 7);
    }, { stepTimeoutMs: 400 });
  });

  test('ramRanges: only those bytes travel, placed at their addresses; bad ranges are refused up front', async () => {
    assert.throws(() => new FceuxEmulator({ ramRanges: [[0x7f0, 0x20]] }), /ramRanges\[0\] must be \[start, length\] inside \$0000-\$07FF, got \[2032,32\]/);
    await withFceux(async (emu) => {
      let f = await emu.step([0, 0]);
      for (let i = 0; i < 30; i++) f = await emu.step([BUTTON.RIGHT, BUTTON.LEFT]);
      assert.equal(f.ram.length, 0x800);
      assert.ok(f.ram[P1_X] > 64 && f.ram[P2_X] < 168, 'paddles moved');
      assert.equal(f.ram[PAD1], BUTTON.RIGHT);
      assert.equal(f.ram[PAD2], BUTTON.LEFT);
      assert.equal(f.ram[FRAME_LO], 0, 'bytes outside the ranges are not sent (the game counter is not 0)');
    }, { ramRanges: [[P1_X, 2], [PAD1, 2]] });
  });

  test('close() is idempotent, unhooks itself from process exit, and later calls fail clearly', async () => {
    const hooksBefore = process.listenerCount('exit');
    const emu = new FceuxEmulator();
    await emu.start(ROM);
    const pid = emu.pid!;
    assert.equal(process.listenerCount('exit'), hooksBefore + 1, 'one exit hook per running FCEUX');
    await Promise.all([emu.close(), emu.close()]);
    await emu.close();
    assert.equal(processAlive(pid), false);
    assert.equal(process.listenerCount('exit'), hooksBefore, 'the exit hook is removed on close');
    await assert.rejects(emu.step([0, 0]), /closed/);
  });

  test("FCEUX's GUI thread runs as SCHED_IDLE and its emulator thread as SCHED_OTHER, as the run's fceux.cfg asks", async () => {
    // The scheduling policy is field 41 of /proc/<pid>/task/<tid>/stat (0 SCHED_OTHER, 5 SCHED_IDLE). FCEUX's Qt build
    // names the thread that runs the frames "emulatorThread"; its GUI runs on the main thread (tid = pid).
    const policyOf = (pid: number, tid: string) => Number(threadStat(pid, tid)[41 - 3]);
    await withFceux(async (emu) => {
      const pid = emu.pid!;
      const threads = readdirSync(`/proc/${pid}/task`).map((tid) => ({ tid, name: readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() }));
      const emulator = threads.find((t) => t.name.startsWith('emulatorThread'));
      assert.ok(emulator, `an emulator thread among ${threads.map((t) => t.name).join(', ')}`);
      assert.equal(policyOf(pid, String(pid)), 5, 'the GUI (main) thread is SCHED_IDLE');
      assert.equal(policyOf(pid, emulator.tid), 0, 'the emulator thread is SCHED_OTHER');
      // And lockstep runs as before with the GUI thread lowered.
      let prev = (await emu.step([0, 0])).frame;
      for (let i = 0; i < 60; i++) {
        const next = await emu.step([i & 0xff, 0]);
        assert.equal(next.frame, prev + 1);
        prev = next.frame;
      }
    });
  });

  test('a Node process that exits without close() takes its FCEUX with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-fceux-test-'));
    try {
      const script = join(dir, 'leaver.ts');
      const emulatorModule = join(__dirname, '..', '..', 'src', 'emulators', 'fceux', 'fceuxEmulator');
      writeFileSync(script, [
        `const { FceuxEmulator } = require(${JSON.stringify(emulatorModule)});`,
        'const emu = new FceuxEmulator();',
        `emu.start(${JSON.stringify(ROM)}).then(() => { console.log('PID ' + emu.pid); process.exit(0); },`,
        '  (e) => { console.error(e); process.exit(1); });',
      ].join('\n'));
      const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30000 });
      assert.equal(child.status, 0, child.stderr);
      const pid = Number(/PID (\d+)/.exec(child.stdout)?.[1]);
      assert.ok(pid > 0, `child printed the FCEUX pid: ${child.stdout}`);
      const deadline = Date.now() + 2000;
      while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(processAlive(pid), false, 'FCEUX was killed by the exit hook');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
