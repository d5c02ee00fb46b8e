// Flood: a trainer (and intruders) bombard the bridge with heartbeats, pings, errors, resyncs, wrong-frame actions and garbage while a session runs.
//   node --expose-gc --import tsx bench/flood.ts     (FLOOD_SECONDS=10 per phase; FLOOD_PHASES=calm,noise,wrong,wrong-tolerated,noread)
// The session runs in this process; the flooder is a child process (this file with --flooder), so memory figures are the bridge's alone.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import WebSocket from 'ws';
import { BridgeServer } from '../src/bridge/bridgeServer';
import { PROTOCOL_VERSION } from '../src/bridge/protocol';
import { WebSocketAgent } from '../src/agents/websocketAgent';
import { LockstepRuntime } from '../src/core/runtime/runtime';
import type { FrameRow, RowSink } from '../src/core/runtime/rows';
import { defaultSyncConfig, type SyncConfig } from '../src/core/config/config';
import { parseRamMap } from '../src/core/config/ramMap';
import { EmbeddedEmulator } from '../src/emulators/embedded/embeddedEmulator';
import { demoRomPath, findPackageRoot } from '../src/core/packageRoot';

const SECONDS = Number(process.env.FLOOD_SECONDS ?? 10);
const PHASES = (process.env.FLOOD_PHASES ?? 'calm,noise,wrong,wrong-tolerated,noread').split(',').map((s) => s.trim()).filter(Boolean);
/** Buttons the flooding trainer answers frame f with; wrong-frame actions press JUNK, which no good answer uses. */
const GOOD = [0x00, 0x80, 0x40, 0x01, 0x81, 0x41];
const JUNK = 0x3c;
const good = (frame: number) => GOOD[frame % GOOD.length];
const MiB = 1024 * 1024;

/** calm: the same trainer without junk (the reference); the others add junk of one kind each. */
type Phase = 'calm' | 'noise' | 'wrong' | 'wrong-tolerated' | 'noread';

interface FlooderCounts {
  junk: number;
  wrongActions: number;
  answers: number;
  links: number;
  garbageSent: number;
  intruderConnections: number;
  intruderMessages: number;
  repliesRead: number;
  seconds: number;
}

// ---------- the flooder (child process) ----------

