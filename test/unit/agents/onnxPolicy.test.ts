// Tests the ONNX policy pieces: sidecar validation, observation encoding and frame stacks, action decoding, model I/O checks, the screen path.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Observation } from '../../../src/core/ports';
import {
  ActionDecoder, ObservationEncoder, OnnxPolicy, ORT_WASM_FILES, checkModelIo, downsampleInto, expectedInputShape,
  parseSidecar, resolveWasmDir, sidecarPathFor, type OutputSpec,
} from '../../../src/agents/onnxPolicy';
import { BUTTON } from '../../../src/core/buttons';
import { encodeModel } from '../../../scripts/onnxWriter';
import { demoPolicyModel, demoPolicySidecar } from '../../../scripts/makeDemoModel';

const FILE = 'm.lockstep.json';
const modelsDir = join(__dirname, '..', '..', '..', 'models');
const tmp = mkdtempSync(join(tmpdir(), 'lockstep-onnx-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function obs(over: Partial<Observation> = {}): Observation {
  return {
    frame: 0, step: 0, episode: 0, player: 0, timestamp: 0, ram: new Uint8Array(0x800), vars: {},
    reward: 0, terminated: false, truncated: false, info: {}, ...over,
  };
}

/** A solid RGBA 256x240 screen. */
function solid(r: number, g = r, b = r): Uint8Array {
  const s = new Uint8Array(256 * 240 * 4);
  for (let i = 0; i < s.length; i += 4) {
    s[i] = r;
    s[i + 1] = g;
    s[i + 2] = b;
    s[i + 3] = 255;
  }
  return s;
}

const ramSidecar = { input: { kind: 'ram', variables: ['p1_x', 'item_x'] }, output: { kind: 'argmax', actions: [[], ['LEFT'], ['RIGHT']] } };

describe('parseSidecar', () => {
  test('fills defaults and converts actions to masks', () => {
    const s = parseSidecar({ ...ramSidecar, seed: 7 }, FILE);
    assert.deepEqual(s.input, { kind: 'ram', variables: ['p1_x', 'item_x'], scale: [1, 1], name: undefined });
    assert.deepEqual(s.output.masks, [0, BUTTON.LEFT, BUTTON.RIGHT]);
    assert.equal(s.output.temperature, 1);
    assert.equal(s.seed, 7);
    const screen = parseSidecar({ input: { kind: 'screen', downsample: 4, grayscale: true, frameStack: 4 }, output: { kind: 'sample', actions: [['A', 'B']], temperature: 0.5 } }, FILE);
    assert.deepEqual(screen.input, { kind: 'screen', downsample: 4, grayscale: true, frameStack: 4, name: undefined });
    assert.equal(screen.output.masks[0], BUTTON.A | BUTTON.B);
    assert.equal(screen.output.temperature, 0.5);
    assert.equal(screen.seed, 0);
  });

  test('a single scale number applies to every input', () => {
    const s = parseSidecar({ input: { kind: 'ram_bytes', addresses: [1, 2, 3], scale: 0.5 }, output: ramSidecar.output }, FILE);
    assert.deepEqual(s.input.kind === 'ram_bytes' && s.input.scale, [0.5, 0.5, 0.5]);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', [], /\(top level\) must be an object/],
    ['missing input', { output: ramSidecar.output }, /input is missing/],
    ['missing output', { input: ramSidecar.input }, /output is missing/],
    ['unknown kind', { ...ramSidecar, input: { kind: 'pixels' } }, /input\.kind must be "ram", "ram_bytes" or "screen", got "pixels"/],
    ['empty variables', { ...ramSidecar, input: { kind: 'ram', variables: [] } }, /input\.variables must be a non-empty array/],
    ['non-string variable', { ...ramSidecar, input: { kind: 'ram', variables: ['a', 3] } }, /input\.variables\[1\] must be a variable name, got 3/],
    ['scale length', { ...ramSidecar, input: { kind: 'ram', variables: ['a', 'b'], scale: [1] } }, /input\.scale has 1 entries but there are 2 inputs/],
    ['scale not finite', { ...ramSidecar, input: { kind: 'ram', variables: ['a'], scale: ['x'] } }, /input\.scale\[0\] must be a finite number, got "x"/],
    ['address out of work RAM', { ...ramSidecar, input: { kind: 'ram_bytes', addresses: [0, 2048] } }, /input\.addresses\[1\] must be an integer from 0 to 2047, got 2048/],
    ['downsample not dividing the screen', { ...ramSidecar, input: { kind: 'screen', downsample: 3 } }, /input\.downsample must be one of 1, 2, 4, 8, 16 .* got 3/],
    ['grayscale not boolean', { ...ramSidecar, input: { kind: 'screen', grayscale: 'yes' } }, /input\.grayscale must be true or false/],
    ['frameStack zero', { ...ramSidecar, input: { kind: 'screen', frameStack: 0 } }, /input\.frameStack must be an integer from 1 to 64, got 0/],
    ['misspelt field', { ...ramSidecar, input: { kind: 'screen', frame_stack: 4 } }, /input\.frame_stack is not a known field/],
    ['unknown top-level field', { ...ramSidecar, seeds: 1 }, /seeds is not a known field/],
    ['bad output kind', { ...ramSidecar, output: { kind: 'max', actions: [[]] } }, /output\.kind must be "argmax" or "sample", got "max"/],
    ['no actions', { ...ramSidecar, output: { kind: 'argmax', actions: [] } }, /output\.actions must be a non-empty array/],
    ['action not an array', { ...ramSidecar, output: { kind: 'argmax', actions: [[], 'A'] } }, /output\.actions\[1\] must be an array of button names/],
    ['unknown button', { ...ramSidecar, output: { kind: 'argmax', actions: [['JUMP']] } }, /output\.actions\[0\] has an unknown button "JUMP"/],
    ['temperature with argmax', { ...ramSidecar, output: { kind: 'argmax', actions: [[]], temperature: 2 } }, /output\.temperature only applies to "sample"/],
    ['temperature zero', { ...ramSidecar, output: { kind: 'sample', actions: [[]], temperature: 0 } }, /output\.temperature must be greater than 0/],
    ['negative seed', { ...ramSidecar, seed: -1 }, /seed must be an integer from 0 to 4294967295, got -1/],
  ];
  for (const [what, raw, re] of bad) {
    test(`rejects ${what}, naming the file and field`, () => {
      assert.throws(() => parseSidecar(raw, FILE), (err: Error) => {
        assert.ok(err.message.startsWith(`${FILE}: `), err.message);
        assert.match(err.message, re);
        return true;
      });
    });
  }

  test('sidecarPathFor sits next to the model', () => {
    assert.equal(sidecarPathFor('/a/b/policy.onnx'), '/a/b/policy.lockstep.json');
    assert.equal(sidecarPathFor('x.ONNX'), 'x.lockstep.json');
  });
});

describe('ObservationEncoder', () => {
  test('ram: scaled variables from the observation, or from an injected RAM map', () => {
    const spec = parseSidecar({ input: { kind: 'ram', variables: ['b', 'a'], scale: [0.5, 2] }, output: ramSidecar.output }, FILE).input;
    assert.deepEqual([...new ObservationEncoder(spec, FILE).encode(obs({ vars: { a: 3, b: 10 } }))], [5, 6]);
    const ramMap = { read: (ram: Uint8Array) => ({ a: ram[0], b: ram[1] }) };
    const ram = new Uint8Array(0x800);
    ram[0] = 7;
    ram[1] = 4;
    assert.deepEqual([...new ObservationEncoder(spec, FILE, ramMap).encode(obs({ ram, vars: {} }))], [2, 14]);
  });

  test('ram: a variable the RAM map lacks is named in the error', () => {
    const spec = parseSidecar(ramSidecar, FILE).input;
    assert.throws(() => new ObservationEncoder(spec, FILE).encode(obs({ vars: { p1_x: 1, score: 2 } })),
      /m\.lockstep\.json: input\.variables\[1\] "item_x" is not a RAM-map variable \(known: p1_x, score\)/);
  });

  test('ram_bytes: raw bytes times scale; addresses beyond the RAM given are an error', () => {
    const spec = parseSidecar({ input: { kind: 'ram_bytes', addresses: [0x10, 0x7ff], scale: [1, 0.25] }, output: ramSidecar.output }, FILE).input;
    const ram = new Uint8Array(0x800);
    ram[0x10] = 200;
    ram[0x7ff] = 8;
    assert.deepEqual([...new ObservationEncoder(spec, FILE).encode(obs({ ram }))], [200, 2]);
    assert.throws(() => new ObservationEncoder(spec, FILE).encode(obs({ ram: new Uint8Array(0x100) })), /input\.addresses\[1\] = 2047 is beyond the 256 bytes/);
  });

  test('screen: block averages, BT.601 grayscale, channel-first colour', () => {
    const rgba = new Uint8Array(256 * 240 * 4);
    // The top-left 2x2 block: pixels with red 0, 40, 80, 120 -> mean 60; green 255 in one pixel -> mean 63.75.
    const px = (x: number, y: number) => (y * 256 + x) * 4;
    rgba[px(0, 0)] = 0;
    rgba[px(1, 0)] = 40;
    rgba[px(0, 1)] = 80;
    rgba[px(1, 1)] = 120;
    rgba[px(1, 1) + 1] = 255;
    rgba[px(255, 239) + 2] = 255; // blue in the bottom-right pixel
    const colour = new Float32Array(3 * 120 * 128);
    downsampleInto(rgba, 2, false, colour);
    const plane = 120 * 128;
    assert.ok(Math.abs(colour[0] - 60 / 255) < 1e-6);
    assert.ok(Math.abs(colour[plane] - 63.75 / 255) < 1e-6);
    assert.equal(colour[2 * plane], 0);
    assert.ok(Math.abs(colour[3 * plane - 1] - 63.75 / 255) < 1e-6);
    const gray = new Float32Array(120 * 128);
    downsampleInto(rgba, 2, true, gray);
    assert.ok(Math.abs(gray[0] - (0.299 * 60 + 0.587 * 63.75) / 255) < 1e-6);
    assert.ok(Math.abs(gray[gray.length - 1] - (0.114 * 63.75) / 255) < 1e-6);
  });

  test('screen: frame stack keeps the last N frames oldest first and restarts each episode', () => {
    const spec = parseSidecar({ input: { kind: 'screen', downsample: 16, grayscale: true, frameStack: 3 }, output: ramSidecar.output }, FILE).input;
    const enc = new ObservationEncoder(spec, FILE);
    const per = 15 * 16;
    const stack = (o: Observation) => {
      const v = enc.encode(o);
      return [0, 1, 2].map((k) => Math.round(v[k * per] * 255));
    };
    assert.deepEqual(expectedInputShape(spec), [1, 3, 15, 16]);
    assert.deepEqual(stack(obs({ frame: 10, step: 0, screen: solid(10) })), [10, 10, 10]);
    assert.deepEqual(stack(obs({ frame: 11, step: 1, screen: solid(20) })), [10, 10, 20]);
    assert.deepEqual(stack(obs({ frame: 12, step: 2, screen: solid(30) })), [10, 20, 30]);
    assert.deepEqual(stack(obs({ frame: 13, step: 3, screen: solid(40) })), [20, 30, 40]);
    // The same frame shown again (a resync) replaces the newest slot instead of stacking twice.
    assert.deepEqual(stack(obs({ frame: 13, step: 3, screen: solid(45) })), [20, 30, 45]);
    assert.deepEqual(stack(obs({ frame: 14, step: 0, episode: 1, screen: solid(90) })), [90, 90, 90]);
    assert.deepEqual(stack(obs({ frame: 15, step: 1, episode: 1, screen: solid(100) })), [90, 90, 100]);
    enc.reset();
    assert.deepEqual(stack(obs({ frame: 16, step: 2, episode: 1, screen: solid(5) })), [5, 5, 5]);
  });

  test('screen: a missing or wrong-sized screen is a clear error', () => {
    const spec = parseSidecar({ input: { kind: 'screen' }, output: ramSidecar.output }, FILE).input;
    assert.throws(() => new ObservationEncoder(spec, FILE).encode(obs({ frame: 3 })), /wants screens but observation of frame 3 has none/);
    assert.throws(() => new ObservationEncoder(spec, FILE).encode(obs({ screen: new Uint8Array(10) })), /has 10 bytes, expected 245760/);
  });
});

describe('ActionDecoder', () => {
  const spec = (kind: 'argmax' | 'sample', temperature = 1): OutputSpec =>
    ({ kind, actions: [[], ['A'], ['B']], masks: [0, 1, 2], temperature });

  test('argmax picks the largest, ties to the lowest index', () => {
    const d = new ActionDecoder(spec('argmax'), 0, FILE);
    assert.equal(d.decode([0.1, 3, -1], 0), 1);
    assert.equal(d.decode([2, 2, 2], 0), 0);
    assert.equal(d.decode([-5, -4, -4], 0), 1);
  });

  test('wrong output size or non-finite output is an error', () => {
    const d = new ActionDecoder(spec('argmax'), 0, FILE);
    assert.throws(() => d.decode([1, 2], 0), /output has 2 values but output\.actions lists 3 actions/);
    assert.throws(() => d.decode([1, NaN, 0], 9), /output NaN for action 1 at frame 9/);
  });

  test('sampling is reproducible from the seed and follows the softmax', () => {
    const logits = [0, Math.log(3), Math.log(1e-6)];
    const draw = (seed: number, n: number, t = 1) => {
      const d = new ActionDecoder(spec('sample', t), seed, FILE);
      return Array.from({ length: n }, () => d.decode(logits, 0));
    };
    assert.deepEqual(draw(42, 200), draw(42, 200));
    assert.notDeepEqual(draw(42, 200), draw(43, 200));
    const counts = [0, 0, 0];
    for (const a of draw(1, 4000)) counts[a]++;
    // p = [1/4, 3/4, ~0]
    assert.ok(Math.abs(counts[0] / 4000 - 0.25) < 0.03, String(counts));
    assert.ok(Math.abs(counts[1] / 4000 - 0.75) < 0.03, String(counts));
    assert.ok(counts[2] < 5, String(counts));
    // A low temperature sharpens toward the argmax, a high one flattens toward uniform.
    assert.ok(draw(1, 500, 0.01).every((a) => a === 1));
    const hot = [0, 0, 0];
    for (const a of draw(1, 3000, 1000)) hot[a]++;
    assert.ok(hot.every((c) => Math.abs(c / 3000 - 1 / 3) < 0.04), String(hot));
  });
});

describe('resolveWasmDir', () => {
  const files = (dir: string) => new Set(ORT_WASM_FILES.map((f) => join(dir, f)));
  const deps = (present: Set<string>, pkg?: string) => ({
    exists: (p: string) => present.has(p),
    here: '/ext/dist',
    resolvePackageFile: (f: string) => {
      if (!pkg) throw new Error('not found');
      return join(pkg, f);
    },
  });

  test('explicit dir, then ort/ next to the bundle, then the package', () => {
    const all = new Set([...files('/x'), ...files('/ext/dist/ort'), ...files('/nm/ort-web/dist')]);
    assert.equal(resolveWasmDir('/x', deps(all, '/nm/ort-web/dist')), '/x');
    assert.equal(resolveWasmDir(undefined, deps(all, '/nm/ort-web/dist')), '/ext/dist/ort');
    assert.equal(resolveWasmDir(undefined, deps(files('/nm/ort-web/dist'), '/nm/ort-web/dist')), '/nm/ort-web/dist');
  });

  test('says which files are missing', () => {
    const onlyWasm = new Set([join('/x', ORT_WASM_FILES[1])]);
    assert.throws(() => resolveWasmDir('/x', deps(onlyWasm)), /wasmDir \/x lacks onnxruntime-web's ort-wasm-simd-threaded\.mjs/);
    assert.throws(() => resolveWasmDir(undefined, deps(new Set())), /cannot find onnxruntime-web's .* looked in \/ext\/dist\/ort .*pass wasmDir/);
  });

  test('the real default finds the installed package files', () => {
    const dir = resolveWasmDir();
    for (const f of ORT_WASM_FILES) assert.ok(readFileSync(join(dir, f)).length > 0);
  });
});

describe('checkModelIo', () => {
  const meta = (inShape: Array<number | string>, outShape: Array<number | string>, type = 'float32') => ({
    inputNames: ['obs'], outputNames: ['logits'],
    inputMetadata: [{ name: 'obs', isTensor: true as const, type: type as 'float32', shape: inShape }],
    outputMetadata: [{ name: 'logits', isTensor: true as const, type: 'float32' as const, shape: outShape }],
  });
  const sc = parseSidecar(ramSidecar, FILE);

  test('symbolic or matching dims pass', () => {
    assert.deepEqual(checkModelIo(meta(['batch', 2], ['batch', 3]), sc, 'm.onnx', FILE), { inputName: 'obs', outputName: 'logits' });
    assert.deepEqual(checkModelIo(meta([1, 2], [1, 3]), sc, 'm.onnx', FILE), { inputName: 'obs', outputName: 'logits' });
  });

  test('mismatches name both files and both shapes', () => {
    assert.throws(() => checkModelIo(meta(['batch', 5], ['batch', 3]), sc, 'm.onnx', FILE),
      /input shape mismatch: m\.onnx input "obs" has shape \[batch, 5\] but m\.lockstep\.json \(input\.kind "ram"\) produces \[1, 2\]/);
    assert.throws(() => checkModelIo(meta([1, 4, 84, 84], [1, 3]), sc, 'm.onnx', FILE), /input shape mismatch/);
    assert.throws(() => checkModelIo(meta(['batch', 2], ['batch', 6]), sc, 'm.onnx', FILE),
      /output size mismatch: m\.onnx output "logits" has shape \[batch, 6\] but m\.lockstep\.json output\.actions lists 3 actions/);
    assert.throws(() => checkModelIo(meta(['batch', 2], ['batch', 3], 'uint8'), sc, 'm.onnx', FILE), /input "obs" is uint8; Lockstep feeds float32/);
  });

  test('tensor names: explicit names must exist; several inputs need one', () => {
    const named = parseSidecar({ ...ramSidecar, input: { ...ramSidecar.input, name: 'state' } }, FILE);
    assert.throws(() => checkModelIo(meta(['batch', 2], ['batch', 3]), named, 'm.onnx', FILE), /input\.name "state" is not an input of m\.onnx \(it has obs\)/);
    const two = { ...meta(['batch', 2], ['batch', 3]), inputNames: ['obs', 'hidden'] };
    assert.throws(() => checkModelIo(two, sc, 'm.onnx', FILE), /m\.onnx has 2 inputs \(obs, hidden\); say which one is the observation with input\.name/);
  });
});

describe('OnnxPolicy with real models', () => {
  /** Flatten + Gemm over [1, 4, 60, 64]: output k is the mean of stacked channel k, so outputs show the stack. */
  function writeScreenModel(dir: string): string {
    const plane = 60 * 64;
    const w = new Float32Array(4 * 4 * plane);
    for (let k = 0; k < 4; k++) w.fill(1 / plane, k * 4 * plane + k * plane, k * 4 * plane + (k + 1) * plane);
    const bytes = encodeModel({
      graphName: 'screen_test',
      inputs: [{ name: 'frames', shape: [1, 4, 60, 64] }],
      outputs: [{ name: 'out', shape: [1, 4] }],
      nodes: [
        { op: 'Flatten', inputs: ['frames'], outputs: ['flat'], attrs: { axis: { int: 1 } } },
        { op: 'Gemm', inputs: ['flat', 'w', 'b'], outputs: ['out'], attrs: { transB: { int: 1 } } },
      ],
      initializers: [{ name: 'w', dims: [4, 4 * plane], data: w }, { name: 'b', dims: [4], data: [0, 0, 0, 0] }],
    });
    const path = join(dir, 'screen.onnx');
    writeFileSync(path, bytes);
    return path;
  }
  const screenSidecar = (frameStack: number) => JSON.stringify({
    input: { kind: 'screen', downsample: 4, grayscale: true, frameStack },
    output: { kind: 'argmax', actions: [['A'], ['B'], ['LEFT'], ['RIGHT']] },
  });

  test('screen path: stacked, downsampled gray frames reach the model', async () => {
    const path = writeScreenModel(tmp);
    writeFileSync(sidecarPathFor(path), screenSidecar(4));
    const policy = await OnnxPolicy.load(path);
    try {
      assert.equal(policy.wantsScreen, true);
      const s0 = await policy.step(obs({ frame: 0, step: 0, screen: solid(50) }));
      assert.deepEqual([...s0.output].map((v) => Math.round(v * 255)), [50, 50, 50, 50]);
      await policy.step(obs({ frame: 1, step: 1, screen: solid(60) }));
      await policy.step(obs({ frame: 2, step: 2, screen: solid(70) }));
      const s3 = await policy.step(obs({ frame: 3, step: 3, screen: solid(30, 30, 30) }));
      assert.deepEqual([...s3.output].map((v) => Math.round(v * 255)), [50, 60, 70, 30]);
      assert.equal(s3.action, 2);
      assert.equal(s3.buttons, BUTTON.LEFT);
      // Colour goes through BT.601 luma: pure red 255 -> 0.299 (76 of 255), now the brightest slot.
      const s4 = await policy.step(obs({ frame: 4, step: 4, screen: solid(255, 0, 0) }));
      assert.deepEqual([...s4.output].slice(0, 3).map((v) => Math.round(v * 255)), [60, 70, 30]);
      assert.ok(Math.abs(s4.output[3] - 0.299) < 1e-4, String(s4.output[3]));
      assert.equal(s4.buttons, BUTTON.RIGHT);
    } finally {
      await policy.close();
    }
  });

  test('a sidecar whose input disagrees with the model is refused with both shapes', async () => {
    const path = writeScreenModel(tmp);
    writeFileSync(sidecarPathFor(path), screenSidecar(2));
    await assert.rejects(OnnxPolicy.load(path),
      /input shape mismatch: .*screen\.onnx input "frames" has shape \[1, 4, 60, 64\] but .*screen\.lockstep\.json \(input\.kind "screen"\) produces \[1, 2, 60, 64\]/);
  });

  test('load errors: missing model, missing sidecar, bad JSON, corrupt model', async () => {
    await assert.rejects(OnnxPolicy.load(join(tmp, 'nope.onnx')), /cannot read ONNX model .*nope\.onnx: no such file/);
    await assert.rejects(OnnxPolicy.load(join(tmp, 'model.bin')), /must end in \.onnx/);
    const lone = join(tmp, 'lone.onnx');
    writeFileSync(lone, demoPolicyModel());
    await assert.rejects(OnnxPolicy.load(lone), /missing sidecar .*lone\.lockstep\.json: every model needs one/);
    writeFileSync(sidecarPathFor(lone), '{ "input": ');
    await assert.rejects(OnnxPolicy.load(lone), /lone\.lockstep\.json: not valid JSON/);
    const corrupt = join(tmp, 'corrupt.onnx');
    writeFileSync(corrupt, Buffer.from('this is not a protobuf'));
    writeFileSync(sidecarPathFor(corrupt), demoPolicySidecar());
    await assert.rejects(OnnxPolicy.load(corrupt), /cannot load ONNX model .*corrupt\.onnx: /);
  });

  test('scripts/makeDemoModel.ts reproduces the shipped model and sidecar byte for byte', () => {
    assert.deepEqual(Buffer.from(demoPolicyModel()), readFileSync(join(modelsDir, 'demo-policy.onnx')));
    assert.equal(demoPolicySidecar(), readFileSync(join(modelsDir, 'demo-policy.lockstep.json'), 'utf8'));
  });
});
