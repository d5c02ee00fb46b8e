// The lint rules that keep the pure layers free of VS Code and the DOM and the folders importing one way: they must fail on a violation, not just exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { edgeAllowed, LAYER_RANK } from '../../scripts/importGraph';

const ROOT = join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function problems(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return r.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

test('importing vscode from a pure layer is an error; from src/extension it is fine', async () => {
  const code = "// x\nimport * as vscode from 'vscode';\nexport const v = vscode;\n";
  for (const layer of ['src/core', 'src/bridge', 'src/emulators', 'src/agents', 'src/debugAdapter', 'src/session', 'src/cli']) {
    const p = await problems(`${layer}/probe.ts`, code);
    assert.ok(p.some((m) => m.startsWith('no-restricted-imports') && /must not import vscode/.test(m)), `${layer}: ${p.join('; ')}`);
  }
  assert.deepEqual((await problems('src/extension/probe.ts', code)).filter((m) => m.startsWith('no-restricted')), []);
});

test('the DOM and the webview layer are off limits to pure layers', async () => {
  const dom = await problems('src/core/probe.ts', '// x\nexport const t = document.title;\n');
  assert.ok(dom.some((m) => m.startsWith('no-restricted-globals')), dom.join('; '));
  const web = await problems('src/core/probe.ts', "// x\nimport { PROTOCOL } from '../webview/panelMessages';\nexport const p = PROTOCOL;\n");
  assert.ok(web.some((m) => m.startsWith('no-restricted-imports')), web.join('; '));
});

test('a wrong-way import between src/ folders is a lint error, a right-way one is not (the same order as scripts/importGraph.ts)', async () => {
  const folders = [...Object.keys(LAYER_RANK), 'webview'];
  const wrong: string[] = [];
  for (const from of folders) {
    for (const to of folders) {
      if (from === to) continue;
      const code = `// x\nimport { thing } from '../${to}/probeTarget';\nexport const t = thing;\n`;
      const flagged = (await problems(`src/${from}/probe.ts`, code)).some((m) => m.startsWith('no-restricted-imports') && /folders import one way/.test(m));
      if (flagged === edgeAllowed(from, to)) wrong.push(`${from} -> ${to}: lint ${flagged ? 'refuses' : 'allows'} it`);
    }
  }
  assert.deepEqual(wrong, []);
  // Deeper files and deeper targets are caught too: a core sub-folder reaching into an emulator backend.
  const deep = await problems('src/core/sync/probe.ts', "// x\nimport { InProcessEmulator } from '../../emulators/embedded/inProcessEmulator';\nexport const e = InProcessEmulator;\n");
  assert.ok(deep.some((m) => /src\/core must not import src\/emulators/.test(m)), deep.join('; '));
});
