// The import graph of src/: core imports nothing outside core, folders import one way, and no files import each other in a circle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { analyseImports, problemsOf, readSources } from '../../scripts/importGraph';

const ROOT = join(__dirname, '..', '..');

test('src/ keeps the layer rules: core is a sink, folder edges run one way, no file-level import cycle', () => {
  const a = analyseImports(readSources(ROOT));
  assert.ok(a.files.length > 100 && a.edges.length > 300, `only ${a.files.length} files and ${a.edges.length} imports found: the scan is broken`);
  assert.ok(a.files.some((f) => f.startsWith('src/core/')) && a.folderEdges.get('session -> core')! > 0, 'the scan sees the folders');
  assert.deepEqual(problemsOf(a), []);
});

test('the check catches a core import of another folder, a wrong-way edge and a cycle, type-only imports included', () => {
  const a = analyseImports(new Map([
    ['src/core/ports.ts', "import type { X } from '../emulators/thing';\nexport type P = X;\n"],
    ['src/emulators/thing.ts', "export type X = number;\nexport { s } from '../session/s';\n"],
    ['src/session/s.ts', 'export const s = 1;\n'],
    ['src/core/sync/a.ts', "import type { B } from './b';\nexport type A = B;\n"],
    ['src/core/sync/b.ts', "import type { A } from './a';\nexport type B = A | 1;\n"],
    ['src/cli/main.ts', "import { s } from '../session/s';\nexport const m = import('../debugAdapter/d');\nvoid s;\n"],
    ['src/debugAdapter/d.ts', 'export const d = 1;\n'],
  ]));
  assert.deepEqual(problemsOf(a), [
    'core imports another folder: src/core/ports.ts -> src/emulators/thing.ts',
    'wrong-way import cli -> debugAdapter: src/cli/main.ts -> src/debugAdapter/d.ts',
    'wrong-way import emulators -> session: src/emulators/thing.ts -> src/session/s.ts',
    'import cycle between 2 files: src/core/sync/a.ts, src/core/sync/b.ts',
  ]);
  assert.equal(a.folderEdges.get('cli -> session'), 1);
});

test('node --import tsx scripts/importGraph.ts --check prints the folder graph and passes on this checkout', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'importGraph.ts'), '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.match(out, /^folder graph/m);
  assert.match(out, /^ {2}session -> core: \d+$/m);
  assert.match(out, /^cycles: 0$/m);
  assert.match(out, /^problems: 0$/m);
});
