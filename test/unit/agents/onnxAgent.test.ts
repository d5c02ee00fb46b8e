// Tests the ONNX agent on the shipped demo policy: hand-computed outputs, actions, seeded sampling, latency stats, load errors.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Observation } from '../../../src/core/ports';
import { LATENCY_WINDOW, OnnxAgent } from '../../../src/agents/onnxAgent';
import { OnnxPolicy, sidecarPathFor } from '../../../src/agents/onnxPolicy';
import { BUTTON } from '../../../src/core/buttons';

const shipped = join(__dirname, '..', '..', '..', 'models', 'demo-policy.onnx');
const tmp = mkdtempSync(join(tmpdir(), 'lockstep-onnx-agent-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function obs(vars: Record<string, number>, frame = 0, ram = new Uint8Array(0x800)): Observation {
  return { frame, step: frame, episode: 0, player: 0, timestamp: 0, ram, vars, reward: 0, terminated: false, truncated: false, info: {} };
}

/**
 * The demo MLP by hand, straight from its definition: d = item_x - p1_x - 8 (8-pixel item centred over the 24-pixel paddle),
 * logits [NOOP, LEFT, RIGHT] = [4, relu(-d), relu(d)] / 8.
 */
function handLogits(p1x: number, itemX: number): number[] {
  const d = itemX - p1x - 8;
  return [4 / 8, Math.max(0, -d) / 8, Math.max(0, d) / 8];
}

describe('OnnxAgent on the shipped demo policy', () => {
  test('outputs match the hand computation of the MLP', async () => {
    const policy = await OnnxPolicy.load(shipped);
    try {
      assert.equal(policy.inputName, 'obs');
      assert.equal(policy.outputName, 'logits');
      for (const [p1x, itemX] of [[100, 150], [100, 90], [100, 112], [0, 255], [255, 0], [37, 41], [200, 215]]) {
        const { output } = await policy.step(obs({ p1_x: p1x, item_x: itemX }));
        const want = handLogits(p1x, itemX);
        assert.equal(output.length, 3);
        for (let i = 0; i < 3; i++) assert.ok(Math.abs(output[i] - want[i]) < 1e-5, `(${p1x}, ${itemX}) logit ${i}: ${output[i]} vs ${want[i]}`);
      }
    } finally {
      await policy.close();
    }
  });

  test('moves the paddle toward the item and answers for the frame it was asked', async () => {
    const agent = await OnnxAgent.load(shipped, { player: 1 });
    try {
      assert.equal(agent.wantsScreen, false);
      assert.equal(agent.name, 'onnx(demo-policy.onnx, controller 2)');
      assert.deepEqual(await agent.act(obs({ p1_x: 40, item_x: 200 }, 17)), { frame: 17, buttons: BUTTON.RIGHT, info: { action: 2 } });
      assert.deepEqual(await agent.act(obs({ p1_x: 200, item_x: 40 }, 18)), { frame: 18, buttons: BUTTON.LEFT, info: { action: 1 } });
      // Within the 4-pixel dead zone around centred (d = 0) it holds still.
      assert.deepEqual(await agent.act(obs({ p1_x: 100, item_x: 111 }, 19)), { frame: 19, buttons: 0, info: { action: 0 } });
      assert.equal((await agent.act(obs({ p1_x: 100, item_x: 104 }, 20))).buttons, 0);
      assert.equal((await agent.act(obs({ p1_x: 100, item_x: 113 }, 21))).buttons, BUTTON.RIGHT);
      assert.equal((await agent.act(obs({ p1_x: 100, item_x: 103 }, 22))).buttons, BUTTON.LEFT);
    } finally {
      await agent.close();
    }
  });

  test('an injected RAM map supplies the variables', async () => {
    const ramMap = { read: (ram: Uint8Array) => ({ p1_x: ram[0x20], item_x: ram[0x21] }) };
    const agent = await OnnxAgent.load(shipped, { player: 0, ramMap });
    try {
      const ram = new Uint8Array(0x800);
      ram[0x20] = 10;
      ram[0x21] = 120;
      assert.equal((await agent.act(obs({}, 0, ram))).buttons, BUTTON.RIGHT);
      ram[0x20] = 220;
      assert.equal((await agent.act(obs({}, 1, ram))).buttons, BUTTON.LEFT);
    } finally {
      await agent.close();
    }
  });

  test('sampling is reproducible from the seed; the load option overrides the sidecar seed', async () => {
    const model = join(tmp, 'sampled.onnx');
    copyFileSync(shipped, model);
    writeFileSync(sidecarPathFor(model), JSON.stringify({
      input: { kind: 'ram', variables: ['p1_x', 'item_x'], scale: 1 / 256 },
      output: { kind: 'sample', actions: [[], ['LEFT'], ['RIGHT']], temperature: 4 },
      seed: 5,
    }));
    const run = async (seed?: number) => {
      const agent = await OnnxAgent.load(model, { player: 0, seed });
      try {
        const out: number[] = [];
        for (let f = 0; f < 60; f++) out.push((await agent.act(obs({ p1_x: 100, item_x: 130 }, f))).buttons);
        return out;
      } finally {
        await agent.close();
      }
    };
    const a = await run();
    assert.deepEqual(await run(), a);
    assert.deepEqual(await run(5), a);
    assert.notDeepEqual(await run(6), a);
    // logits [0.5, 0, 2.75] at temperature 4: every action is likely enough to show up in 60 draws.
    assert.deepEqual(new Set(a), new Set([0, BUTTON.LEFT, BUTTON.RIGHT]));
  });

  test('latencyStats: nearest-rank p50/p99 over the last 1000 steps', async () => {
    // A fake clock: step k (1-based) takes k ms.
    let t = 0;
    let calls = 0;
    const now = () => {
      calls++;
      if (calls % 2 === 0) t += calls / 2;
      return t;
    };
    const agent = await OnnxAgent.load(shipped, { player: 0 }, now);
    try {
      assert.deepEqual(agent.latencyStats(), { p50Ms: 0, p99Ms: 0, n: 0 });
      for (let k = 1; k <= 10; k++) await agent.act(obs({ p1_x: 1, item_x: 2 }, k));
      assert.deepEqual(agent.latencyStats(), { p50Ms: 5, p99Ms: 10, n: 10 });
      for (let k = 11; k <= 1500; k++) await agent.act(obs({ p1_x: 1, item_x: 2 }, k));
      // The window holds steps 501..1500.
      assert.deepEqual(agent.latencyStats(), { p50Ms: 1000, p99Ms: 1490, n: LATENCY_WINDOW });
    } finally {
      await agent.close();
    }
  });

  test('a variable missing from the observation is reported with the sidecar file', async () => {
    const agent = await OnnxAgent.load(shipped, { player: 0 });
    try {
      await assert.rejects(agent.act(obs({ p1_x: 3 })), /demo-policy\.lockstep\.json: input\.variables\[1\] "item_x" is not a RAM-map variable \(known: p1_x\)/);
    } finally {
      await agent.close();
    }
  });

  test('a sidecar with more variables than the model takes is refused at load', async () => {
    const model = join(tmp, 'wide.onnx');
    copyFileSync(shipped, model);
    writeFileSync(sidecarPathFor(model), JSON.stringify({
      input: { kind: 'ram', variables: ['p1_x', 'item_x', 'item_y'] },
      output: { kind: 'argmax', actions: [[], ['LEFT'], ['RIGHT']] },
    }));
    await assert.rejects(OnnxAgent.load(model, { player: 0 }), /input shape mismatch: .*wide\.onnx input "obs" has shape \[batch, 2\] but .*wide\.lockstep\.json \(input\.kind "ram"\) produces \[1, 3\]/);
    writeFileSync(sidecarPathFor(model), JSON.stringify({
      input: { kind: 'ram', variables: ['p1_x', 'item_x'] },
      output: { kind: 'argmax', actions: [[], ['LEFT'], ['RIGHT'], ['A']] },
    }));
    await assert.rejects(OnnxAgent.load(model, { player: 0 }), /output size mismatch: .*output "logits" has shape \[batch, 3\] but .* lists 4 actions/);
  });
});
