// Benchmark: real FCEUX free-running (a Lua script that only advances frames) vs FCEUX in lockstep through Lockstep, without and with screens.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { FceuxEmulator, type FceuxActionEncoding, type FceuxStateTransport } from '../src/emulators/fceux/fceuxEmulator';
import { locateFceux, lockstepLuaPath } from '../src/emulators/fceux/fceuxLocator';
import { FceuxProcess } from '../src/emulators/fceux/fceuxProcess';
import { BridgeServer, type BridgeLink } from '../src/bridge/bridgeServer';
import { u32le } from '../src/bridge/screenFrame';
import { PROTOCOL_VERSION, type EmulatorWelcomeMsg } from '../src/bridge/protocol';
import { encodeActionFrame } from '../src/bridge/actionFrame';
import { LockstepRuntime } from '../src/core/runtime/runtime';
import { defaultSyncConfig } from '../src/core/config/config';
import { parseRamMap } from '../src/core/config/ramMap';
import { RandomAgent } from '../src/agents/randomAgent';
import { demoRomPath, findPackageRoot } from '../src/core/packageRoot';
import { median, quantile, roundDifferenceCells, roundRatioCells } from './roundStats';
import { WARMUP_FRAMES } from './benchWarmup';
import { RoundTripProbe } from './roundTripProbe';
import { findThread, watchThread, type ThreadSchedule } from './threadSchedule';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** The interleaved measurement (see interleaved): cycles of turns, frames per turn, and blocks of new processes. */
const CYCLES = Number(process.env.BENCH_CYCLES ?? 40);
const STRETCH_FRAMES = Number(process.env.BENCH_STRETCH_FRAMES ?? 200);
const BLOCKS = Math.max(1, Number(process.env.BENCH_BLOCKS ?? 5));
/** BENCH_COMPARE=1 adds the older state transports (JSON + base64, binary with socket screens) for comparison. */
const COMPARE = process.env.BENCH_COMPARE === '1';
const root = findPackageRoot(__dirname);
const probe = new RoundTripProbe();
const romPath = demoRomPath(root);

/** CPU time the hypervisor gave to other guests (steal) and all CPU time, in clock ticks, from /proc/stat. */
function cpuTicks(): { steal: number; total: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/** FCEUX alone: unthrottled, advancing frames in Lua, timed with the wall clock inside FCEUX. */
async function freeRunning(): Promise<Sample> {
  return { fps: await runLua('free', [
    'local socket = require("socket")',
    'emu.speedmode("maximum")',
    'emu.frameadvance()',
    `for i = 1, ${WARMUP_FRAMES} do emu.frameadvance() end`,
    'local t0 = socket.gettime()',
    `for i = 1, ${FRAMES} do emu.frameadvance() end`,
    'local dt = socket.gettime() - t0',
    `io.stdout:write(string.format("FPS %.1f\\n", ${FRAMES} / dt)); io.stdout:flush()`,
    'emu.exit()',
  ]) };
}

/**
 * Runs `script` (written to a temp file) in headless FCEUX started as Lockstep starts it (FceuxProcess: the same
 * arguments, environment and fresh FCEUX_HOME), and resolves the FPS line it prints.
 */
async function runLua(name: string, lines: string[], onStart?: (proc: FceuxProcess) => void): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-bench-lua-'));
  const script = join(dir, `${name}.lua`);
  writeFileSync(script, lines.join('\n'));
  let fps: number | undefined;
  // The script talks to no bridge: host, port and token only fill the launch options.
  const proc = new FceuxProcess({
    fceuxPath: locateFceux(undefined), romPath, luaPath: script, host: '127.0.0.1', port: 0, token: '', headless: true,
    onLine: (_stream, line) => {
      const m = /^FPS ([\d.]+)/.exec(line);
      if (m) fps = Number(m[1]);
    },
  });
  onStart?.(proc);
  const deadline = setTimeout(() => void proc.stop(0), 120_000);
  try {
    const exit = await proc.exited;
    if (fps === undefined) throw new Error(`${name}: FCEUX printed no FPS line (${exit.description}): ${proc.lastLines(5).join(' | ')}`);
    return fps;
  } finally {
    clearTimeout(deadline);
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The floor's server: calls `each` with a reply for every u32-length-prefixed state the floor's script sends. */
function floorServer(each: (reply: () => void) => void): Server {
  return createServer((sock: Socket) => {
    sock.setNoDelay(true);
    const reply = (): void => void sock.write('{"type":"action","frame":0,"buttons":[0,0]}\n');
    let pending: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      while (pending.length >= 4) {
        const len = pending.readUInt32LE(0);
        if (pending.length < 4 + len) break;
        pending = pending.subarray(4 + len);
        each(reply);
      }
    });
    sock.on('error', () => undefined);
  });
}

