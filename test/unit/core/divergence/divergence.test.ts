// Divergence finder on real recordings of the demo ROM (in-process jsnes): identical runs, inputs differing at frame 1234, an edited run, a live replay, bisection over snapshot sidecars.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockstepRuntime } from '../../../../src/core/runtime/runtime';
import { createEpisodeRecorder, type EpisodeManifest } from '../../../../src/core/episodes/episodeWriter';
import { defaultSyncConfig } from '../../../../src/core/config/config';
import { parseRamMap, type RamMap } from '../../../../src/core/config/ramMap';
import { readRom } from '../../../../src/emulators/rom';
import { PortableStateEmulator, ramOfMachineState } from '../../../../src/emulators/embedded/portableStateEmulator';
import { findManifest, loadRecordedEpisode } from '../../../../src/core/episodes/episodeReader';
import { findDivergence, type DivergenceEnvironment, type DivergenceSource } from '../../../../src/core/divergence/divergenceFinder';
import { loadReferenceTrack } from '../../../../src/core/divergence/referenceTrack';
import type { ReferenceTrack } from '../../../../src/core/divergence/referenceTrack';
import type { AgentPort } from '../../../../src/core/ports';
import type { DesyncEvent } from '../../../../src/core/sync/desyncDetector';

const ROOT = join(__dirname, '..', '..', '..', '..');
const ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const RAM_MAP: RamMap = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');
const STEPS = 1300;
const DIVERGE_AT = 1234;

