// DAP tests, the Debug Console: completions (commands, buttons, RAM-map names), help with the ROM's own names, errors without notifications, `frames N` answering when done.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { startHarness, demoArgs, ROOT, type Harness } from './dapHarness';

async function complete(h: Harness, text: string, column = text.length + 1): Promise<DebugProtocol.CompletionItem[]> {
  return (await h.dc.send('completions', { text, column, frameId: 1 }) as DebugProtocol.CompletionsResponse).body.targets;
}

/** The raw response, failures included (DebugClient turns a failure into a bare Error). */
function raw(h: Harness, command: string, args: unknown): Promise<DebugProtocol.Response> {
  const client = h.dc as unknown as { doSend(command: string, args: unknown, clb: (r: DebugProtocol.Response) => void): void };
  return new Promise((resolve) => client.doSend(command, args, resolve));
}

const showUser = (r: DebugProtocol.Response) => (r.body as { error?: DebugProtocol.Message } | undefined)?.error?.showUser;

describe('DAP: Debug Console', () => {
  test('completions: commands and RAM-map names at the start, buttons after press, hold/skip after gate, names inside expressions', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js'));
      await h.next('stopped');
      const init = await h.dc.initializeRequest();
      assert.equal(init.body?.supportsCompletionsRequest, true);

      const first = (await complete(h, '')).map((t) => t.label);
      for (const l of ['help', 'press', 'frames', 'back', 'gate', 'wait', 'status', 'frame', 'ram', 'score_p1', 'p1_x']) assert.ok(first.includes(l), `${l} offered on an empty line`);

      const sco = await complete(h, 'sco');
      assert.deepEqual(sco.map((t) => t.label).sort(), ['score_p1', 'score_p2']);
      // The whole word typed so far is replaced: columns start at 1 for this client.
      assert.deepEqual([sco[0].start, sco[0].length], [1, 3]);

      const press = await complete(h, 'press A R');
      assert.deepEqual(press.map((t) => t.label), ['RIGHT']);
      assert.deepEqual([press[0].start, press[0].length], [9, 1]);
      assert.deepEqual((await complete(h, 'press ')).map((t) => t.label), ['A', 'B', 'SELECT', 'START', 'UP', 'DOWN', 'LEFT', 'RIGHT', 'p1', 'p2']);
      assert.deepEqual((await complete(h, 'gate ')).map((t) => t.label), ['hold', 'skip']);
      assert.deepEqual((await complete(h, 'wait o')).map((t) => t.label), ['on', 'off']);
      assert.deepEqual(await complete(h, 'frames 6'), []);

      const inExpr = await complete(h, 'score_p1 >= 3 && p1');
      assert.deepEqual(inExpr.map((t) => t.label), ['p1_x']);
      assert.equal(inExpr[0].start, 'score_p1 >= 3 && '.length + 1);
      // The cursor in the middle of the line: only what is before it counts.
      assert.deepEqual((await complete(h, 'vars.sc + 1', 8)).map((t) => t.label).sort(), ['vars.score_p1', 'vars.score_p2']);
    } finally {
      await h.close();
    }
  });

  test('help names the current ROM\'s RAM-map variables; a ROM without a RAM map gets none, and its unknown names answer in the console only', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js'));
      await h.next('stopped');
      const help = (await h.evaluate('help')).body.result;
      assert.match(help, /this ROM's RAM map names: .*score_p1/);
      assert.match(help, /gate hold\|skip +a late action, as onTimeout in lockstep\.yaml/);
    } finally {
      await h.close();
    }

    // The demo ROM copied alone: same game, no .rammap.json beside it.
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-console-'));
    const rom = join(dir, 'other.nes');
    copyFileSync(join(ROOT, 'roms', 'demo', 'demo.nes'), rom);
    const bare = await startHarness();
    try {
      await bare.launch(demoArgs('idle.js', { rom }));
      await bare.next('stopped');
      const help = (await bare.evaluate('help')).body.result;
      assert.doesNotMatch(help, /p1_x|score_p1/, 'no demo names on another ROM');
      assert.match(help, /this ROM has no RAM map/);
      assert.deepEqual((await complete(bare, 'sc')).map((t) => t.label), [], 'nothing of the demo map');
      const r = await raw(bare, 'evaluate', { expression: 'p1_x', context: 'repl', frameId: 1 });
      assert.equal(r.success, false);
      assert.match(String(r.message), /unknown name "p1_x"/);
      assert.equal(showUser(r), false, 'the Debug Console shows the error; no notification on top');
      // A failed request from elsewhere in the UI still tells the user.
      const scopes = await bare.dc.scopesRequest({ frameId: 1 });
      const game = scopes.body.scopes[0].variablesReference;
      const set = await raw(bare, 'setVariable', { variablesReference: game, name: 'ram', value: 'nonsense(' });
      assert.equal(set.success, false);
      assert.equal(showUser(set), true);
    } finally {
      await bare.close();
    }
  });

  test('`frames N` prints a line when the N frames have run; `gate skip` answers in onTimeout words and the Sync scope agrees', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js'));
      await h.next('stopped');
      const from = await h.frame();
      assert.match((await h.evaluate('frames 5')).body.result, /^running 5 frame\(s\)/);
      await h.next('stopped');
      const done = await h.next('output', (e) => /^ran 5 frame\(s\)/.test(String(e.body.output)));
      assert.equal(String(done.body.output).trim(), `ran 5 frame(s): holding frame ${from + 5}`);
      assert.equal(await h.frame(), from + 5);

      assert.match((await h.evaluate('gate skip')).body.result, /^on timeout: skip \(the frame runs with the late controller's previous buttons\)/);
      assert.equal((await h.variable('Sync', 'on timeout')).value, "skip (the frame runs with the late controller's previous buttons)");
      assert.match((await h.evaluate('status')).body.result, /on timeout skip/);
      await h.evaluate('gate hold');
      assert.equal((await h.variable('Sync', 'on timeout')).value, 'hold (the emulator holds the frame and waits for a late action)');
    } finally {
      await h.close();
    }
  });
});
