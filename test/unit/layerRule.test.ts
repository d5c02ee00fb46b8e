// The lint rule that keeps the pure layers free of VS Code and the DOM: it must fail on a violation, not just exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function problems(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return r.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

test('importing vscode from a pure layer is an error; from src/extension it is fine', async () => {
  const code = "// x\nimport * as vscode from 'vscode';\nexport const v = vscode;\n";
  for (const layer of ['src/core', 'src/emulators', 'src/agents', 'src/debugAdapter', 'src/session', 'src/cli']) {
    const p = await problems(`${layer}/probe.ts`, code);
    assert.ok(p.some((m) => m.startsWith('no-restricted-imports') && /must not import vscode/.test(m)), `${layer}: ${p.join('; ')}`);
  }
  assert.deepEqual((await problems('src/extension/probe.ts', code)).filter((m) => m.startsWith('no-restricted')), []);
});

test('the DOM and the webview layer are off limits to pure layers', async () => {
  const dom = await problems('src/core/probe.ts', '// x\nexport const t = document.title;\n');
  assert.ok(dom.some((m) => m.startsWith('no-restricted-globals')), dom.join('; '));
  const web = await problems('src/core/probe.ts', "// x\nimport { PROTOCOL } from '../webview/protocol';\nexport const p = PROTOCOL;\n");
  assert.ok(web.some((m) => m.startsWith('no-restricted-imports')), web.join('; '));
});