async function flooder(port: number, token: string, phase: Phase, seconds: number): Promise<void> {
  const counts: FlooderCounts = { junk: 0, wrongActions: 0, answers: 0, links: 0, garbageSent: 0, intruderConnections: 0, intruderMessages: 0, repliesRead: 0, seconds: 0 };
  const started = Date.now();
  const end = started + seconds * 1000;
  const url = `ws://127.0.0.1:${port}/agent`;
  let seq = 1;

  /**
   * One trainer connection: answers each state correctly and pumps junk between answers. A repeated state (a resync) is answered
   * again only in wrong-tolerated, where junk actions swallow answers; elsewhere the junk resync_requests would make duplicates.
   */
  const trainerLink = () => new Promise<void>((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 8 * MiB });
    counts.links++;
    let current = -1;
    let lastAnswered = -1;
    let welcomed = false;
    const pump = () => {
      if (!welcomed || ws.readyState !== WebSocket.OPEN || Date.now() > end || phase === 'calm') return;
      // Keep our own send buffer small: we measure what the bridge absorbs, not what piles up in this process.
      for (let i = 0; i < 100 && ws.bufferedAmount < 256 * 1024; i++) {
        const r = Math.random();
        let m: object;
        if (phase === 'noread' || r < 0.25) m = { type: 'ping', id: seq++, t0: Date.now() };
        else if (r < 0.45) m = { type: 'heartbeat', seq: seq++, timestamp: Date.now() };
        else if (r < 0.55) m = { type: 'pong', id: 1e9 + seq++, t0: 1, t1: 2 };
        else if (r < 0.65) m = { type: 'heartbeat_ack', seq: 1e9 + seq++, timestamp: 1 };
        else if (r < 0.72) m = { type: 'error', code: 'noise', message: 'n'.repeat(1000) };
        else if (r < 0.8) m = { type: 'resync_request', timestamp: Date.now(), reason: 'flood' };
        else if ((phase === 'wrong' || phase === 'wrong-tolerated') && current >= 0) {
          // Frames the session never holds while we run: far ahead, or the boot frames before episode 0. (An action near the
          // current frame may name the frame the bridge holds by then: that one is valid by the protocol, not junk.)
          const frame = Math.random() < 0.5 ? current + 1_000_000 + Math.floor(Math.random() * 1000) : Math.floor(Math.random() * 4);
          m = { type: 'action', frame, buttons: JUNK };
          counts.wrongActions++;
        } else m = { type: 'heartbeat', seq: seq++, timestamp: Date.now() };
        ws.send(JSON.stringify(m));
        counts.junk++;
      }
      setImmediate(pump);
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', role: 'agent', protocol: PROTOCOL_VERSION, token, player: 0, name: 'flooder' })));
    ws.on('message', (d, isBinary) => {
      if (isBinary) return;
      counts.repliesRead++;
      const m = JSON.parse(String(d)) as { type: string; frame?: number };
      if (m.type === 'welcome') {
        welcomed = true;
        // noread: from here on this trainer never reads what the bridge sends (a stuck or malicious client).
        if (phase === 'noread') (ws as unknown as { _socket: { pause(): void } })._socket.pause();
        pump();
      } else if (m.type === 'state' && m.frame !== undefined) {
        current = m.frame;
        if (m.frame !== lastAnswered || phase === 'wrong-tolerated') {
          lastAnswered = m.frame;
          ws.send(JSON.stringify({ type: 'action', frame: m.frame, buttons: good(m.frame) }));
          counts.answers++;
        }
      }
    });
    // Every 2 s in the noise phase: a malformed message, which costs this link (4007) and forces a reconnect.
    const garbage = phase === 'noise' ? setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) {
        ws.send('{"type":"action","frame":');
        counts.garbageSent++;
      }
    }, 2000) : undefined;
    ws.on('error', () => undefined);
    ws.on('close', () => {
      clearInterval(garbage);
      resolve();
    });
    setTimeout(() => ws.terminate(), Math.max(0, end - Date.now())).unref();
  });

  /** Connections that never get in: wrong tokens, garbage, binary, oversize, deep nesting. */
  const intruder = async () => {
    const firsts: Array<string | Uint8Array> = [
      JSON.stringify({ type: 'hello', role: 'agent', protocol: 1, token: 'guess' }),
      '{"type":"hello",',
      new Uint8Array([0, 1, 2, 3]),
      JSON.stringify({ type: 'hello', role: 'agent', protocol: 1 }),
      JSON.stringify({ type: 'nope' }),
      'z'.repeat(1_100_000),
    ];
    let i = 0;
    while (Date.now() < end) {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      counts.intruderConnections++;
      await new Promise<void>((resolve) => {
        ws.on('open', () => {
          ws.send(firsts[i++ % firsts.length]);
          counts.intruderMessages++;
        });
        ws.on('error', () => undefined);
        ws.on('close', () => resolve());
        setTimeout(() => { ws.terminate(); resolve(); }, 2000).unref();
      });
    }
  };

  const trainer = (async () => {
    while (Date.now() < end) {
      await trainerLink();
      if (phase === 'wrong') break; // the bridge gave up on purpose: stay out
    }
  })();
  const intruders = phase === 'noise' ? Array.from({ length: 3 }, () => intruder()) : [];
  await Promise.all([trainer, ...intruders]);
  counts.seconds = (Date.now() - started) / 1000;
  process.stdout.write(JSON.stringify(counts) + '\n');
}

// ---------- the session (this process) ----------

interface PhaseResult {
  phase: Phase;
  seconds: number;
  frames: number;
  fps: number;
  rows: number;
  wrongRows: number;
  gaps: number;
  desyncs: number;
  fault: string | null;
  logLines: number;
  rssStartMiB: number;
  rssMaxMiB: number;
  rssEndMiB: number;
  heapStartMiB: number;
  heapEndMiB: number;
  counts: FlooderCounts | null;
}

/** Rows must carry the flooder's good answer for exactly their frame and follow each other within an episode. */
class CheckingSink implements RowSink {
  rows = 0;
  wrong = 0;
  gaps = 0;
  private last?: FrameRow;
  addRow(row: FrameRow): void {
    this.rows++;
    if (row.buttons[0] !== good(row.frame)) this.wrong++;
    const l = this.last;
    if (l && l.episode === row.episode && (row.frame !== l.frame + 1 || row.step !== l.step + 1)) this.gaps++;
    this.last = row;
  }
  endEpisode(): void {}
  truncate(): void {
    this.gaps++;
  }
}

