// Benchmark: per-step latency of the in-process ONNX agent (encode + inference + decode) on the shipped demo policy.
import { join } from 'node:path';
import type { Observation } from '../src/core/ports';
import { LATENCY_WINDOW, OnnxAgent } from '../src/agents/onnxAgent';
import { findPackageRoot } from '../src/core/packageRoot';

const WARMUP = 200;

export async function benchOnnx(modelPath = join(findPackageRoot(__dirname), 'models', 'demo-policy.onnx')): Promise<{ p50Ms: number; p99Ms: number; n: number }> {
  const agent = await OnnxAgent.load(modelPath, { player: 0 });
  try {
    const ram = new Uint8Array(0x800);
    // Warm-up steps fall out of the agent's window, so the stats cover only the measured steps.
    for (let step = 0; step < WARMUP + LATENCY_WINDOW; step++) {
      const obs: Observation = {
        frame: step, step, episode: 0, player: 0, timestamp: 0, ram,
        vars: { p1_x: (step * 3) & 0xff, item_x: (step * 7) & 0xff },
        reward: 0, terminated: false, truncated: false, info: {},
      };
      await agent.act(obs);
    }
    return agent.latencyStats();
  } finally {
    await agent.close();
  }
}

if (require.main === module) {
  benchOnnx().then(
    (r) => console.log(`onnx demo policy: p50 ${r.p50Ms.toFixed(4)} ms, p99 ${r.p99Ms.toFixed(4)} ms over ${r.n} steps`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