/** The floor script's first lines: unthrottled, connected to the floor's server on `port` over plain TCP, and its u32. */
function floorLuaStart(port: number): string[] {
  return [
    'local socket = require("socket")',
    'emu.speedmode("maximum")',
    'emu.frameadvance()',
    `local c = assert(socket.connect("127.0.0.1", ${port}))`,
    'c:setoption("tcp-nodelay", true)',
    'c:settimeout(10)',
    'local function u32(n) return string.char(n % 256, math.floor(n / 256) % 256, math.floor(n / 65536) % 256, math.floor(n / 16777216) % 256) end',
  ];
}

/**
 * The floor of any lockstep bridge on this machine: per frame the Lua script sends the same bytes a state carries
 * (2 KB of RAM, and the gd screen when asked) over plain TCP to a server in this process, which answers one short line
 * that the script waits for before the next frame. No WebSocket, no JSON, no runtime: only FCEUX, LuaSocket, loopback.
 */
async function floor(screens: boolean): Promise<Sample> {
  let pid: number | undefined;
  let stopWindow: ((frames?: number) => Measured) | undefined;
  let measured: Measured | undefined;
  let n = 0;
  const server = floorServer((reply) => {
    // The script sends WARMUP_FRAMES + FRAMES states and times the last FRAMES: CPU is taken from the first timed
    // state to the last, FRAMES - 1 round trips.
    n++;
    if (n === WARMUP_FRAMES + 1) stopWindow = measureWindow(pid);
    else if (n === WARMUP_FRAMES + FRAMES) measured = stopWindow?.(FRAMES - 1);
    reply();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const fps = await runLua('floor', [
      ...floorLuaStart(port),
      'local t0 = socket.gettime()',
      `for i = 1, ${WARMUP_FRAMES + FRAMES} do`,
      `  if i == ${WARMUP_FRAMES + 1} then t0 = socket.gettime() end`,
      '  local body = memory.readbyterange(0, 2048)',
      `  ${screens ? 'body = body .. gui.gdscreenshot()' : ''}`,
      '  assert(c:send(u32(#body) .. body))',
      '  assert(c:receive("*l"))',
      '  emu.frameadvance()',
      'end',
      'local dt = socket.gettime() - t0',
      `io.stdout:write(string.format("FPS %.1f\\n", ${FRAMES} / dt)); io.stdout:flush()`,
      'emu.exit()',
    ], (proc) => (pid = proc.pid));
    return { fps, ...measured };
  } finally {
    server.close();
  }
}

/**
 * The floor of Lockstep's own wire: lockstep.lua and the bridge's WebSocket server, exactly as a session uses them, but
 * the server answers each binary state with the next frame's action at once, with no FceuxEmulator and no runtime. What
 * lockstep costs over this is Lockstep's code; what this costs over the plain-TCP floor is the WebSocket framing
 * (LuaSocket reading frame headers in Lua, ws parsing and writing frames in Node) and the script's own per-frame work.
 */
async function wireFloor(): Promise<Sample> {
  const bridge = new BridgeServer();
  const port = await bridge.listen();
  let proc: FceuxProcess | undefined;
  try {
    return await new Promise<Sample>((resolve, reject) => {
      let n = 0;
      let t0 = 0;
      let stopWindow: ((frames?: number) => Measured) | undefined;
      answerStates(bridge, (reply, link) => {
        if (n === WARMUP_FRAMES) {
          t0 = performance.now();
          stopWindow = measureWindow(proc?.pid);
        }
        if (n === WARMUP_FRAMES + FRAMES) {
          const fps = (FRAMES / (performance.now() - t0)) * 1000;
          resolve({ fps, ...stopWindow?.() });
          link.sendJson({ type: 'quit', code: 0, reason: 'bench done' });
          return;
        }
        n++;
        reply();
      });
      proc = new FceuxProcess({ fceuxPath: locateFceux(undefined), romPath, luaPath: lockstepLuaPath(), host: '127.0.0.1', port, token: bridge.token, headless: true });
      void proc.exited.then((exit) => reject(new Error(`wire floor: FCEUX ended before ${FRAMES} frames (${exit.description})`)));
    });
  } finally {
    await proc?.stop();
    await bridge.close();
  }
}

/**
 * The wire floors' side of the bridge: lockstep.lua is welcomed as a session welcomes it (binary states of the 2 KB
 * RAM), and `each` is called for every state with the link and a reply that sends the next frame's action as
 * FceuxEmulator sends it (binary to a script that offers binary actions, as lockstep.lua does; JSON otherwise).
 */
function answerStates(bridge: BridgeServer, each: (reply: () => void, link: BridgeLink) => void): void {
  let n = 0;
  bridge.setHandler('emulator', (link) => {
    link.onMessage((data) => {
      if (typeof data === 'string') return;
      const frame = u32le(data, 8);
      each(() => {
        n++;
        if (link.hello.binaryActions === true) link.sendBinary(encodeActionFrame(frame, n & 0xff, 0, false));
        else link.sendJson({ type: 'action', frame, buttons: [n & 0xff, 0], screen: false });
      }, link);
    });
    const welcome: EmulatorWelcomeMsg = { type: 'welcome', protocol: PROTOCOL_VERSION, session: 'bench', ram: [[0, 2048]], screen: false, binaryState: true };
    link.sendJson(welcome);
  });
}

/**
 * CPU time (user + system, all threads) per frame over a timed loop, in microseconds, of this process (what Node's side
 * of the link costs) and of FCEUX (the emulator, and what lockstep.lua or the floor's script does each frame; null where
 * /proc cannot say): less swayed by other processes on a shared machine than frames per second, and it says which side
 * a cost is on.
 */
interface CpuSample { node: number; fceux: number | null }

/**
 * What a row measures over its timed frames besides frames/s: the CPU per frame, the median time Node held a round
 * trip (a state's arrival to the action's write, µs; see RoundTripProbe), and how the kernel ran FCEUX's emulator thread
 * and Node's main thread (null where /proc cannot say).
 */
interface Measured { cpu: CpuSample; held: number | null; emulatorThread: ThreadSchedule | null; nodeThread: ThreadSchedule | null }

/** One run of a row: its frames/s and, where the row measures them, the rest over the same frames. */
interface Sample extends Partial<Measured> { fps: number }

/**
 * Starts measuring over this process and FCEUX (`fceuxPid`): CPU time, the round-trip probe and the two threads'
 * schedules; the function it returns ends them all, per frame over `frames` frames.
 */
function measureWindow(fceuxPid: number | undefined): (frames?: number) => Measured {
  const c0 = process.cpuUsage();
  const f0 = fceuxPid !== undefined ? processCpuUs(fceuxPid) : null;
  // FCEUX 2.6 (Qt) emulates in a thread it names emulatorThread; its main thread runs the (offscreen) GUI.
  const emulatorThread = watchThread(fceuxPid, fceuxPid !== undefined ? findThread(fceuxPid, 'emulatorThread') : undefined);
  const nodeThread = watchThread(process.pid, process.pid);
  probe.start();
  return (frames = FRAMES) => {
    const held = probe.stop();
    const c = process.cpuUsage(c0);
    const f1 = fceuxPid !== undefined ? processCpuUs(fceuxPid) : null;
    return {
      cpu: { node: (c.user + c.system) / frames, fceux: f0 !== null && f1 !== null ? (f1 - f0) / frames : null },
      held,
      emulatorThread: emulatorThread(frames),
      nodeThread: nodeThread(frames),
    };
  };
}

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux unless the kernel says otherwise). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The CPU time (user + system, all threads) process `pid` has used, in microseconds, from /proc; null where there is none. */
function processCpuUs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name in parentheses (which may hold spaces): utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
  } catch {
    return null;
  }
}

