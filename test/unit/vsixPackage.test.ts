// Builds the .vsix the way `npm run package` does, then checks its size budget, its contents, its manifest, and that the packed CLI and adapter run.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { packageVsix, type PackageResult } from '../../scripts/packageVsix';
import { extractZip, listZip, type ZipEntry } from '../../scripts/zipReader';
import { decodePng } from '../../src/core/png';

const ROOT = resolve(__dirname, '..', '..');
/**
 * Size budget. The ONNX runtime's wasm (~14 MB, ~3.5 MB packed) dominates; the bundles and assets add well under 1 MB
 * packed. 8 MB packed and 20 MB installed leave room to grow while catching an accidental node_modules, an unminified
 * build or a stray recording.
 */
const VSIX_BUDGET_BYTES = 8 * 1024 * 1024;
const INSTALLED_BUDGET_BYTES = 20 * 1024 * 1024;
const RUN_TIMEOUT_MS = 60_000;

type Obj = Record<string, unknown>;
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Obj;

/** The webview bundles esbuild.mjs builds: one per src/webview entry that exists. */
const WEBVIEW_ENTRIES = ['screenPanel', 'bufferPanel', 'metricsPanel'].filter((e) => existsSync(join(ROOT, 'src', 'webview', `${e}.ts`)));
const REQUIRED = [
  'package.json', 'README.md', 'CHANGELOG.md', 'LICENSE',
  'dist/extension.js', 'dist/debugAdapter.js', 'dist/cli.js', 'dist/embeddedWorker.js',
  'dist/ort/ort-wasm-simd-threaded.mjs', 'dist/ort/ort-wasm-simd-threaded.wasm',
  ...WEBVIEW_ENTRIES.map((e) => `dist/webview/${e}.js`),
  'roms/demo/demo.nes', 'roms/demo/demo.rammap.json', 'lua/lockstep.lua',
  'models/demo-policy.onnx', 'models/demo-policy.lockstep.json',
  'media/icon.png', 'schemas/lockstep.schema.json', 'schemas/rammap.schema.json',
  // Create Demo Workspace copies the Python example and its client out of the package.
  'dist/python/random_agent.py', 'dist/python/lockstep_client/__init__.py', 'dist/python/lockstep_client/env.py',
];
/** Things a Marketplace package must never carry, each with the reason shown when it does. */
const FORBIDDEN: Array<[RegExp, string]> = [
  [/^(src|test|scripts|bench|clients|examples|docs|\.ci|\.cache|out|node_modules)\//, 'sources, tests, tools or caches'],
  [/(?<!\.d)\.ts$/, 'TypeScript source'],
  [/\.map$/, 'source map (the package is the production build)'],
  [/^roms\/(?!demo\/demo\.(nes|rammap\.json)$)/, 'ROM sources or other ROMs (only the demo ROM and its RAM map ship)'],
  [/(^|\/)(tsconfig.*\.json|eslint\.config\.mjs|esbuild\.mjs|package-lock\.json|\.vscodeignore|\.gitignore)$/, 'build configuration'],
  [/\.vsix$/, 'an older package'],
];
const SHIPPED_FOLDERS = new Set(['dist', 'roms', 'lua', 'models', 'schemas', 'syntaxes', 'media']);

/** Files the manifest points at (main, icon, schemas, grammars, language configurations, adapter programs). */
function manifestFiles(m: Obj): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v !== 'string' || /^[a-z]+:/i.test(v) || v.startsWith('$(') || !/\.\w+$/.test(v)) return;
    out.add(v.replace(/^\.\//, ''));
  };
  add(m.main);
  add(m.icon);
  const walk = (node: unknown, key: string) => {
    if (Array.isArray(node)) node.forEach((n) => walk(n, key));
    else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) walk(v, k);
    // markdown/svg/image: walkthrough step media.
    else if (['path', 'url', 'program', 'configuration', 'icon', 'iconPath', 'light', 'dark', 'markdown', 'svg', 'image'].includes(key)) add(node);
  };
  walk(m.contributes, 'contributes');
  return [...out];
}

