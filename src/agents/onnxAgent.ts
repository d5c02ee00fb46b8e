// Agent that runs an ONNX policy in-process (onnxruntime-web, wasm, one thread) and keeps its per-step latency.
import { basename } from 'node:path';
import type { AgentAction, AgentEpisodeEnd, AgentPort, GivenInput, Observation } from '../core/ports';
import { NES_HEIGHT, NES_WIDTH } from '../core/nes';
import { OnnxPolicy, type InputSpec, type RamReader } from './onnxPolicy';

export interface OnnxAgentOptions {
  /** Which controller it drives; only used in its name (the runtime routes observations). */
  player: 0 | 1;
  ramMap?: RamReader;
  wasmDir?: string;
  seed?: number;
}

export interface LatencyStats {
  p50Ms: number;
  p99Ms: number;
  /** Samples behind the percentiles (at most LATENCY_WINDOW). */
  n: number;
}

export const LATENCY_WINDOW = 1000;

export class OnnxAgent implements AgentPort {
  readonly name: string;
  readonly wantsScreen: boolean;
  private readonly samples = new Float64Array(LATENCY_WINDOW);
  private count = 0;
  private inputTap: ((input: GivenInput) => void) | undefined;

  private constructor(
    private readonly policy: OnnxPolicy,
    player: 0 | 1,
    private readonly now: () => number,
  ) {
    this.name = `onnx(${basename(policy.modelPath)}, controller ${player + 1})`;
    this.wantsScreen = policy.wantsScreen;
  }

  /** Loads `model.onnx` and its `model.lockstep.json`; rejects with an error naming the file and field at fault. */
  static async load(modelPath: string, opts: OnnxAgentOptions, now: () => number = () => performance.now()): Promise<OnnxAgent> {
    const policy = await OnnxPolicy.load(modelPath, { ramMap: opts.ramMap, wasmDir: opts.wasmDir, seed: opts.seed });
    return new OnnxAgent(policy, opts.player, now);
  }

  /** Latency covers encoding the observation, inference and decoding: the agent's whole share of a frame. */
  async act(obs: Observation): Promise<AgentAction> {
    const t0 = this.now();
    const step = await this.policy.step(obs);
    this.samples[this.count % LATENCY_WINDOW] = this.now() - t0;
    this.count++;
    if (this.inputTap && step.input) this.inputTap(modelInput(obs, this.policy.sidecar.input, step.input.values, step.input.stackFrames));
    return { frame: obs.frame, buttons: step.buttons, info: { action: step.action } };
  }

  setInputTap(tap: ((input: GivenInput) => void) | undefined): void {
    this.inputTap = tap;
    this.policy.keepInputs = tap !== undefined;
  }

  episodeEnd(_end: AgentEpisodeEnd): void {
    this.policy.reset();
  }

  /** p50/p99 over the last LATENCY_WINDOW steps (nearest-rank); zeros before the first step. */
  latencyStats(): LatencyStats {
    const n = Math.min(this.count, LATENCY_WINDOW);
    if (n === 0) return { p50Ms: 0, p99Ms: 0, n: 0 };
    const sorted = this.samples.slice(0, n).sort();
    const rank = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
    return { p50Ms: rank(0.5), p99Ms: rank(0.99), n };
  }

  async close(): Promise<void> {
    await this.policy.close();
  }
}

/**
 * The model input as the agent's-eye view shows it: a RAM input as named values; a screen input as one picture per
 * stacked frame (oldest first), the [0, 1] floats x255 rounded, channel planes merged back into pixels.
 */
export function modelInput(obs: Observation, spec: InputSpec, values: Float32Array, stackFrames: number[]): GivenInput {
  const base = { frame: obs.frame, episode: obs.episode, step: obs.step, via: 'ONNX model input', info: obs.info, reward: obs.reward };
  switch (spec.kind) {
    case 'ram':
      return { ...base, vector: { names: [...spec.variables], values: Array.from(values) } };
    case 'ram_bytes':
      return { ...base, vector: { names: spec.addresses.map((a) => `$${a.toString(16).toUpperCase().padStart(4, '0')}`), values: Array.from(values) } };
    case 'screen': {
      const width = NES_WIDTH / spec.downsample;
      const height = NES_HEIGHT / spec.downsample;
      const plane = width * height;
      const channels = spec.grayscale ? 1 : 3;
      const stack: Uint8Array[] = [];
      for (let k = 0; k < spec.frameStack; k++) {
        const out = new Uint8Array(plane * channels);
        const at = k * plane * channels;
        for (let i = 0; i < plane; i++) {
          for (let c = 0; c < channels; c++) out[i * channels + c] = Math.round(values[at + c * plane + i] * 255);
        }
        stack.push(out);
      }
      return {
        ...base,
        screen: { width, height, channels: channels as 1 | 3, stack, stackFrames, encoding: `${spec.grayscale ? 'gray' : 'RGB'}, downsample ${spec.downsample}, stack of ${spec.frameStack}: model input x255, rounded` },
      };
    }
    default: {
      const _x: never = spec;
      return _x;
    }
  }
}
