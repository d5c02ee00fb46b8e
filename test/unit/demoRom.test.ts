// The Lockstep Catch demo ROM: reproducible build, a well-formed RAM map, and the game's behaviour run through jsnes.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NES as NesType } from 'jsnes';
import { BUTTON } from '../../src/core/buttons';

const DEMO_DIR = join(__dirname, '../../roms/demo');
const ROM_PATH = join(DEMO_DIR, 'demo.nes');
const RAM_MAP_PATH = join(DEMO_DIR, 'demo.rammap.json');
const WORK_RAM_BYTES = 0x800;

/** Documented in roms/demo/README.md: after k >= STARTUP_CALLS frame() calls from loadROM, frame = k - STARTUP_CALLS. */
const STARTUP_CALLS = 4;
/** Documented episode length in game ticks (30 s x 60 frames). */
const EPISODE_TICKS = 1800;
const SPAWN_Y = 32;
const PADDLE_W = 24;
const ITEM_W = 8;

interface RamMapJson {
  name: string;
  variables: { name: string; address: string; size: number; meaning: string }[];
  reward: { player: number; variable: string; scale: number }[];
  done: { variable: string; equals: number };
}

type JsnesModule = typeof import('jsnes');
type Player = 1 | 2;
type Key = 'A' | 'B' | 'SELECT' | 'START' | 'UP' | 'DOWN' | 'LEFT' | 'RIGHT';

const ramMap = JSON.parse(readFileSync(RAM_MAP_PATH, 'utf8')) as RamMapJson;

/** Address of a RAM-map variable, so the tests exercise the published map rather than a private copy of it. */
function addressOf(name: string): number {
  const v = ramMap.variables.find((x) => x.name === name);
  if (!v) throw new Error(`demo.rammap.json has no variable "${name}"`);
  return parseInt(v.address, 16);
}

/** One jsnes console running the demo, with RAM reads by variable name. */
class DemoConsole {
  readonly nes: NesType;
  calls = 0;
  screen: Uint32Array = new Uint32Array(0);

  constructor(private readonly jsnes: JsnesModule, rom: Buffer) {
    this.nes = new jsnes.NES({ emulateSound: false, onFrame: (fb) => { this.screen = fb.slice(); } });
    this.nes.loadROM(rom.toString('binary'));
  }

  /** Work RAM; `cpu` is missing from jsnes's typings. Looked up each time because loadROM replaces the CPU. */
  get ram(): Uint8Array {
    return (this.nes as unknown as { cpu: { mem: Uint8Array } }).cpu.mem.subarray(0, WORK_RAM_BYTES);
  }

  get(name: string): number {
    const v = ramMap.variables.find((x) => x.name === name);
    if (!v) throw new Error(`demo.rammap.json has no variable "${name}"`);
    const at = parseInt(v.address, 16);
    return v.size === 2 ? this.ram[at] | (this.ram[at + 1] << 8) : this.ram[at];
  }

  frame(): void {
    this.nes.frame();
    this.calls++;
  }

  /** Sets exactly these buttons on one controller for the next frame() calls. */
  hold(player: Player, keys: readonly Key[]): void {
    for (const k of ['A', 'B', 'SELECT', 'START', 'UP', 'DOWN', 'LEFT', 'RIGHT'] as const) {
      const id = this.jsnes.Controller[`BUTTON_${k}`];
      if (keys.includes(k)) this.nes.buttonDown(player, id);
      else this.nes.buttonUp(player, id);
    }
  }

  /** Runs the power-on start-up so the next frame() is game tick 1. */
  boot(): void {
    while (this.calls < STARTUP_CALLS) this.frame();
  }
}

/** Whether an item at itemX lands on a paddle at paddleX (the ROM's catch rule, from the documented sizes). */
function overlaps(itemX: number, paddleX: number): boolean {
  return itemX + ITEM_W > paddleX && itemX < paddleX + PADDLE_W;
}

/** Buttons that move a paddle toward centring it under the item. */
function steerUnder(itemX: number, paddleX: number): Key[] {
  const target = itemX + ITEM_W / 2 - PADDLE_W / 2;
  if (paddleX < target - 1) return ['RIGHT'];
  if (paddleX > target + 1) return ['LEFT'];
  return [];
}

