// Builds the Marketplace .vsix from a clean staged copy of the tree: production bundle (esbuild.mjs --production), then vsce package.
//
// Usage: node --import tsx scripts/packageVsix.ts [--out FILE]   (npm run package)
// Staging keeps the work tree's dist/ (development build, source maps) untouched and keeps stale files out of the package.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { listZip } from './zipReader';

/** Top-level entries never staged: build output, caches, installed modules (linked instead), VCS data, old packages. */
const NOT_STAGED = new Set(['node_modules', 'dist', 'out', '.git', '.cache', 'test-results', '.vscode-test']);
/** Folder names skipped anywhere below, when the tree is not a git checkout. */
const NOT_STAGED_BELOW = new Set(['__pycache__', 'node_modules', 'results']);
const STEP_TIMEOUT_MS = 300_000;

export interface PackageOptions {
  /** The repository folder (holds package.json, esbuild.mjs, .vscodeignore). */
  root: string;
  /** Where the .vsix goes. */
  outFile: string;
  log?: (line: string) => void;
}

export interface PackageResult {
  vsix: string;
  bytes: number;
  /** What `vsce ls` says the package holds, relative to the extension folder. */
  files: string[];
}

function run(step: string, args: string[], cwd: string): string {
  const r = spawnSync(process.execPath, args, {
    cwd, encoding: 'utf8', timeout: STEP_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
    throw new Error(`${step} failed (${why}):\n${(r.stderr + r.stdout).trim()}`);
  }
  return r.stdout;
}

function vsceBin(root: string): string {
  const manifest = require.resolve('@vscode/vsce/package.json', { paths: [root] });
  return join(dirname(manifest), 'vsce');
}

/**
 * Copies the tree into `stage` (sources, manifest, shipped assets, tests too, so .vscodeignore is what keeps them out).
 * In a git checkout that is every tracked or not-ignored file, so recordings and caches stay behind; else a filtered walk.
 */
export function stageTree(root: string, stage: string): void {
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (git.status === 0) {
    for (const rel of git.stdout.split('\0')) {
      if (rel === '' || NOT_STAGED.has(rel.split('/')[0]) || rel.endsWith('.vsix')) continue;
      const src = join(root, rel);
      // A tracked file deleted in the work tree is not part of what gets packaged.
      if (!existsSync(src)) continue;
      mkdirSync(dirname(join(stage, rel)), { recursive: true });
      cpSync(src, join(stage, rel));
    }
  } else {
    for (const name of readdirSync(root)) {
      if (NOT_STAGED.has(name) || name.endsWith('.vsix')) continue;
      cpSync(join(root, name), join(stage, name), {
        recursive: true,
        filter: (src) => !(statSync(src).isDirectory() && NOT_STAGED_BELOW.has(basename(src))),
      });
    }
  }
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
}

export function packageVsix(options: PackageOptions): PackageResult {
  const log = options.log ?? (() => undefined);
  const root = resolve(options.root);
  const outFile = resolve(options.outFile);
  const stage = mkdtempSync(join(tmpdir(), 'lockstep-vsix-'));
  try {
    stageTree(root, stage);
    log(`staged ${root} in ${stage}`);
    run('node esbuild.mjs --production', ['esbuild.mjs', '--production'], stage);
    log('production bundle built');
    const vsce = vsceBin(root);
    const files = run('vsce ls', [vsce, 'ls', '--no-dependencies'], stage).split('\n').map((l) => l.trim()).filter((l) => l !== '');
    run('vsce package', [vsce, 'package', '--no-dependencies', '--out', outFile], stage);
    return { vsix: outFile, bytes: statSync(outFile).size, files };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Bytes per top-level folder inside the package (uncompressed / compressed), for a one-screen summary. */
export function summarizeVsix(vsix: Buffer): Array<{ folder: string; files: number; size: number; compressed: number }> {
  const byFolder = new Map<string, { folder: string; files: number; size: number; compressed: number }>();
  for (const e of listZip(vsix)) {
    const parts = e.name.split('/');
    const folder = parts.length > 2 && parts[0] === 'extension' ? `extension/${parts[1]}/` : parts.length > 1 ? `${parts[0]}/ (top files)` : '(root)';
    const row = byFolder.get(folder) ?? { folder, files: 0, size: 0, compressed: 0 };
    row.files += 1;
    row.size += e.size;
    row.compressed += e.compressedSize;
    byFolder.set(folder, row);
  }
  return [...byFolder.values()].sort((a, b) => b.size - a.size);
}

if (require.main === module) {
  const root = resolve(__dirname, '..');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true });
  const outFile = values.out ?? join(root, `${manifest.name}-${manifest.version}.vsix`);
  try {
    const result = packageVsix({ root, outFile, log: (l) => console.log(`package: ${l}`) });
    const mb = (n: number) => (n / 1024 / 1024).toFixed(2);
    console.log(`package: ${result.vsix}: ${mb(result.bytes)} MB, ${result.files.length} files`);
    for (const row of summarizeVsix(readFileSync(result.vsix))) {
      console.log(`  ${row.folder.padEnd(28)} ${String(row.files).padStart(3)} files  ${mb(row.size).padStart(7)} MB  (${mb(row.compressed)} MB packed)`);
    }
  } catch (e) {
    console.error(`package: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
