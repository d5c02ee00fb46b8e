// An ONNX policy with its sidecar: validates model.lockstep.json, turns observations into input tensors, runs onnxruntime-web, decodes actions.
import * as ort from 'onnxruntime-web/wasm';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUTTON_NAMES, namesToMask } from '../core/buttons';
import { Prng } from '../core/prng';
import type { Observation } from '../core/ports';
import { NES_HEIGHT, NES_WIDTH, WORK_RAM_SIZE } from '../core/nes';

/** The files onnxruntime-web's wasm backend loads at run time; a bundle must ship both next to it (dist/ort/). */
export const ORT_WASM_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'] as const;

const DOWNSAMPLES = [1, 2, 4, 8, 16];

export type InputSpec =
  | { kind: 'ram'; variables: string[]; scale: number[]; name?: string }
  | { kind: 'ram_bytes'; addresses: number[]; scale: number[]; name?: string }
  | { kind: 'screen'; downsample: number; grayscale: boolean; frameStack: number; name?: string };

export interface OutputSpec {
  kind: 'argmax' | 'sample';
  /** Button names per action index, as written in the sidecar. */
  actions: string[][];
  /** The same actions as controller masks. */
  masks: number[];
  /** Softmax temperature for `sample`; 1 for argmax. */
  temperature: number;
  name?: string;
}

export interface PolicySidecar {
  input: InputSpec;
  output: OutputSpec;
  seed: number;
}

/** Reads RAM-map variables from raw RAM; the runtime's RamMap fits. */
export interface RamReader {
  read(ram: Uint8Array): Record<string, number>;
}

/** `foo.onnx` -> `foo.lockstep.json` in the same folder. */
export function sidecarPathFor(modelPath: string): string {
  return modelPath.replace(/\.onnx$/i, '') + '.lockstep.json';
}

type Json = Record<string, unknown>;

