// The divergence finder's parts: portable machine states, the sidecar format, PNG output, the reference check by variables, the VS Code command's pure helpers.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PortableStateEmulator, ramOfMachineState } from '../../../../src/emulators/embedded/portableStateEmulator';
import { encodeSnapshotSidecar, parseSnapshotSidecar, SNAPSHOT_SIDECAR_FORMAT } from '../../../../src/core/episodes/snapshotSidecar';
import { isStateExporter } from '../../../../src/core/ports';
import { encodePng, sideBySide } from '../../../../src/core/png';
import { differenceImage } from '../../../../src/core/divergence/divergenceReport';
import { referenceTrackOf } from '../../../../src/core/divergence/referenceTrack';
import type { RecordedEpisode } from '../../../../src/core/episodes/episodeReader';
import { LockstepRuntime } from '../../../../src/core/runtime/runtime';
import type { FrameRow, RowSink } from '../../../../src/core/runtime/rows';
import { defaultSyncConfig } from '../../../../src/core/config/config';
import { parseRamMap } from '../../../../src/core/config/ramMap';
import { shortHash } from '../../../../src/core/episodes/ramHash';
import { InProcessEmulator } from '../../../../src/emulators/embedded/embeddedEmulator';
import { decodePng } from '../../../../src/core/png';
import { divergenceDebugConfiguration, parseDivergenceOutput, stateDocument } from '../../../../src/extension/divergenceDocuments';
import type { DivergenceReportJson } from '../../../../src/core/divergence/divergenceReport';
import { toSessionSpec } from '../../../../src/debugAdapter/launchArgs';
import type { AgentPort } from '../../../../src/core/ports';
import type { DesyncEvent } from '../../../../src/core/sync/desyncDetector';

const ROOT = join(__dirname, '..', '..', '..', '..');
const ROM = join(ROOT, 'roms', 'demo', 'demo.nes');
const RAM_MAP = parseRamMap(readFileSync(join(ROOT, 'roms', 'demo', 'demo.rammap.json'), 'utf8'), 'demo.rammap.json');
const input = (i: number) => [0x80, 0x41, 0x40, 0x01][(i >> 3) & 3];