describe('demo ROM build', () => {
  test('build.sh reproduces demo.nes byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-demo-'));
    try {
      const out = join(dir, 'demo.nes');
      const r = spawnSync('bash', [join(DEMO_DIR, 'build.sh'), out], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `build.sh failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
      const rebuilt = readFileSync(out);
      const committed = readFileSync(ROM_PATH);
      assert.equal(rebuilt.length, 16 + 16384 + 8192, 'iNES header + 16 KB PRG + 8 KB CHR');
      assert.ok(rebuilt.equals(committed), 'roms/demo/demo.nes is stale: run bash roms/demo/build.sh');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the header says NROM-128 with 8 KB CHR', () => {
    const rom = readFileSync(ROM_PATH);
    assert.equal(rom.subarray(0, 4).toString('binary'), 'NES\x1a');
    assert.equal(rom[4], 1, 'PRG banks of 16 KB');
    assert.equal(rom[5], 1, 'CHR banks of 8 KB');
    assert.equal((rom[6] >> 4) | (rom[7] & 0xf0), 0, 'mapper');
  });
});

describe('demo RAM map', () => {
  test('variables have unique names, hex work-RAM addresses, sizes 1 or 2, and do not overlap', () => {
    assert.equal(typeof ramMap.name, 'string');
    assert.ok(ramMap.name.length > 0);
    assert.ok(ramMap.variables.length > 0);
    const names = new Set<string>();
    const owner = new Map<number, string>();
    for (const v of ramMap.variables) {
      assert.match(v.name, /^[A-Za-z_][A-Za-z0-9_]*$/, `name ${JSON.stringify(v.name)}`);
      assert.ok(!names.has(v.name), `duplicate name ${v.name}`);
      names.add(v.name);
      assert.match(v.address, /^0x[0-9A-Fa-f]{4}$/, `${v.name}.address`);
      assert.ok(v.size === 1 || v.size === 2, `${v.name}.size is ${v.size}`);
      assert.equal(typeof v.meaning, 'string');
      assert.ok(v.meaning.length > 0, `${v.name}.meaning is empty`);
      const at = parseInt(v.address, 16);
      assert.ok(at + v.size <= WORK_RAM_BYTES, `${v.name} at ${v.address} is outside $0000-$07FF`);
      for (let b = at; b < at + v.size; b++) {
        assert.ok(!owner.has(b), `${v.name} overlaps ${owner.get(b)} at byte ${b}`);
        owner.set(b, v.name);
      }
    }
  });

  test('reward and done refer to existing variables', () => {
    const names = new Set(ramMap.variables.map((v) => v.name));
    assert.deepEqual(ramMap.reward.map((r) => r.player).sort(), [0, 1]);
    for (const r of ramMap.reward) {
      assert.ok(names.has(r.variable), `reward variable ${r.variable}`);
      assert.equal(typeof r.scale, 'number');
    }
    assert.ok(names.has(ramMap.done.variable), `done variable ${ramMap.done.variable}`);
    assert.equal(ramMap.done.equals, 1);
  });

  test('lists every game variable the brief requires', () => {
    const names = new Set(ramMap.variables.map((v) => v.name));
    for (const n of ['frame', 'episode', 'done', 'timer', 'timer_sub', 'score_p1', 'score_p2', 'p1_x', 'p2_x',
      'item_x', 'item_y', 'pad1', 'pad2', 'rng']) {
      assert.ok(names.has(n), `missing ${n}`);
    }
    assert.equal(ramMap.variables.find((v) => v.name === 'frame')?.size, 2);
  });
});

describe('demo ROM in jsnes', () => {
  let jsnes: JsnesModule;
  let rom: Buffer;
  const fresh = () => new DemoConsole(jsnes, rom);

  before(async () => {
    jsnes = await import('jsnes');
    rom = readFileSync(ROM_PATH);
  });

  test('the frame counter is frame() calls minus the start-up, then +1 per frame()', () => {
    const c = fresh();
    // Before start-up ends the counter has not started (RAM is being cleared, the PPU warming up).
    while (c.calls < STARTUP_CALLS) {
      c.frame();
      assert.ok(c.get('frame') === 0 || c.get('frame') === 0xffff, `frame ${c.get('frame')} during start-up call ${c.calls}`);
    }
    assert.equal(c.get('frame'), 0);
    assert.equal(c.get('timer'), 30, 'game state initialised by the end of start-up');
    for (let i = 0; i < 300; i++) {
      c.frame();
      assert.equal(c.get('frame'), c.calls - STARTUP_CALLS);
    }
  });

  test('RIGHT on controller 1 raises p1_x, LEFT on controller 2 lowers p2_x, both clamp at the edges', () => {
    const c = fresh();
    c.boot();
    const p1 = c.get('p1_x');
    const p2 = c.get('p2_x');
    c.hold(1, ['RIGHT']);
    c.hold(2, ['LEFT']);
    for (let i = 1; i <= 10; i++) {
      c.frame();
      assert.equal(c.get('p1_x'), p1 + 2 * i);
      assert.equal(c.get('p2_x'), p2 - 2 * i);
    }
    assert.equal(c.get('pad1'), BUTTON.RIGHT, 'pad1 holds controller 1 in buttons.ts bit order');
    assert.equal(c.get('pad2'), BUTTON.LEFT, 'pad2 holds controller 2 in buttons.ts bit order');
    for (let i = 0; i < 150; i++) c.frame();
    assert.equal(c.get('p1_x'), 256 - PADDLE_W);
    assert.equal(c.get('p2_x'), 0);

    c.hold(1, ['A', 'START', 'LEFT']);
    c.hold(2, ['B', 'SELECT', 'UP', 'DOWN']);
    c.frame();
    assert.equal(c.get('pad1'), BUTTON.A | BUTTON.START | BUTTON.LEFT);
    assert.equal(c.get('pad2'), BUTTON.B | BUTTON.SELECT | BUTTON.UP | BUTTON.DOWN);
    assert.equal(c.get('p1_x'), 256 - PADDLE_W - 2, 'LEFT on controller 1 lowers p1_x');
    assert.equal(c.get('p2_x'), 0, 'UP/DOWN do not move a paddle');
    assert.equal(c.get('episode'), 0, 'START during play does not restart');
  });

  test('the timer runs out after the documented number of frames, play freezes, START on controller 1 restarts', () => {
    const c = fresh();
    c.boot();
    const startP1 = c.get('p1_x');
    const startP2 = c.get('p2_x');
    assert.equal(c.get('timer'), 30);
    assert.equal(c.get('timer_sub'), 60);
    const shown: number[] = [];
    for (let tick = 1; tick < EPISODE_TICKS; tick++) {
      // Both players chase the item so the scores are non-zero and their reset is visible.
      c.hold(1, steerUnder(c.get('item_x'), c.get('p1_x')));
      c.hold(2, steerUnder(c.get('item_x'), c.get('p2_x')));
      c.frame();
      assert.equal(c.get('done'), 0, `done early at tick ${tick}`);
      if (tick % 60 === 0) shown.push(c.get('timer'));
    }
    assert.deepEqual(shown, Array.from({ length: 29 }, (_, i) => 29 - i));
    c.frame();
    assert.equal(c.get('done'), 1);
    assert.equal(c.get('timer'), 0);
    assert.equal(c.get('frame'), EPISODE_TICKS);
    assert.equal(c.calls, STARTUP_CALLS + EPISODE_TICKS);
    assert.ok(c.get('score_p1') > 0 && c.get('score_p2') > 0, 'both steering paddles should have scored');

    const frozenVars = ['p1_x', 'p2_x', 'item_x', 'item_y', 'score_p1', 'score_p2', 'timer', 'timer_sub', 'rng'];
    const frozen = frozenVars.map((n) => c.get(n));
    c.hold(1, ['RIGHT']);
    c.hold(2, ['LEFT', 'START']);
    for (let i = 0; i < 30; i++) c.frame();
    assert.deepEqual(frozenVars.map((n) => c.get(n)), frozen);
    assert.equal(c.get('done'), 1, 'START on controller 2 does not restart');
    assert.equal(c.get('episode'), 0);
    assert.equal(c.get('frame'), EPISODE_TICKS + 30, 'the frame counter keeps counting while done');

    c.hold(1, ['START']);
    c.hold(2, []);
    c.frame();
    assert.equal(c.get('episode'), 1);
    assert.equal(c.get('done'), 0);
    assert.equal(c.get('score_p1'), 0);
    assert.equal(c.get('score_p2'), 0);
    assert.equal(c.get('timer'), 30);
    assert.equal(c.get('timer_sub'), 60);
    assert.equal(c.get('p1_x'), startP1);
    assert.equal(c.get('p2_x'), startP2);
    assert.equal(c.get('item_y'), SPAWN_Y);
    for (let i = 0; i < 60; i++) c.frame();
    assert.equal(c.get('episode'), 1, 'holding START during play does not restart again');
    assert.equal(c.get('timer'), 29, 'the new episode runs');
  });

  test('a paddle under the falling item scores; one kept away does not; item x stays on screen', () => {
    const c = fresh();
    c.boot();
    let expected1 = 0;
    let expected2 = 0;
    const landed: number[] = [];
    while (c.get('done') === 0) {
      const itemX = c.get('item_x');
      assert.ok(itemX <= 256 - 2 * ITEM_W, `item_x ${itemX}`);
      c.hold(1, steerUnder(itemX, c.get('p1_x')));
      c.hold(2, itemX >= 128 ? ['LEFT'] : ['RIGHT']);
      const itemYBefore = c.get('item_y');
      c.frame();
      if (c.get('item_y') < itemYBefore) {
        landed.push(itemX);
        if (overlaps(itemX, c.get('p1_x'))) expected1++;
        if (overlaps(itemX, c.get('p2_x'))) expected2++;
      }
      assert.equal(c.get('score_p1'), expected1, `score_p1 at frame ${c.get('frame')}`);
      assert.equal(c.get('score_p2'), expected2, `score_p2 at frame ${c.get('frame')}`);
    }
    assert.ok(landed.length >= 20, `${landed.length} items landed`);
    assert.ok(expected1 >= landed.length / 2, `the steering paddle caught only ${expected1} of ${landed.length}`);
    assert.equal(expected2, 0);
    assert.ok(new Set(landed).size >= landed.length / 2, `item x repeats too much: ${landed.join(',')}`);
  });

  test('the HUD on screen changes when the timer does', () => {
    const c = fresh();
    c.boot();
    c.frame();
    const hudRows = (fb: Uint32Array) => fb.slice(16 * 256, 24 * 256);
    const at30 = hudRows(c.screen);
    for (let tick = 2; tick < 60; tick++) c.frame();
    assert.equal(c.get('timer'), 30);
    assert.deepEqual(hudRows(c.screen), at30, 'nothing else draws in the HUD rows');
    c.frame();
    assert.equal(c.get('timer'), 29);
    c.frame(); // the NMI uploads the digits one tick after they change
    assert.notDeepEqual(hudRows(c.screen), at30);
  });

  test('two runs with the same inputs have identical RAM; different inputs diverge', () => {
    const run = (seed: number, frames: number): Uint8Array[] => {
      const c = fresh();
      let s = seed >>> 0;
      const rand = () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s >>> 24;
      };
      const keys: readonly Key[] = ['A', 'B', 'SELECT', 'START', 'UP', 'DOWN', 'LEFT', 'RIGHT'];
      const pick = (mask: number) => keys.filter((_, i) => mask & (1 << i));
      const snapshots: Uint8Array[] = [];
      for (let i = 0; i < frames; i++) {
        if (i % 7 === 0) {
          c.hold(1, pick(rand()));
          c.hold(2, pick(rand()));
        }
        c.frame();
        if (i % 50 === 0 || i === frames - 1) snapshots.push(c.ram.slice());
      }
      return snapshots;
    };
    // Long enough to cross an episode boundary: random START presses restart the game once it is done.
    const frames = STARTUP_CALLS + EPISODE_TICKS + 150;
    const a = run(1, frames);
    const b = run(1, frames);
    assert.equal(a.length, b.length);
    a.forEach((snap, i) => assert.deepEqual(snap, b[i], `RAM differs at snapshot ${i}`));
    const last = a[a.length - 1];
    assert.ok(last[addressOf('episode')] >= 1, 'the run should pass an episode boundary');
    const other = run(2, 200);
    assert.notDeepEqual(other[other.length - 1], a[other.length - 1]);
  });
});

test('RAM map addresses match the zero-page equates in demo.s', () => {
  const source = readFileSync(join(DEMO_DIR, 'demo.s'), 'utf8');
  for (const v of ramMap.variables) {
    const m = new RegExp(`^${v.name}\\s*=\\s*\\$([0-9A-Fa-f]+)`, 'm').exec(source);
    assert.ok(m, `demo.s has no equate for ${v.name}`);
    assert.equal(parseInt(m[1], 16), addressOf(v.name), `${v.name}: demo.s says $${m[1]}, the RAM map says ${v.address}`);
  }
});