/** Validates a parsed sidecar; every error names the file and the field at fault. */
export function parseSidecar(raw: unknown, file: string): PolicySidecar {
  const fail = (field: string, problem: string): never => {
    throw new Error(`${file}: ${field} ${problem}`);
  };
  const obj = (v: unknown, field: string): Json => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, `must be an object, got ${describe(v)}`);
    return v as Json;
  };
  const onlyKeys = (o: Json, field: string, allowed: readonly string[]): void => {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) fail(`${field}.${k}`.replace(/^\./, ''), `is not a known field (expected ${allowed.join(', ')})`);
    }
  };
  const int = (v: unknown, field: string, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(field, `must be an integer from ${min} to ${max}, got ${describe(v)}`);
    return v as number;
  };
  const finite = (v: unknown, field: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `must be a finite number, got ${describe(v)}`);
    return v as number;
  };
  const optName = (v: unknown, field: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') fail(field, `must be a non-empty string (the model's tensor name), got ${describe(v)}`);
    return v as string;
  };
  const scaleOf = (v: unknown, n: number, field: string): number[] => {
    if (v === undefined) return new Array<number>(n).fill(1);
    if (typeof v === 'number') return new Array<number>(n).fill(finite(v, field));
    if (!Array.isArray(v)) return fail(field, `must be a number or an array of ${n} numbers, got ${describe(v)}`);
    if (v.length !== n) fail(field, `has ${v.length} entries but there are ${n} inputs`);
    return v.map((s, i) => finite(s, `${field}[${i}]`));
  };

  const root = obj(raw, '(top level)');
  onlyKeys(root, '', ['input', 'output', 'seed']);
  if (root.input === undefined) fail('input', 'is missing');
  if (root.output === undefined) fail('output', 'is missing');

  const inRaw = obj(root.input, 'input');
  let input: InputSpec;
  const kind = inRaw.kind;
  switch (kind) {
    case 'ram': {
      onlyKeys(inRaw, 'input', ['kind', 'variables', 'scale', 'name']);
      const vars = inRaw.variables;
      if (!Array.isArray(vars) || vars.length === 0) fail('input.variables', `must be a non-empty array of RAM-map variable names, got ${describe(vars)}`);
      const variables = (vars as unknown[]).map((v, i) => {
        if (typeof v !== 'string' || v === '') fail(`input.variables[${i}]`, `must be a variable name, got ${describe(v)}`);
        return v as string;
      });
      input = { kind, variables, scale: scaleOf(inRaw.scale, variables.length, 'input.scale'), name: optName(inRaw.name, 'input.name') };
      break;
    }
    case 'ram_bytes': {
      onlyKeys(inRaw, 'input', ['kind', 'addresses', 'scale', 'name']);
      const addrs = inRaw.addresses;
      if (!Array.isArray(addrs) || addrs.length === 0) fail('input.addresses', `must be a non-empty array of work-RAM addresses, got ${describe(addrs)}`);
      const addresses = (addrs as unknown[]).map((a, i) => int(a, `input.addresses[${i}]`, 0, WORK_RAM_SIZE - 1));
      input = { kind, addresses, scale: scaleOf(inRaw.scale, addresses.length, 'input.scale'), name: optName(inRaw.name, 'input.name') };
      break;
    }
    case 'screen': {
      onlyKeys(inRaw, 'input', ['kind', 'downsample', 'grayscale', 'frameStack', 'name']);
      const downsample = inRaw.downsample === undefined ? 1 : inRaw.downsample;
      if (typeof downsample !== 'number' || !DOWNSAMPLES.includes(downsample)) {
        fail('input.downsample', `must be one of ${DOWNSAMPLES.join(', ')} (it has to divide 256x240), got ${describe(downsample)}`);
      }
      const grayscale = inRaw.grayscale === undefined ? false : inRaw.grayscale;
      if (typeof grayscale !== 'boolean') fail('input.grayscale', `must be true or false, got ${describe(grayscale)}`);
      const frameStack = inRaw.frameStack === undefined ? 1 : int(inRaw.frameStack, 'input.frameStack', 1, 64);
      input = { kind, downsample: downsample as number, grayscale: grayscale as boolean, frameStack, name: optName(inRaw.name, 'input.name') };
      break;
    }
    default:
      return fail('input.kind', `must be "ram", "ram_bytes" or "screen", got ${describe(kind)}`);
  }

  const outRaw = obj(root.output, 'output');
  onlyKeys(outRaw, 'output', ['kind', 'actions', 'temperature', 'name']);
  const outKind = outRaw.kind;
  if (outKind !== 'argmax' && outKind !== 'sample') fail('output.kind', `must be "argmax" or "sample", got ${describe(outKind)}`);
  const acts = outRaw.actions;
  if (!Array.isArray(acts) || acts.length === 0) fail('output.actions', `must be a non-empty array of button-name arrays (e.g. [["RIGHT"], [], ["A"]]), got ${describe(acts)}`);
  const actions = (acts as unknown[]).map((a, i) => {
    if (!Array.isArray(a) || a.some((b) => typeof b !== 'string')) fail(`output.actions[${i}]`, `must be an array of button names (${BUTTON_NAMES.join(', ')}), got ${describe(a)}`);
    return a as string[];
  });
  const masks = actions.map((a, i) => {
    try {
      return namesToMask(a);
    } catch (err) {
      return fail(`output.actions[${i}]`, `has an ${(err as Error).message}`);
    }
  });
  let temperature = 1;
  if (outRaw.temperature !== undefined) {
    temperature = finite(outRaw.temperature, 'output.temperature');
    if (temperature <= 0) fail('output.temperature', `must be greater than 0, got ${temperature}`);
    if (outKind === 'argmax') fail('output.temperature', 'only applies to "sample" (argmax ignores it); remove it or use kind "sample"');
  }
  const output: OutputSpec = { kind: outKind as 'argmax' | 'sample', actions, masks, temperature, name: optName(outRaw.name, 'output.name') };

  const seed = root.seed === undefined ? 0 : int(root.seed, 'seed', 0, 0xffffffff);
  return { input, output, seed };
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The input tensor shape a sidecar implies, batch of one first: [1, n] for RAM, [1, channels, height, width] for screens. */
export function expectedInputShape(input: InputSpec): number[] {
  switch (input.kind) {
    case 'ram':
      return [1, input.variables.length];
    case 'ram_bytes':
      return [1, input.addresses.length];
    case 'screen':
      return [1, (input.grayscale ? 1 : 3) * input.frameStack, NES_HEIGHT / input.downsample, NES_WIDTH / input.downsample];
    default: {
      const _x: never = input;
      return _x;
    }
  }
}

/**
 * Turns observations into the model's input vector. Screens: RGBA averaged over downsample x downsample blocks,
 * scaled to [0, 1], grayscale by BT.601 luma, channel-first, the last `frameStack` frames oldest first; at an
 * episode's first observation every slot is filled with that frame, so the model never sees the previous episode.
 */
export class ObservationEncoder {
  private readonly buffer: Float32Array;
  private readonly frames: Float32Array[] = [];
  private newest = -1;
  /** The frame id each stack slot holds (same indexing as `frames`). */
  private readonly slotFrames: number[] = [];
  private episode: number | undefined;
  private lastFrame: number | undefined;

  constructor(
    private readonly input: InputSpec,
    private readonly source: string,
    private readonly ramMap?: RamReader,
  ) {
    const shape = expectedInputShape(input);
    this.buffer = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (input.kind === 'screen') {
      const perFrame = this.buffer.length / input.frameStack;
      for (let i = 0; i < input.frameStack; i++) this.frames.push(new Float32Array(perFrame));
    }
  }

  /** The frame id behind each stacked screen of the last encoded input, oldest first (empty for RAM inputs). */
  stackFrames(): number[] {
    const input = this.input;
    if (input.kind !== 'screen' || this.newest < 0) return [];
    const out: number[] = [];
    for (let k = 0; k < input.frameStack; k++) out.push(this.slotFrames[(this.newest + 1 + k) % input.frameStack]);
    return out;
  }

  /** Forgets stacked frames; the next observation starts a fresh stack. */
  reset(): void {
    this.newest = -1;
    this.episode = undefined;
    this.lastFrame = undefined;
  }

  /** The input vector for one observation; the returned array is reused by the next call. */
  encode(obs: Observation): Float32Array {
    const input = this.input;
    switch (input.kind) {
      case 'ram': {
        const vars = this.ramMap ? this.ramMap.read(obs.ram) : obs.vars;
        for (let i = 0; i < input.variables.length; i++) {
          const name = input.variables[i];
          const v = vars[name];
          if (typeof v !== 'number') {
            const known = Object.keys(vars);
            throw new Error(`${this.source}: input.variables[${i}] "${name}" is not a RAM-map variable (known: ${known.length ? known.join(', ') : 'none'})`);
          }
          this.buffer[i] = v * input.scale[i];
        }
        return this.buffer;
      }
      case 'ram_bytes':
        for (let i = 0; i < input.addresses.length; i++) {
          const a = input.addresses[i];
          if (a >= obs.ram.length) throw new Error(`${this.source}: input.addresses[${i}] = ${a} is beyond the ${obs.ram.length} bytes of RAM in the observation`);
          this.buffer[i] = obs.ram[a] * input.scale[i];
        }
        return this.buffer;
      case 'screen':
        return this.encodeScreen(obs, input);
      default: {
        const _x: never = input;
        return _x;
      }
    }
  }

  private encodeScreen(obs: Observation, input: Extract<InputSpec, { kind: 'screen' }>): Float32Array {
    const screen = obs.screen;
    if (!screen) throw new Error(`${this.source}: the model wants screens but observation of frame ${obs.frame} has none`);
    if (screen.length !== NES_WIDTH * NES_HEIGHT * 4) throw new Error(`screen of frame ${obs.frame} has ${screen.length} bytes, expected ${NES_WIDTH * NES_HEIGHT * 4} (RGBA 256x240)`);
    const fresh = this.newest < 0 || obs.episode !== this.episode || obs.step === 0;
    // The runtime may show the same frame again (resync); replace it rather than stacking it twice.
    const repeat = !fresh && obs.frame === this.lastFrame;
    this.episode = obs.episode;
    this.lastFrame = obs.frame;
    if (fresh) this.newest = 0;
    else if (!repeat) this.newest = (this.newest + 1) % input.frameStack;
    const frame = this.frames[this.newest];
    downsampleInto(screen, input.downsample, input.grayscale, frame);
    this.slotFrames[this.newest] = obs.frame;
    if (fresh) {
      for (const f of this.frames) if (f !== frame) f.set(frame);
      for (let i = 0; i < input.frameStack; i++) this.slotFrames[i] = obs.frame;
    }
    // Oldest first: the slot after the newest holds the oldest frame.
    for (let k = 0; k < input.frameStack; k++) {
      this.buffer.set(this.frames[(this.newest + 1 + k) % input.frameStack], k * frame.length);
    }
    return this.buffer;
  }
}

/** RGBA 256x240 -> channel-first block averages in [0, 1]. */
export function downsampleInto(rgba: Uint8Array, factor: number, grayscale: boolean, out: Float32Array): void {
  const w = NES_WIDTH / factor;
  const h = NES_HEIGHT / factor;
  const plane = w * h;
  const norm = 1 / (255 * factor * factor);
  for (let by = 0; by < h; by++) {
    for (let bx = 0; bx < w; bx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = by * factor; y < (by + 1) * factor; y++) {
        let p = (y * NES_WIDTH + bx * factor) * 4;
        for (let x = 0; x < factor; x++, p += 4) {
          r += rgba[p];
          g += rgba[p + 1];
          b += rgba[p + 2];
        }
      }
      const o = by * w + bx;
      if (grayscale) {
        out[o] = (0.299 * r + 0.587 * g + 0.114 * b) * norm;
      } else {
        out[o] = r * norm;
        out[plane + o] = g * norm;
        out[2 * plane + o] = b * norm;
      }
    }
  }
}

/** Picks an action index from the model's output: argmax (ties to the lowest index) or a seeded softmax sample. */
export class ActionDecoder {
  private readonly prng: Prng;
  private readonly probs: Float64Array;

  constructor(
    private readonly output: OutputSpec,
    seed: number,
    private readonly source: string,
  ) {
    this.prng = new Prng(seed);
    this.probs = new Float64Array(output.actions.length);
  }

  decode(logits: ArrayLike<number>, frame: number): number {
    const n = this.output.actions.length;
    if (logits.length !== n) {
      throw new Error(`${this.source}: the model output has ${logits.length} values but output.actions lists ${n} actions`);
    }
    let best = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(logits[i])) throw new Error(`${this.source}: the model output ${logits[i]} for action ${i} at frame ${frame}`);
      if (logits[i] > logits[best]) best = i;
    }
    if (this.output.kind === 'argmax') return best;
    const t = this.output.temperature;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      this.probs[i] = Math.exp((logits[i] - logits[best]) / t);
      sum += this.probs[i];
    }
    let u = this.prng.next() * sum;
    for (let i = 0; i < n; i++) {
      u -= this.probs[i];
      if (u < 0) return i;
    }
    return n - 1;
  }
}

/**
 * Where the wasm backend's files are: an explicit folder, else `ort/` next to this module (the bundle's dist/ort),
 * else the installed onnxruntime-web package (running from source).
 */
export function resolveWasmDir(
  wasmDir?: string,
  deps: { exists: (p: string) => boolean; here: string; resolvePackageFile: (f: string) => string } = {
    exists: existsSync,
    here: __dirname,
    resolvePackageFile: (f) => require.resolve(`onnxruntime-web/${f}`),
  },
): string {
  const complete = (dir: string) => ORT_WASM_FILES.every((f) => deps.exists(join(dir, f)));
  if (wasmDir !== undefined) {
    const missing = ORT_WASM_FILES.filter((f) => !deps.exists(join(wasmDir, f)));
    if (missing.length) throw new Error(`wasmDir ${wasmDir} lacks onnxruntime-web's ${missing.join(' and ')}`);
    return wasmDir;
  }
  const bundled = join(deps.here, 'ort');
  if (complete(bundled)) return bundled;
  let fromPackage: string | undefined;
  try {
    fromPackage = dirname(deps.resolvePackageFile(ORT_WASM_FILES[1]));
  } catch {
    // not installed next to us; reported below
  }
  if (fromPackage !== undefined && complete(fromPackage)) return fromPackage;
  throw new Error(`cannot find onnxruntime-web's ${ORT_WASM_FILES.join(' and ')}: looked in ${bundled}${fromPackage ? ` and ${fromPackage}` : ' and the onnxruntime-web package'}; pass wasmDir`);
}