/** Buttons for a frame: a fixed pseudo-random walk over LEFT/RIGHT/A, so the paddle moves and RAM changes. */
function baseInput(frame: number): number {
  const h = Math.imul(frame ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
  return [0x80, 0x40, 0x81, 0x41, 0x00][(h >>> 13) % 5];
}

interface RecordOptions {
  input?: (frame: number) => number;
  snapshotEvery?: number;
  reference?: ReferenceTrack;
  /** Writes one byte of RAM (as the debugger does) when the emulator holds this frame. */
  writeAt?: { frame: number; address: number; value: number };
  steps?: number;
}

/** Records one episode of the demo (truncated at `steps`) with a scripted input, in process; returns its folder and the desyncs seen. */
async function record(dir: string, o: RecordOptions = {}): Promise<{ folder: string; desyncs: DesyncEvent[] }> {
  const { info } = await readRom(ROM);
  const { recorder, folder } = await createEpisodeRecorder(dir, { rom: info, ramMap: RAM_MAP, emulator: 'embedded', session: '' });
  const input = o.input ?? baseInput;
  const agent: AgentPort = { name: 'scripted', wantsScreen: false, act: async (obs) => ({ frame: obs.frame, buttons: input(obs.frame) }), close: async () => undefined };
  const runtime = new LockstepRuntime(
    { emulator: new PortableStateEmulator(), agents: [agent, undefined], ramMap: RAM_MAP, sync: defaultSyncConfig() },
    { romPath: ROM, maxSteps: o.steps ?? STEPS, recorder, snapshotEvery: o.snapshotEvery, reference: o.reference },
  );
  const desyncs: DesyncEvent[] = [];
  runtime.events.on('desync', (e) => desyncs.push(e));
  try {
    await runtime.start();
    while (true) {
      if (o.writeAt && runtime.current!.frame === o.writeAt.frame) await runtime.writeRam(o.writeAt.address, Uint8Array.of(o.writeAt.value));
      const out = await runtime.advance();
      if (out.episodeEnd) break;
    }
    await recorder.close();
  } finally {
    await runtime.close();
  }
  return { folder, desyncs };
}

async function source(path: string): Promise<DivergenceSource> {
  const manifest = await findManifest(path);
  assert.ok(manifest, `${path} has a manifest`);
  return { kind: 'recording', recording: await loadRecordedEpisode(manifest!) };
}

async function env(): Promise<DivergenceEnvironment> {
  const { info } = await readRom(ROM);
  return { romPath: ROM, romMd5: info.md5, ramMap: RAM_MAP, createEmulator: () => new PortableStateEmulator(), ramOfState: ramOfMachineState };
}

/** A copy of a recording without its snapshot sidecar (what a run without --snapshots writes). */
function withoutSidecar(folder: string, to: string): string {
  cpSync(folder, to, { recursive: true });
  const p = join(to, 'episode-0000.json');
  const m = JSON.parse(readFileSync(p, 'utf8')) as EpisodeManifest;
  delete m.snapshots;
  writeFileSync(p, JSON.stringify(m, null, 2));
  rmSync(join(to, 'episode-0000.snapshots.jsonl'), { force: true });
  return to;
}

describe('divergence finder on recordings of the demo ROM', () => {
  const root = mkdtempSync(join(tmpdir(), 'lockstep-divergence-'));
  let a = '';
  let a2 = '';
  let b = '';
  let edited = '';
  before(async () => {
    a = (await record(join(root, 'a'), { snapshotEvery: 256 })).folder;
    a2 = (await record(join(root, 'a2'))).folder;
    // B presses other buttons on frame 1234 only.
    b = (await record(join(root, 'b'), { snapshotEvery: 256, input: (f) => (f === DIVERGE_AT ? baseInput(f) ^ 0xc1 : baseInput(f)) })).folder;
    edited = (await record(join(root, 'edited'), { writeAt: { frame: 600, address: 0x18, value: 0x77 }, steps: 900 })).folder;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('the recording keeps a snapshot sidecar every 256 steps, named in the manifest', () => {
    const m = JSON.parse(readFileSync(join(a, 'episode-0000.json'), 'utf8')) as EpisodeManifest;
    assert.deepEqual(m.snapshots?.steps, [0, 256, 512, 768, 1024, 1280]);
    assert.equal(m.snapshots?.file, 'episode-0000.snapshots.jsonl');
    const lines = readFileSync(join(a, m.snapshots!.file), 'utf8').trim().split('\n');
    assert.equal(lines.length, 7, 'a header and six states');
    const jsonl = readFileSync(join(a, 'episode-0000.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(JSON.parse(lines[2]).ramHash, jsonl[256].ramHash, 'each state is labelled with its row\'s fingerprint');
    assert.ok(!('checkpoint' in jsonl[256]), 'states never go into the JSONL rows');
    assert.ok(!existsSync(join(a2, 'episode-0000.snapshots.jsonl')), 'no sidecar without snapshotEvery');
  });

  test('two identical runs: no divergence, found from the rows without replaying a frame', async () => {
    const r = await findDivergence(await source(a), await source(a2), await env());
    assert.equal(r.diverged, false, r.message);
    assert.equal(r.search, 'rows');
    assert.equal(r.compare, 'ram');
    assert.equal(r.stepsCompared, STEPS);
    assert.equal(r.counters.framesReplayed, 0);
    assert.match(r.message, /^no divergence: 1300 step\(s\) compared/);
  });

  test('inputs differing at frame 1234: exactly frame 1234, its inputs, the RAM bytes that differ after it, named by the RAM map', async () => {
    const noSidecarA = withoutSidecar(a, join(root, 'a-plain'));
    const noSidecarB = withoutSidecar(b, join(root, 'b-plain'));
    const r = await findDivergence(await source(noSidecarA), await source(noSidecarB), await env());
    assert.equal(r.diverged, true);
    assert.deepEqual(r.frames, [DIVERGE_AT, DIVERGE_AT]);
    assert.equal(r.step, DIVERGE_AT - 5, 'the demo episode starts at frame 5 (its warmup), on either emulator');
    assert.equal(r.cause, 'inputs');
    assert.deepEqual(r.inputs, [[baseInput(DIVERGE_AT), 0], [baseInput(DIVERGE_AT) ^ 0xc1, 0]]);
    const pad1 = r.bytes.find((d) => d.address === 0x1c);
    assert.ok(pad1, `pad1 differs: ${JSON.stringify(r.bytes)}`);
    assert.equal(pad1!.name, 'pad1');
    assert.equal(pad1!.a, baseInput(DIVERGE_AT), 'the game stored the pressed buttons in pad1');
    assert.equal(pad1!.b, baseInput(DIVERGE_AT) ^ 0xc1);
    assert.equal(r.bytesCompared, 2048);
    assert.ok(r.vars.some((v) => v.name === 'pad1'));
    // Both sides replayed from power-on once (same inputs and fingerprints before the frame: one replay serves both).
    assert.ok(r.counters.framesReplayed <= DIVERGE_AT + 3, `replayed ${r.counters.framesReplayed}`);
    assert.equal(r.around.length, 11);
    assert.deepEqual(r.around.filter((x) => x.differ).map((x) => x.step), [DIVERGE_AT - 5]);
    assert.ok(r.screens[0] && r.screens[1], 'both screens captured');
    assert.match(r.message, /^first divergence at frame 1234 \(step 1229\): inputs differ/);
  });

  test('with snapshot sidecars the same answer costs a replay of at most one interval per side', async () => {
    const r = await findDivergence(await source(a), await source(b), await env());
    assert.deepEqual([r.diverged, r.frames?.[0], r.cause], [true, DIVERGE_AT, 'inputs']);
    assert.ok(r.counters.framesReplayed <= 2 * 256, `replayed ${r.counters.framesReplayed}`);
    assert.equal(r.counters.replays, 2, 'one replay per side, each from its nearest state');
    assert.ok(r.bytes.some((d) => d.name === 'pad1'));
  });

  test('bisection over the sidecars finds the same frame with O(log n) probes and one interval replayed per side', async () => {
    const r = await findDivergence(await source(a), await source(b), await env(), { search: 'bisect', screens: false });
    assert.equal(r.search, 'bisect');
    assert.deepEqual([r.frames?.[0], r.cause], [DIVERGE_AT, 'inputs']);
    assert.ok(r.counters.probes >= 1 && r.counters.probes <= 4, `probes ${r.counters.probes}`);
    assert.ok(r.counters.framesReplayed <= 2 * 256, `replayed ${r.counters.framesReplayed}`);
    assert.ok(r.bytes.some((d) => d.name === 'pad1'));
    const same = await findDivergence(await source(a), await source(a), await env(), { search: 'bisect', screens: false });
    assert.equal(same.diverged, false, same.message);
  });

  test('a recording replayed live on the embedded emulator reproduces itself frame by frame', async () => {
    const r = await findDivergence(await source(a2), { kind: 'live', emulator: 'embedded' }, await env(), { screens: false });
    assert.equal(r.diverged, false, r.message);
    assert.equal(r.search, 'forward');
    assert.equal(r.stepsCompared, STEPS);
    assert.equal(r.counters.framesReplayed, STEPS + 5, 'the live side alone ran: warmup and every step');
  });

  test('a run edited by a RAM write at frame 600: the edit shows as the state after frame 599, and a live replay does not reproduce it', async () => {
    const ra = await findDivergence(await source(a), await source(edited), await env(), { screens: false });
    assert.deepEqual([ra.frames?.[0], ra.cause], [599, 'state']);
    assert.ok(ra.notes.some((n) => /not reproduced by its inputs/.test(n)), ra.notes.join('\n'));
    const live = await findDivergence(await source(edited), { kind: 'live', emulator: 'embedded' }, await env(), { screens: false });
    assert.deepEqual([live.frames?.[0], live.cause], [599, 'state']);
    const p1x = live.bytes.find((d) => d.address === 0x18);
    assert.ok(p1x, JSON.stringify(live.bytes));
    assert.deepEqual([p1x!.name, p1x!.a], ['p1_x', 0x77], 'the recording holds the written value');
    assert.equal(live.ramSource[0], 'recorded variables');
  });

  test('a live run with the recording as reference reports one state_divergence, on the first frame that starts from another state', async () => {
    const ref = await loadReferenceTrack(a, 'embedded');
    assert.equal(ref.compare, 'ram');
    const same = await record(join(root, 'ref-same'), { reference: ref, steps: 300 });
    assert.deepEqual(same.desyncs, []);
    const other = await record(join(root, 'ref-b'), { reference: ref, input: (f) => (f === DIVERGE_AT ? baseInput(f) ^ 0xc1 : baseInput(f)) });
    const div = other.desyncs.filter((e) => e.type === 'state_divergence');
    assert.equal(div.length, 1, JSON.stringify(other.desyncs));
    assert.equal(div[0].frame, DIVERGE_AT + 1);
    assert.match(div[0].message, /RAM fingerprint of reference .* \(step 1230, its frame 1235\)/);
  });

  test('bad sources are refused with a sentence naming the problem', async () => {
    await assert.rejects(findDivergence({ kind: 'live', emulator: 'embedded' }, { kind: 'live', emulator: 'fceux' }, await env()), /both sides are live/);
    const e = await env();
    await assert.rejects(findDivergence(await source(a), await source(b), { ...e, romMd5: 'ffffffffffffffffffffffffffffffff' }), /recorded with ROM demo\.nes .* pass --rom/);
    await assert.rejects(findDivergence(await source(a2), await source(b), e, { search: 'bisect' }), /needs two recordings with snapshot sidecars/);
    await assert.rejects(findManifest(join(root, 'nothing-here')), /recording not found/);
    await assert.rejects(findManifest(join(root, 'a', 'session.json'), 7), /has no episode 7 \(episodes: 0\)/);
  });
});