/**
 * FCEUX through the runtime: every frame waits for the action, 2 KB of RAM per state, optionally the screen. Driven as
 * `lockstep run` and Continue without breakpoints drive it (eager: the next frame's step goes out before this frame's
 * row, metrics and events), or `perFrame`, frame by frame as with breakpoints to check between frames.
 */
async function lockstep(screens: boolean, stateTransport: FceuxStateTransport = 'file', perFrame = false, actions: FceuxActionEncoding = 'binary'): Promise<Sample> {
  const { rt, emulator } = await demoRuntime(screens, stateTransport, actions);
  try {
    await rt.start();
    for (let i = 0; i < WARMUP_FRAMES; i++) await rt.advance({ eager: !perFrame });
    const t0 = performance.now();
    const stopWindow = measureWindow(emulator.pid);
    for (let i = 0; i < FRAMES; i++) await rt.advance({ eager: !perFrame && i < FRAMES - 1 });
    const measured = stopWindow();
    return { fps: (FRAMES / (performance.now() - t0)) * 1000, ...measured };
  } finally {
    await rt.close();
  }
}

/** The runtime as the lockstep rows drive FCEUX through it: the demo ROM, its RAM map and a random agent (seed 1). */
async function demoRuntime(screens: boolean, stateTransport: FceuxStateTransport = 'file', actions: FceuxActionEncoding = 'binary'): Promise<{ rt: LockstepRuntime; emulator: FceuxEmulator }> {
  const ramMap = parseRamMap(await readFile(romPath.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');
  const emulator = new FceuxEmulator({ stateTransport, actions });
  const rt = new LockstepRuntime(
    { emulator, agents: [new RandomAgent({ seed: 1 })], ramMap, sync: defaultSyncConfig() },
    { romPath, captureScreens: screens },
  );
  return { rt, emulator };
}

/** FceuxEmulator.step alone, without the runtime: what the link costs by itself. */
async function rawSteps(screen: boolean): Promise<Sample> {
  const emu = new FceuxEmulator({});
  try {
    await emu.start(romPath, { screen });
    for (let i = 0; i < WARMUP_FRAMES; i++) await emu.step([i & 0xff, 0], { screen });
    const t0 = performance.now();
    const stopWindow = measureWindow(emu.pid);
    for (let i = 0; i < FRAMES; i++) await emu.step([i & 0xff, 0], { screen });
    const measured = stopWindow();
    return { fps: (FRAMES / (performance.now() - t0)) * 1000, ...measured };
  } finally {
    await emu.close();
  }
}

/** One side of the interleaved measurement: an FCEUX kept running, driven `frames` frames at a time; waits in between. */
interface Stretches {
  /** Runs `frames` frames from the frame it waits at, and returns how long they took, in ms. */
  run(frames: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * The server's side of a stretch where the server answers each state itself (the floors): states are answered at once
 * until the stretch's last frame, whose answer is kept back, so FCEUX waits there until the next stretch sends it. A
 * stretch's time runs from the answer that starts it to the state its last frame sends.
 */
function heldAnswers() {
  let answer: (() => void) | undefined;
  let left = 0;
  let done: ((ms: number) => void) | undefined;
  let t0 = 0;
  let connected: (() => void) | undefined;
  return {
    /** Resolves with the first state (FCEUX connected and waits). */
    first: new Promise<void>((r) => (connected = r)),
    /** A state came in; `reply` answers it. */
    state(reply: () => void): void {
      if (left > 0 && --left > 0) {
        reply();
        return;
      }
      answer = reply;
      connected?.();
      connected = undefined;
      const end = done;
      done = undefined;
      end?.(performance.now() - t0);
    },
    /** Runs `frames` frames from the state kept back; fails with `ended` (FCEUX exited). */
    run(frames: number, ended: Promise<never>): Promise<number> {
      const result = new Promise<number>((r) => (done = r));
      left = frames;
      t0 = performance.now();
      const go = answer!;
      answer = undefined;
      go();
      return Promise.race([result, ended]);
    },
  };
}

/** Rejects when `proc` exits: a side's FCEUX must outlive the measurement. */
function endedEarly(proc: FceuxProcess, name: string): Promise<never> {
  const ended = proc.exited.then((exit): never => {
    throw new Error(`${name}: FCEUX ended (${exit.description}): ${proc.lastLines(5).join(' | ')}`);
  });
  ended.catch(() => undefined);
  return ended;
}

/** The floor (see floor) as stretches: the same Lua loop and server, the answers kept back between stretches. */
async function floorStretches(): Promise<Stretches> {
  const answers = heldAnswers();
  const server = floorServer((reply) => answers.state(reply));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-bench-lua-'));
  const script = join(dir, 'floor-stretches.lua');
  writeFileSync(script, [
    ...floorLuaStart(port),
    'while true do',
    '  local body = memory.readbyterange(0, 2048)',
    '  assert(c:send(u32(#body) .. body))',
    '  assert(c:receive("*l"))',
    '  emu.frameadvance()',
    'end',
  ].join('\n'));
  const proc = new FceuxProcess({ fceuxPath: locateFceux(undefined), romPath, luaPath: script, host: '127.0.0.1', port, token: '', headless: true });
  const ended = endedEarly(proc, 'floor stretches');
  await Promise.race([answers.first, ended]);
  return {
    run: (frames) => answers.run(frames, ended),
    async close() {
      await proc.stop();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The wire floor (see wireFloor) as stretches: the answers kept back between stretches. */
async function wireStretches(): Promise<Stretches> {
  const answers = heldAnswers();
  const bridge = new BridgeServer();
  const port = await bridge.listen();
  answerStates(bridge, (reply) => answers.state(reply));
  const proc = new FceuxProcess({ fceuxPath: locateFceux(undefined), romPath, luaPath: lockstepLuaPath(), host: '127.0.0.1', port, token: bridge.token, headless: true });
  const ended = endedEarly(proc, 'wire floor stretches');
  await Promise.race([answers.first, ended]);
  return {
    run: (frames) => answers.run(frames, ended),
    async close() {
      await proc.stop();
      await bridge.close();
    },
  };
}

/** FceuxEmulator.step alone (see rawSteps) as stretches. */
async function stepStretches(): Promise<Stretches> {
  const emu = new FceuxEmulator({});
  await emu.start(romPath, { screen: false });
  let n = 0;
  return {
    async run(frames) {
      const t0 = performance.now();
      for (let i = 0; i < frames; i++) await emu.step([++n & 0xff, 0], { screen: false });
      return performance.now() - t0;
    },
    close: () => emu.close(),
  };
}

/** Lockstep without screens (see lockstep) as stretches: a stretch's last advance is not eager, so FCEUX waits after it. */
async function lockstepStretches(): Promise<Stretches> {
  const { rt } = await demoRuntime(false);
  await rt.start();
  return {
    async run(frames) {
      const t0 = performance.now();
      for (let i = 0; i < frames; i++) await rt.advance({ eager: i < frames - 1 });
      return performance.now() - t0;
    },
    close: () => rt.close(),
  };
}

/** The sides of the interleaved measurement, in their order within a cycle. */
const INTERLEAVED_SIDES = ['floor', 'wire floor', 'FceuxEmulator.step alone', 'lockstep'] as const;

/**
 * Without screens, measured interleaved: the floor, the wire floor, FceuxEmulator.step alone and lockstep each run
 * their own FCEUX, all four side by side, and take turns every STRETCH_FRAMES frames (the ones not running wait for
 * their next action), every other cycle in reverse order. A ratio is taken within a cycle, a fraction of a second apart,
 * so the host's drift from second to second (the rounds above are seconds apart) hardly reaches it. Two FCEUX processes
 * running the same script can differ by a percent or two for as long as they run (where their memory landed), so the
 * CYCLES cycles run in BLOCKS blocks, each with four new processes; the median of all the cycles' ratios is reported.
 */
async function interleaved(): Promise<number[][]> {
  const fps: number[][] = INTERLEAVED_SIDES.map(() => []);
  for (let block = 0; block < BLOCKS; block++) {
    const sides: Stretches[] = [];
    try {
      sides.push(await floorStretches(), await wireStretches(), await stepStretches(), await lockstepStretches());
      for (const side of sides) await side.run(WARMUP_FRAMES);
      for (let k = block; k < CYCLES; k += BLOCKS) {
        const order = k % 2 === 0 ? [...sides.keys()] : [...sides.keys()].reverse();
        for (const i of order) fps[i].push((STRETCH_FRAMES / (await sides[i].run(STRETCH_FRAMES))) * 1000);
      }
    } finally {
      for (const side of sides.reverse()) await side.close();
    }
  }
  return fps;
}

/** A row of the table: its name, how one run of it is made, and what its runs measured, round by round. */
function row(name: string, job: () => Promise<Sample>) {
  return {
    name, job, runs: [] as number[], cpu: [] as number[], fceuxCpu: [] as number[], held: [] as number[],
    emulatorThread: [] as ThreadSchedule[], nodeThread: [] as ThreadSchedule[],
  };
}

async function main(): Promise<void> {
  const rows = [
    row('FCEUX free-running (Lua frameadvance only)', () => freeRunning()),
    row('FCEUX lockstep, no screens (2 KB RAM per frame; as lockstep run drives it)', () => lockstep(false)),
    row('FCEUX lockstep, screen every frame', () => lockstep(true)),
    row('FceuxEmulator.step alone, no screens', () => rawSteps(false)),
    row('FceuxEmulator.step alone, screen every frame', () => rawSteps(true)),
    row('floor: Lua + plain TCP round trip per frame, 2 KB up (no Lockstep code)', () => floor(false)),
    row('floor: the same with the gd screen every frame', () => floor(true)),
    row('FCEUX lockstep, no screens, frame by frame (as with breakpoints to check)', () => lockstep(false, 'file', true)),
    row("wire floor: lockstep.lua + the bridge's WebSocket server answering each state at once (no runtime)", () => wireFloor()),
    row('FCEUX lockstep, no screens, JSON actions (as before binary actions)', () => lockstep(false, 'file', false, 'json')),
  ];
  if (COMPARE) {
    rows.push(
      row('lockstep, no screens, JSON + base64 states', () => lockstep(false, 'json')),
      row('lockstep, screens, JSON states + socket screens', () => lockstep(true, 'json')),
      row('lockstep, screens, binary states + socket screens', () => lockstep(true, 'binary')),
    );
  }
  const loadBefore = loadavg();
  const ticksBefore = cpuTicks();
  // Rows run interleaved, round after round: a ratio is taken within each round (the same minutes of this shared
  // machine), and the median of those ratios is reported with their spread. Within a round the rows a ratio compares
  // run next to each other (the floor, lockstep, the wire floor, FceuxEmulator.step alone; the same with screens), and
  // every other round runs them in reverse order, so a machine that speeds up or slows down over a round favours
  // neither side of a ratio.
  const runOrder = [0, 5, 1, 9, 8, 3, 6, 2, 4, 7, ...rows.keys()].filter((i, at, all) => i < rows.length && all.indexOf(i) === at);
  for (let r = 0; r < ROUNDS; r++) {
    for (const i of r % 2 === 0 ? runOrder : [...runOrder].reverse()) {
      const row = rows[i];
      const { fps, cpu, held, emulatorThread, nodeThread } = await row.job();
      row.runs.push(fps);
      if (held !== undefined && held !== null) row.held.push(held);
      if (emulatorThread) row.emulatorThread.push(emulatorThread);
      if (nodeThread) row.nodeThread.push(nodeThread);
      if (cpu) {
        row.cpu.push(cpu.node);
        if (cpu.fceux !== null) row.fceuxCpu.push(cpu.fceux);
      }
    }
  }
  const paired = CYCLES > 0 ? await interleaved() : undefined;
  const loadAfter = loadavg();
  const ticksAfter = cpuTicks();
  const fps = rows.map((r) => median(r.runs));
  console.log(`FCEUX benchmark — ${FRAMES} frames after ${WARMUP_FRAMES} of warm-up x ${ROUNDS} rounds, demo ROM, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`load average (1, 5, 15 min): ${load(loadBefore)} before, ${load(loadAfter)} after — other processes skew the figures`);
  if (ticksBefore && ticksAfter) {
    const steal = ((ticksAfter.steal - ticksBefore.steal) / Math.max(1, ticksAfter.total - ticksBefore.total)) * 100;
    console.log(`CPU steal during the run (time the hypervisor gave to other guests): ${steal.toFixed(1)} %`);
  }
  console.log('');
  console.log('| configuration | frames/s (median) | runs | Node CPU µs/frame (median) | FCEUX CPU µs/frame (median) | Node holds a round trip, µs (median) |');
  console.log('|---|---:|---|---:|---:|---:|');
  const cell = (xs: number[]): string => (xs.length ? median(xs).toFixed(0) : '');
  const held = (xs: number[]): string => (xs.length ? median(xs).toFixed(1) : '');
  rows.forEach((r, i) => console.log(`| ${r.name} | ${fps[i].toFixed(0)} | ${r.runs.map((x) => x.toFixed(0)).join(', ')} | ${cell(r.cpu)} | ${cell(r.fceuxCpu)} | ${held(r.held)} |`));
  console.log('');
  const ratio = (a: number, b: number): string => roundRatioCells(rows[a].runs, rows[b].runs);
  console.log('| ratio (median of the per-round ratios) | value | range | target |');
  console.log('|---|---:|---|---|');
  console.log(`| lockstep without screens / free-running | ${ratio(1, 0)} | >= 0.8 |`);
  console.log(`| lockstep with screens / free-running | ${ratio(2, 0)} | >= 0.45 |`);
  console.log(`| floor without screens / free-running (the best any bridge could do here) | ${ratio(5, 0)} | |`);
  console.log(`| floor with screens / free-running | ${ratio(6, 0)} | |`);
  console.log(`| lockstep / floor, without screens | ${ratio(1, 5)} | |`);
  console.log(`| lockstep / floor, with screens | ${ratio(2, 6)} | |`);
  console.log(`| lockstep frame by frame / floor, without screens (breakpoints checked between frames) | ${ratio(7, 5)} | |`);
  console.log(`| wire floor / floor (the WebSocket wire and lockstep.lua's own work, against plain TCP) | ${ratio(8, 5)} | |`);
  console.log(`| lockstep / wire floor, without screens (Lockstep's code over its own wire) | ${ratio(1, 8)} | |`);
  console.log(`| lockstep / FceuxEmulator.step alone, without screens (the runtime's share) | ${ratio(1, 3)} | |`);
  console.log(`| lockstep / FceuxEmulator.step alone, with screens | ${ratio(2, 4)} | |`);
  console.log(`| lockstep, binary actions / JSON actions, without screens | ${ratio(1, 9)} | |`);
  console.log('');
  if (paired) {
    console.log(`Interleaved, without screens (after the rounds): four FCEUX running side by side, taking turns every ${STRETCH_FRAMES} frames, ${CYCLES} cycles in ${BLOCKS} blocks of new processes; frames/s (median): ${INTERLEAVED_SIDES.map((name, i) => `${name} ${median(paired[i]).toFixed(0)}`).join(', ')}`);
    console.log('');
    console.log('| ratio (median of the per-cycle ratios) | value | quartiles | range | target |');
    console.log('|---|---:|---|---|---|');
    const cells = (a: number, b: number): string => {
      const per = paired[a].map((x, k) => x / paired[b][k]);
      const q = (f: number): string => quantile(per, f).toFixed(3);
      return `${q(0.5)} | ${q(0.25)}–${q(0.75)} | ${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)}`;
    };
    console.log(`| lockstep / floor, interleaved | ${cells(3, 0)} | >= 0.95 |`);
    console.log(`| wire floor / floor, interleaved | ${cells(1, 0)} | |`);
    console.log(`| FceuxEmulator.step alone / wire floor, interleaved | ${cells(2, 1)} | |`);
    console.log(`| lockstep / FceuxEmulator.step alone, interleaved | ${cells(3, 2)} | |`);
    console.log('');
  }
  // CPU time hardly depends on the machine's load: what the runtime adds to the link per frame, run by run.
  const cpuRatio = (a: number, b: number): string => roundRatioCells(rows[a].cpu, rows[b].cpu);
  console.log('| Node CPU per frame (median of the per-round ratios) | value | range |');
  console.log('|---|---:|---|');
  console.log(`| lockstep / FceuxEmulator.step alone, without screens | ${cpuRatio(1, 3)} |`);
  console.log(`| lockstep / FceuxEmulator.step alone, with screens | ${cpuRatio(2, 4)} |`);
  // Which side of the link each step up from the plain-TCP floor costs, per frame, run by run.
  const fceuxRows = [1, 3, 5, 8].every((i) => rows[i].fceuxCpu.length === ROUNDS);
  if (fceuxRows) {
    const diff = (a: number, b: number, which: 'cpu' | 'fceuxCpu'): string => roundDifferenceCells(rows[a][which], rows[b][which]);
    console.log('');
    console.log('| CPU µs per frame added (median of the per-round differences) | Node | range | FCEUX | range |');
    console.log('|---|---:|---|---:|---|');
    console.log(`| wire floor over floor (WebSocket framing, lockstep.lua's own work) | ${diff(8, 5, 'cpu')} | ${diff(8, 5, 'fceuxCpu')} |`);
    console.log(`| FceuxEmulator.step alone over wire floor (the emulator port) | ${diff(3, 8, 'cpu')} | ${diff(3, 8, 'fceuxCpu')} |`);
    console.log(`| lockstep over FceuxEmulator.step alone (the runtime) | ${diff(1, 3, 'cpu')} | ${diff(1, 3, 'fceuxCpu')} |`);
  }
  // The span Node holds each round trip (a state's arrival to the action's write), which FCEUX waits out: what each
  // step up from the floor puts on the round trip itself, run by run.
  if ([1, 3, 5, 8].every((i) => rows[i].held.length === ROUNDS)) {
    const diff = (a: number, b: number): string => roundDifferenceCells(rows[a].held, rows[b].held);
    console.log('');
    console.log('| µs added to the time Node holds a round trip (median of the per-round differences) | value | range |');
    console.log('|---|---:|---|');
    console.log(`| wire floor over floor (ws parsing and framing) | ${diff(8, 5)} |`);
    console.log(`| FceuxEmulator.step alone over wire floor (the emulator port) | ${diff(3, 8)} |`);
    console.log(`| lockstep over FceuxEmulator.step alone (the runtime) | ${diff(1, 3)} |`);
  }
  // How the kernel ran the two threads that take turns each frame: FCEUX's emulator thread (emulating, then waiting for
  // the action) and Node's main thread. Time runnable but waiting for a CPU, and moves from one CPU to another (cold
  // caches after), lengthen the frame beyond what either side computes.
  const scheduled = [5, 8, 3, 1].filter((i) => rows[i].emulatorThread.length === ROUNDS && rows[i].nodeThread.length === ROUNDS);
  if (scheduled.length > 0) {
    const of = (xs: ThreadSchedule[], key: keyof ThreadSchedule, digits: number): string => median(xs.map((x) => x[key])).toFixed(digits);
    console.log('');
    console.log('| per frame (median of rounds) | FCEUX emulator thread: µs on a CPU | µs waiting for a CPU | CPU moves per 100 frames | Node main thread: µs on a CPU | µs waiting for a CPU | CPU moves per 100 frames |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const i of scheduled) {
      const e = rows[i].emulatorThread;
      const n = rows[i].nodeThread;
      console.log(`| ${rows[i].name} | ${of(e, 'onCpuUs', 0)} | ${of(e, 'waitUs', 1)} | ${of(e, 'migrationsPer100', 1)} | ${of(n, 'onCpuUs', 0)} | ${of(n, 'waitUs', 1)} | ${of(n, 'migrationsPer100', 1)} |`);
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