export interface OnnxPolicyOptions {
  /** Reads `ram` inputs from raw RAM instead of the observation's vars. */
  ramMap?: RamReader;
  /** Folder holding ORT_WASM_FILES; see resolveWasmDir for the default. */
  wasmDir?: string;
  /** Overrides the sidecar's seed for `sample` decoding. */
  seed?: number;
}

export interface PolicyStep {
  action: number;
  buttons: number;
  /** The model's raw output for this step (a copy). */
  output: Float32Array;
  /** The model input (a copy) and, for screens, the frame id of each stacked screen oldest first; only while keepInputs. */
  input?: { values: Float32Array; stackFrames: number[] };
}

/** A loaded model plus its sidecar; one instance per agent (it keeps the frame stack and the sampling stream). */
export class OnnxPolicy {
  private released = false;
  private readonly encoder: ObservationEncoder;
  private readonly decoder: ActionDecoder;
  private readonly shape: number[];

  private constructor(
    readonly modelPath: string,
    readonly sidecar: PolicySidecar,
    private readonly session: ort.InferenceSession,
    readonly inputName: string,
    readonly outputName: string,
    opts: OnnxPolicyOptions,
  ) {
    const sidecarFile = sidecarPathFor(modelPath);
    this.shape = expectedInputShape(sidecar.input);
    this.encoder = new ObservationEncoder(sidecar.input, sidecarFile, opts.ramMap);
    this.decoder = new ActionDecoder(sidecar.output, opts.seed ?? sidecar.seed, sidecarFile);
  }