/** Runs node on a packed script from the extracted folder and returns its stdout; a failure shows everything it printed. */
function runPacked(args: string[], cwd: string): string {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: RUN_TIMEOUT_MS, env: { ...process.env, NODE_PATH: '' } });
  assert.equal(r.status, 0, `node ${args.join(' ')} failed (${r.error?.message ?? r.signal ?? r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

function lastJsonLine(stdout: string): Obj {
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Obj;
}

describe('the .vsix package', () => {
  let work: string;
  let result: PackageResult;
  let entries: ZipEntry[];
  let ext: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'lockstep-vsix-test-'));
    result = packageVsix({ root: ROOT, outFile: join(work, 'lockstep-nes.vsix') });
    const zip = readFileSync(result.vsix);
    entries = listZip(zip, result.vsix);
    extractZip(zip, join(work, 'x'), result.vsix);
    ext = join(work, 'x', 'extension');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test(`stays within ${VSIX_BUDGET_BYTES / 1024 / 1024} MB packed and ${INSTALLED_BUDGET_BYTES / 1024 / 1024} MB installed`, () => {
    const installed = entries.reduce((n, e) => n + e.size, 0);
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;
    assert.ok(result.bytes <= VSIX_BUDGET_BYTES, `the .vsix is ${mb(result.bytes)}, over its ${mb(VSIX_BUDGET_BYTES)} budget`);
    assert.ok(installed <= INSTALLED_BUDGET_BYTES, `the package unpacks to ${mb(installed)}, over its ${mb(INSTALLED_BUDGET_BYTES)} budget`);
  });

  test('vsce ls lists no sources, tests, tools, source maps or dev files', () => {
    const bad = result.files.flatMap((f) => FORBIDDEN.filter(([re]) => re.test(f)).map(([, why]) => `${f}: ${why}`));
    assert.deepEqual(bad, []);
    const stray = result.files.filter((f) => f.includes('/') && !SHIPPED_FOLDERS.has(f.split('/')[0]));
    assert.deepEqual(stray, [], 'files outside the shipped folders');
  });

  test('vsce ls lists the bundles, the wasm runtime, the demo ROM, model, Lua bridge, schemas, icon and docs', () => {
    assert.deepEqual(REQUIRED.filter((f) => !result.files.includes(f)), []);
  });

  test('the .vsix holds what vsce ls listed, under extension/', () => {
    // vsce stores README/CHANGELOG/LICENSE under the names the Marketplace expects.
    const renamed: Record<string, string> = { 'README.md': 'readme.md', 'CHANGELOG.md': 'changelog.md', LICENSE: 'LICENSE.txt' };
    const packed = new Set(entries.map((e) => e.name));
    const missing = result.files.map((f) => `extension/${renamed[f] ?? f}`).filter((f) => !packed.has(f));
    assert.deepEqual(missing, []);
    assert.ok(packed.has('extension.vsixmanifest'));
  });

  test('every file package.json points at is in the package', () => {
    const packed = new Set(result.files);
    const referenced = manifestFiles(manifest);
    assert.ok(referenced.includes('dist/extension.js') && referenced.includes('media/icon.png'), `found ${referenced.join(', ')}`);
    assert.deepEqual(referenced.filter((f) => !packed.has(f)), []);
  });

  test('the packed icon is a square PNG of at least 128 px', () => {
    const icon = decodePng(readFileSync(join(ext, 'media', 'icon.png')), 'media/icon.png');
    assert.equal(icon.width, icon.height);
    assert.ok(icon.width >= 128, `icon is ${icon.width} px`);
  });

  test('the packed bundles require nothing but Node built-ins and vscode (every dependency is bundled)', () => {
    // ws probes for these optional native add-ons inside try/catch and works without them.
    const optional = new Set(['bufferutil', 'utf-8-validate']);
    const outside = entries.filter((e) => /^extension\/dist\/.*\.js$/.test(e.name)).flatMap((e) => {
      const code = readFileSync(join(work, 'x', e.name), 'utf8');
      const required = [...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);
      return required
        .filter((r) => !r.startsWith('node:') && !builtinModules.includes(r) && r !== 'vscode' && !optional.has(r))
        .map((r) => `${e.name} requires "${r}"`);
    });
    assert.deepEqual([...new Set(outside)], []);
  });

  test('the packed CLI runs the demo ROM with no node_modules, finding its files beside itself', () => {
    for (let dir = ext; dirname(dir) !== dir; dir = dirname(dir)) {
      assert.ok(!existsSync(join(dir, 'node_modules')), `${dir}/node_modules would hide a missing bundle dependency`);
    }
    const summary = lastJsonLine(runPacked([join(ext, 'dist', 'cli.js'), 'run', '--frames', '120', '--json'], work));
    assert.equal(summary.frames, 120);
    assert.equal(summary.desyncTotal, 0);
    assert.equal((summary.rom as Obj).path, join(ext, 'roms', 'demo', 'demo.nes'));
  });

  test('the packed CLI runs the demo ONNX policy on the wasm runtime shipped in dist/ort', () => {
    const model = join(ext, 'models', 'demo-policy.onnx');
    const summary = lastJsonLine(runPacked([join(ext, 'dist', 'cli.js'), 'run', '--frames', '60', '--agent', `onnx:${model}`, '--json'], work));
    assert.equal(summary.frames, 60);
    assert.deepEqual(summary.agents, [`onnx:${model}`, 'none']);
  });

  test('the packed debug adapter answers initialize over stdio', async () => {
    const adapter = spawn(process.execPath, [join(ext, 'dist', 'debugAdapter.js')], { cwd: work, stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      const response = await new Promise<Obj>((resolveResponse, reject) => {
        const timer = setTimeout(() => reject(new Error('no initialize response within 15 s')), 15_000);
        let buffered = '';
        adapter.stdout.setEncoding('utf8');
        adapter.stdout.on('data', (chunk: string) => {
          buffered += chunk;
          const m = /Content-Length: (\d+)\r\n\r\n/.exec(buffered);
          if (!m) return;
          const body = buffered.slice(m.index + m[0].length);
          if (Buffer.byteLength(body) < Number(m[1])) return;
          clearTimeout(timer);
          resolveResponse(JSON.parse(body.slice(0, Number(m[1]))) as Obj);
        });
        adapter.on('exit', (code) => reject(new Error(`adapter exited with ${code} before answering`)));
        const request = JSON.stringify({
          seq: 1, type: 'request', command: 'initialize',
          arguments: { adapterID: 'lockstep', clientID: 'vsix-test', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true },
        });
        adapter.stdin.write(`Content-Length: ${Buffer.byteLength(request)}\r\n\r\n${request}`);
      });
      assert.equal(response.command, 'initialize');
      assert.equal(response.success, true, JSON.stringify(response));
    } finally {
      adapter.kill();
    }
  });
});

describe('package.json for the Marketplace', () => {
  test('has an icon, banner, categories, keywords, repository, bugs, homepage and license', () => {
    assert.equal(manifest.icon, 'media/icon.png');
    assert.match((manifest.galleryBanner as Obj).color as string, /^#[0-9a-f]{6}$/i);
    assert.deepEqual(manifest.categories, ['Debuggers', 'Machine Learning']);
    const keywords = manifest.keywords as string[];
    assert.ok(keywords.length > 0 && keywords.length <= 30, 'the Marketplace takes at most 30 keywords');
    assert.match((manifest.repository as Obj).url as string, /^https:\/\//);
    assert.match((manifest.bugs as Obj).url as string, /^https:\/\//);
    assert.match(manifest.homepage as string, /^https:\/\//);
    assert.equal(manifest.license, 'MIT');
    assert.ok(existsSync(join(ROOT, 'LICENSE')));
  });

  test('engines.vscode is no older than the @types/vscode the code compiles against', () => {
    const engine = /^\^(\d+)\.(\d+)\.(\d+)$/.exec((manifest.engines as Obj).vscode as string);
    assert.ok(engine, 'engines.vscode is a caret range');
    const typesVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'vscode', 'package.json'), 'utf8')) as Obj).version as string;
    const [tMajor, tMinor] = typesVersion.split('.').map(Number);
    assert.ok(Number(engine[1]) > tMajor || (Number(engine[1]) === tMajor && Number(engine[2]) >= tMinor),
      `engines.vscode ${engine[0]} is older than @types/vscode ${typesVersion}: the extension may call APIs that VS Code lacks`);
  });

  test('declares limited Restricted Mode support and no virtual workspaces', () => {
    const caps = manifest.capabilities as Obj;
    const trust = caps.untrustedWorkspaces as Obj;
    assert.equal(trust.supported, 'limited');
    assert.match(trust.description as string, /Restricted Mode/);
    assert.equal(caps.virtualWorkspaces, false);
  });

  test('npm run package is the staged packager', () => {
    assert.equal((manifest.scripts as Obj).package, 'node --import tsx scripts/packageVsix.ts');
  });
});