describe('portable machine states', () => {
  test('a state exported at frame 300 and imported into another emulator replays the next 200 frames identically (RAM and screens)', async () => {
    const a = new PortableStateEmulator();
    const b = new PortableStateEmulator();
    try {
      await a.start(ROM);
      await b.start(ROM);
      assert.ok(isStateExporter(a));
      assert.ok(!isStateExporter(new InProcessEmulator()), 'the worker-compatible emulators cannot export states');
      for (let i = 0; i < 300; i++) await a.step([input(i), 0]);
      const state = await a.exportState();
      assert.deepEqual(ramOfMachineState(state), (await a.current()).ram, 'the RAM can be read out of a state without restoring it');
      const expected: string[] = [];
      for (let i = 0; i < 200; i++) {
        const f = await a.step([input(i + 7), 0], { screen: i % 40 === 39 });
        expected.push(shortHash(f.ram) + (f.screen ? shortHash(f.screen) : ''));
      }
      for (let i = 0; i < 50; i++) await b.step([0x08, 0]);
      const restored = await b.importState(state);
      assert.equal(restored.frame, 300);
      const got: string[] = [];
      for (let i = 0; i < 200; i++) {
        const f = await b.step([input(i + 7), 0], { screen: i % 40 === 39 });
        got.push(shortHash(f.ram) + (f.screen ? shortHash(f.screen) : ''));
      }
      assert.deepEqual(got, expected);
      await assert.rejects(b.importState(Uint8Array.of(1, 2, 3)), /machine state is not readable/);
      await assert.rejects(b.importState(state.subarray(0, 40)), /machine state/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('the sidecar format round-trips and names the line of a bad entry', () => {
    const header = { format: SNAPSHOT_SIDECAR_FORMAT as typeof SNAPSHOT_SIDECAR_FORMAT, version: 1 as const, episode: 2, emulator: 'embedded' as const, stateFormat: 'x1', romMd5: 'ab' };
    const text = encodeSnapshotSidecar(header, [{ step: 0, frame: 4, ramHash: 'aa', state: Uint8Array.of(1, 2) }, { step: 256, frame: 260, ramHash: null, state: Uint8Array.of(3) }]);
    const back = parseSnapshotSidecar(text, 's.jsonl');
    assert.deepEqual(back.header, header);
    assert.deepEqual(back.checkpoints.map((c) => [c.step, c.frame, c.ramHash, [...c.state]]), [[0, 4, 'aa', [1, 2]], [256, 260, null, [3]]]);
    const lines = text.trim().split('\n');
    assert.throws(() => parseSnapshotSidecar([lines[0], lines[2], lines[1]].join('\n'), 's.jsonl'), /^Error: s\.jsonl:3: steps must increase, got 0 after 256$/);
    assert.throws(() => parseSnapshotSidecar('{"format":"other"}', 's.jsonl'), /s\.jsonl:1: format must be "lockstep-snapshots"/);
  });
});

describe('report pictures', () => {
  test('PNG encoding round-trips through the reader; side by side places images left to right with a gap', () => {
    const red = { width: 3, height: 2, pixels: new Uint8Array(24).map((_, i) => (i % 4 === 0 || i % 4 === 3 ? 255 : 0)) };
    const blue = { width: 2, height: 2, pixels: new Uint8Array(16).map((_, i) => (i % 4 === 2 || i % 4 === 3 ? 255 : 0)) };
    const img = sideBySide([red, blue], 1);
    assert.equal(img.width, 6);
    const back = decodePng(encodePng(img));
    assert.deepEqual([back.width, back.height], [6, 2]);
    assert.deepEqual([...back.pixels.subarray(0, 4)], [255, 0, 0, 255]);
    assert.deepEqual([...back.pixels.subarray(12, 16)], [0, 0, 0, 0], 'the gap is transparent');
    assert.deepEqual([...back.pixels.subarray(16, 20)], [0, 0, 255, 255]);
    assert.throws(() => sideBySide([red, { width: 1, height: 3, pixels: new Uint8Array(12) }]), /must be 2 pixels high, got 3/);
  });

  test('the difference picture marks exactly the pixels that differ', () => {
    const a = { width: 2, height: 1, pixels: Uint8Array.of(200, 100, 40, 255, 8, 8, 8, 255) };
    const b = { width: 2, height: 1, pixels: Uint8Array.of(200, 100, 40, 255, 9, 8, 8, 255) };
    assert.deepEqual([...differenceImage(a, b).pixels], [50, 25, 10, 255, 255, 0, 255, 255]);
  });
});

describe('reference check by RAM-map variables (a reference from the other emulator)', () => {
  /** Runs 40 frames in process, keeping the rows (their vars and fingerprints); a reference made from them on "fceux". */
  async function run(reference?: ReturnType<typeof referenceTrackOf>): Promise<{ rows: FrameRow[]; desyncs: DesyncEvent[] }> {
    const rows: FrameRow[] = [];
    const sink: RowSink = { addRow: (r) => rows.push(r), endEpisode: () => undefined, truncate: () => undefined };
    const agent: AgentPort = { name: 't', wantsScreen: false, act: async (o) => ({ frame: o.frame, buttons: input(o.frame) }), close: async () => undefined };
    const rt = new LockstepRuntime({ emulator: new InProcessEmulator(), agents: [agent, undefined], ramMap: RAM_MAP, sync: defaultSyncConfig() }, { romPath: ROM, recorder: sink, reference });
    const desyncs: DesyncEvent[] = [];
    rt.events.on('desync', (e) => desyncs.push(e));
    try {
      await rt.start();
      for (let i = 0; i < 40; i++) await rt.advance();
    } finally {
      await rt.close();
    }
    return { rows, desyncs };
  }

  test('same variables: nothing; one variable off at step 20: one state_divergence naming it, at that frame', async () => {
    const { rows } = await run();
    const rec = (edit: boolean): RecordedEpisode => ({
      kind: 'recording', manifestPath: 'x.json', label: 'fceux-run', episode: 0, emulator: 'fceux', reason: 'stopped',
      rom: { name: 'demo.nes', md5: '', md5NoHeader: '', mapper: 0 }, startFrame: rows[0].frame + 1, terminationFrame: 0, leadIn: rows[0].frame + 1,
      steps: rows.map((r, i) => ({ frame: r.frame + 1, actions: r.buttons, ramHash: 'ffffffffffffffff', screenHash: null, vars: edit && i === 20 ? { ...r.vars, p1_x: r.vars.p1_x + 1 } : r.vars })),
      finalRamFingerprint: '', finalRamSha256NoStack: '', exact: true, fm2Path: 'x.fm2',
    });
    const same = referenceTrackOf('fceux-run', new Map([[0, rec(false)]]), 'embedded');
    assert.equal(same.compare, 'vars', 'a reference from the other emulator is compared by variables (its RAM fingerprints include the stack)');
    assert.deepEqual((await run(same)).desyncs, []);
    const off = (await run(referenceTrackOf('fceux-run', new Map([[0, rec(true)]]), 'embedded'))).desyncs;
    assert.equal(off.length, 1);
    assert.equal(off[0].type, 'state_divergence');
    assert.equal(off[0].frame, rows[20].frame);
    assert.match(off[0].message, new RegExp(`expected RAM-map variables of reference fceux-run \\(step 20, its frame ${rows[20].frame + 1}\\) p1_x=${rows[20].vars.p1_x + 1} at frame ${rows[20].frame}, received p1_x=${rows[20].vars.p1_x}`));
  });
});

describe('Find Divergence command, the parts without VS Code', () => {
  const report = (over: Partial<DivergenceReportJson> = {}): DivergenceReportJson => ({
    format: 'lockstep-divergence', version: 1, diverged: true, message: 'm', step: 10, frame: 14, frames: { a: 14, b: 15 }, cause: 'inputs',
    compare: 'ramNoStack', search: 'forward',
    a: { label: 'rec/episode-0000', source: 'recording', emulator: 'embedded', path: '/r/episode-0000.json', movie: '/r/episode-0000.fm2', episode: 0, startFrame: 4, steps: 100 },
    b: { label: 'live fceux', source: 'live', emulator: 'fceux', path: null, movie: '/r/episode-0000.fm2', episode: null, startFrame: 5, steps: 100 },
    inputs: { a: 'R.......|........', b: '.L......|........', masks: { a: [128, 0], b: [64, 0] } },
    bytes: [{ address: '$0018', name: 'p1_x', a: 0x40, b: 0x3c }], bytesCompared: 2048, vars: [{ name: 'p1_x', a: 64, b: 60 }],
    varsAfter: { a: { p1_x: 64 }, b: { p1_x: 60 } }, ramSource: { a: 'replay on embedded', b: 'replay on fceux' },
    ram: { a: '00'.repeat(2048), b: '00'.repeat(24) + '3c' + '00'.repeat(2023) }, around: [], stepsCompared: 11,
    replay: { replays: 2, framesReplayed: 30, probes: 0 }, screens: null, notes: [], ...over,
  });

  test('the CLI output is read from its last line; its error line becomes the error', () => {
    assert.equal(parseDivergenceOutput(`progress\n${JSON.stringify(report())}\n`).step, 10);
    assert.throws(() => parseDivergenceOutput('{"format":"lockstep-divergence","version":1,"error":"A x was recorded with ROM y"}\n'), /^Error: A x was recorded with ROM y$/);
    assert.throws(() => parseDivergenceOutput('', 'boom'), /^Error: boom$/);
    assert.throws(() => parseDivergenceOutput('{"format":"other"}'), /format "other"/);
  });

  test('the two state documents line up row for row and differ exactly where the RAM does', () => {
    const da = stateDocument(report(), 'a').split('\n');
    const db = stateDocument(report(), 'b').split('\n');
    assert.equal(da.length, db.length);
    const differ = da.map((l, i) => (l === db[i] ? null : l.trim())).filter(Boolean);
    assert.deepEqual(differ, [
      '"side": "A",', '"source": "rec/episode-0000",', '"kind": "recording",', '"emulator": "embedded",', '"frame": 14,',
      '"inputs": "R.......|........",', '"ramFrom": "replay on embedded",', '"p1_x": 64', '"$0018 p1_x": "$40"',
      '"0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",',
    ]);
  });

  test('debugging a side replays its inputs on its emulator, stops at its frame, and compares with the other side when it is a recording', () => {
    const a = divergenceDebugConfiguration(report(), 'a', { romPath: '/roms/demo.nes', cwd: '/w' });
    assert.equal(a.breakpoint, 'frame == 14');
    assert.deepEqual(a.config, {
      type: 'lockstep', request: 'launch', name: 'Divergence: A rec/episode-0000 at frame 14', rom: '/roms/demo.nes', emulator: 'embedded',
      agent: 'fm2:/r/episode-0000.fm2', agent2: 'fm2:/r/episode-0000.fm2', cwd: '/w',
    });
    const b = divergenceDebugConfiguration(report(), 'b', { romPath: '/roms/demo.nes' });
    assert.equal(b.breakpoint, 'frame == 15');
    assert.equal(b.config.emulator, 'fceux');
    assert.equal(b.config.reference, '/r/episode-0000.json');
    assert.throws(() => divergenceDebugConfiguration(report({ diverged: false, step: null, frames: null }), 'a', { romPath: 'r' }), /do not diverge/);
    // The launch attribute the configuration uses is one the adapter knows.
    assert.equal(toSessionSpec({ reference: '/r/episode-0000.json' }, 'launch').spec.reference, '/r/episode-0000.json');
    assert.throws(() => toSessionSpec({ reference: 3 }, 'launch'), /launch\.json "reference" must be a non-empty string, got 3/);
  });
});