  static async load(modelPath: string, opts: OnnxPolicyOptions = {}): Promise<OnnxPolicy> {
    const sidecarFile = sidecarPathFor(modelPath);
    if (!/\.onnx$/i.test(modelPath)) throw new Error(`ONNX model path must end in .onnx, got ${modelPath}`);
    const modelBytes = await readFile(modelPath).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot read ONNX model ${modelPath}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    const sidecarText = await readFile(sidecarFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === 'ENOENT'
        ? `missing sidecar ${sidecarFile}: every model needs one next to it describing its input and output (see docs/onnx.md)`
        : `cannot read sidecar ${sidecarFile}: ${err.message}`);
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(sidecarText);
    } catch (err) {
      throw new Error(`${sidecarFile}: not valid JSON: ${(err as Error).message}`);
    }
    const sidecar = parseSidecar(parsed, sidecarFile);

    const dir = resolveWasmDir(opts.wasmDir);
    // ort.env is onnxruntime-web's own process-wide config; the wasm backend reads it once, at the first session.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = { mjs: pathToFileURL(join(dir, ORT_WASM_FILES[0])).href, wasm: pathToFileURL(join(dir, ORT_WASM_FILES[1])).href };
    ort.env.logLevel = 'error';
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    } catch (err) {
      throw new Error(`cannot load ONNX model ${modelPath}: ${(err as Error)?.message ?? String(err)}`);
    }
    try {
      const { inputName, outputName } = checkModelIo(session, sidecar, modelPath, sidecarFile);
      return new OnnxPolicy(modelPath, sidecar, session, inputName, outputName, opts);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  get wantsScreen(): boolean {
    return this.sidecar.input.kind === 'screen';
  }

  /** Call at an episode start (the encoder also notices a new episode by itself). */
  reset(): void {
    this.encoder.reset();
  }

  async step(obs: Observation): Promise<PolicyStep> {
    const features = this.encoder.encode(obs);
    // A copy only when asked for (the agent's-eye view): the encoder reuses its buffer for the next observation.
    const input = this.keepInputs ? { values: features.slice(), stackFrames: this.encoder.stackFrames() } : undefined;
    const output = await this.evaluate(features);
    const action = this.decoder.decode(output, obs.frame);
    return { action, buttons: this.sidecar.output.masks[action], output, ...(input ? { input } : {}) };
  }

  /** While true, step() returns the model input it built (a copy) with the frame behind each stacked screen. */
  keepInputs = false;

  /** Runs the model on one already-encoded input vector and returns its output as a copy. */
  async evaluate(features: Float32Array): Promise<Float32Array> {
    const feeds = { [this.inputName]: new ort.Tensor('float32', features, this.shape) };
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(feeds);
    } catch (err) {
      throw new Error(`ONNX model ${this.modelPath} failed to run: ${(err as Error)?.message ?? String(err)}`);
    }
    const out = result[this.outputName] as ort.Tensor;
    const data = Float32Array.from(out.data as Float32Array);
    for (const t of Object.values(result)) (t as ort.Tensor).dispose?.();
    return data;
  }

  async close(): Promise<void> {
    // Idempotent: a session released twice makes onnxruntime throw "invalid session id".
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/** Checks the model's declared input/output against the sidecar, naming both files when they disagree. */
export function checkModelIo(
  model: Pick<ort.InferenceSession, 'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata'>,
  sidecar: PolicySidecar,
  modelPath: string,
  sidecarFile: string,
): { inputName: string; outputName: string } {
  const pick = (names: readonly string[], wanted: string | undefined, what: 'input' | 'output'): string => {
    if (wanted !== undefined) {
      if (!names.includes(wanted)) throw new Error(`${sidecarFile}: ${what}.name "${wanted}" is not an ${what} of ${modelPath} (it has ${names.join(', ')})`);
      return wanted;
    }
    if (what === 'input' && names.length !== 1) {
      throw new Error(`${modelPath} has ${names.length} inputs (${names.join(', ')}); say which one is the observation with input.name in ${sidecarFile}`);
    }
    return names[0];
  };
  const inputName = pick(model.inputNames, sidecar.input.name, 'input');
  const outputName = pick(model.outputNames, sidecar.output.name, 'output');

  const expected = expectedInputShape(sidecar.input);
  const inMeta = model.inputMetadata.find((m) => m.name === inputName);
  if (inMeta?.isTensor) {
    if (inMeta.type !== 'float32') throw new Error(`${modelPath}: input "${inputName}" is ${inMeta.type}; Lockstep feeds float32`);
    const shape = inMeta.shape;
    const fits = shape.length === 0 || (shape.length === expected.length && shape.every((d, i) => typeof d === 'string' || d === expected[i] || d < 0));
    if (!fits) {
      throw new Error(`input shape mismatch: ${modelPath} input "${inputName}" has shape ${fmtShape(shape)} but ${sidecarFile} (input.kind "${sidecar.input.kind}") produces ${fmtShape(expected)}`);
    }
  }
  const outMeta = model.outputMetadata.find((m) => m.name === outputName);
  if (outMeta?.isTensor && outMeta.shape.length > 0) {
    const last = outMeta.shape[outMeta.shape.length - 1];
    const n = sidecar.output.actions.length;
    if (typeof last === 'number' && last >= 0 && last !== n) {
      throw new Error(`output size mismatch: ${modelPath} output "${outputName}" has shape ${fmtShape(outMeta.shape)} but ${sidecarFile} output.actions lists ${n} actions`);
    }
  }
  return { inputName, outputName };
}

function fmtShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.join(', ')}]`;
}