async function runPhase(phase: Phase): Promise<PhaseResult> {
  const root = findPackageRoot(__dirname);
  const romPath = demoRomPath(root);
  const ramMap = parseRamMap(readFileSync(romPath.replace(/\.nes$/, '.rammap.json'), 'utf8'), 'demo.rammap.json');
  let logLines = 0;
  const log = () => { logLines++; };
  const bridge = new BridgeServer({ log });
  const port = await bridge.listen();
  const agent = new WebSocketAgent({ bridge, player: 0, session: 'flood', rom: 'demo.nes', vars: [...ramMap.names], maxSteps: null, log });
  const sink = new CheckingSink();
  // wrong: default recovery (the run must stop, cleanly); wrong-tolerated: desyncs never stop it, so rows keep coming under fire.
  const sync: SyncConfig = { ...defaultSyncConfig(), frameTimeoutMs: 5000, ...(phase === 'wrong-tolerated' ? { maxDesyncCount: 1_000_000_000 } : {}) };
  const runtime = new LockstepRuntime({ emulator: new EmbeddedEmulator(), agents: [agent, undefined], ramMap, sync }, { romPath, recorder: sink });
  runtime.events.on('log', log);
  // Counted from the events: the detector's own totals are zeroed by recovery (reset_counter) and at episode ends.
  let desyncs = 0;
  runtime.events.on('desync', () => { desyncs++; });

  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--flooder', String(port), bridge.token, phase, String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const childDone = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const kill = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 30) * 1000);

  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m0 = process.memoryUsage();
  let rssMax = m0.rss;
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, process.memoryUsage().rss); }, 200);
  await runtime.start();
  const t0 = performance.now();
  let frames = 0;
  let fault: string | null = null;
  let running = true;
  let nudge: NodeJS.Timeout | undefined;
  void childDone.then(() => {
    running = false;
    // The runtime may be between waits when the flooder leaves: keep interrupting until the loop sees it.
    nudge = setInterval(() => runtime.interruptWait(), 50);
    runtime.interruptWait();
  });
  try {
    while (running) {
      const o = await runtime.advance();
      if (o.advanced) frames++;
    }
  } catch (e) {
    fault = (e as Error).message;
  }
  const seconds = (performance.now() - t0) / 1000;
  await childDone;
  clearInterval(nudge);
  clearTimeout(kill);
  clearInterval(sampler);
  gc?.();
  const m1 = process.memoryUsage();
  rssMax = Math.max(rssMax, m1.rss);
  await runtime.close();
  await bridge.close();
  const line = out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  return {
    phase, seconds, frames, fps: frames / seconds, rows: sink.rows, wrongRows: sink.wrong, gaps: sink.gaps, desyncs, fault, logLines,
    rssStartMiB: m0.rss / MiB, rssMaxMiB: rssMax / MiB, rssEndMiB: m1.rss / MiB, heapStartMiB: m0.heapUsed / MiB, heapEndMiB: m1.heapUsed / MiB,
    counts: line ? (JSON.parse(line) as FlooderCounts) : null,
  };
}

async function main(): Promise<void> {
  console.log(`Lockstep flood — ${SECONDS} s per phase (${PHASES.join(', ')}), demo ROM, EmbeddedEmulator, one flooding trainer on controller 1`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GB, Node ${process.version}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const results: PhaseResult[] = [];
  for (const p of PHASES) {
    if (!['calm', 'noise', 'wrong', 'wrong-tolerated', 'noread'].includes(p)) throw new Error(`unknown phase ${p}`);
    results.push(await runPhase(p as Phase));
  }
  console.log('');
  console.log('Columns: s and frames/s are the session\'s (until it stopped); junk msgs/s is what the flooder sent over its whole run, all of it read and handled by the bridge.');
  console.log('| phase | s | frames/s | rows | wrong rows | gaps | desyncs | fault | junk msgs/s absorbed | wrong-frame actions | trainer links | intruder conns (msgs) | log lines | RSS start / max / end MiB | heap start / end MiB |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|');
  for (const r of results) {
    const c = r.counts;
    console.log(`| ${r.phase} | ${r.seconds.toFixed(1)} | ${r.fps.toFixed(0)} | ${r.rows} | ${r.wrongRows} | ${r.gaps} | ${r.desyncs} | ${r.fault ? r.fault.slice(0, 80) : '-'} | ` +
      `${c ? ((c.junk + c.intruderMessages) / c.seconds).toFixed(0) : '?'} | ${c?.wrongActions ?? '?'} | ${c?.links ?? '?'} | ${c ? `${c.intruderConnections} (${c.intruderMessages})` : '?'} | ${r.logLines} | ` +
      `${r.rssStartMiB.toFixed(0)} / ${r.rssMaxMiB.toFixed(0)} / ${r.rssEndMiB.toFixed(0)} | ${r.heapStartMiB.toFixed(1)} / ${r.heapEndMiB.toFixed(1)} |`);
  }
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (results.some((r) => r.wrongRows > 0 || r.gaps > 0)) process.exitCode = 1;
}

if (process.argv[2] === '--flooder') {
  const [, , , port, token, phase, seconds] = process.argv;
  flooder(Number(port), token, phase as Phase, Number(seconds)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
