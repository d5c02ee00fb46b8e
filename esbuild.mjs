// One esbuild call per target with named entry points: extension, standalone debug adapter, CLI, emulator worker, webviews.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, copyFileSync, readdirSync, chmodSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const nodeEntries = {
  extension: 'src/extension/extension.ts',
  debugAdapter: 'src/debugAdapter/main.ts',
  cli: 'src/cli/main.ts',
  embeddedWorker: 'src/emulators/embedded/embeddedWorker.ts',
};
const webEntries = {
  screenPanel: 'src/webview/screenPanel.ts',
  bufferPanel: 'src/webview/bufferPanel.ts',
  metricsPanel: 'src/webview/metricsPanel.ts',
  timelinePanel: 'src/webview/timelinePanel.ts',
  agentViewPanel: 'src/webview/agentViewPanel.ts',
};
const present = (entries) => Object.fromEntries(Object.entries(entries).filter(([, p]) => existsSync(p)));

const common = { bundle: true, minify: production, sourcemap: !production, logLevel: 'warning' };
const targets = [
  { ...common, entryPoints: present(nodeEntries), outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] },
  { ...common, entryPoints: present(webEntries), outdir: 'dist/webview', platform: 'browser', format: 'iife', target: 'es2022' },
].filter((t) => Object.keys(t.entryPoints).length > 0);

// The ONNX runtime's wasm backend loads these two files at run time (from dist/ort beside the bundle).
const ORT_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
mkdirSync('dist/ort', { recursive: true });
for (const f of ORT_FILES) copyFileSync(`node_modules/onnxruntime-web/dist/${f}`, `dist/ort/${f}`);

// "Create Demo Workspace" writes the Python example and the client it imports from the installed package (dist/python).
mkdirSync('dist/python/lockstep_client', { recursive: true });
copyFileSync('examples/python/random_agent.py', 'dist/python/random_agent.py');
for (const f of readdirSync('clients/python/lockstep_client').filter((n) => n.endsWith('.py'))) {
  copyFileSync(`clients/python/lockstep_client/${f}`, `dist/python/lockstep_client/${f}`);
}

if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  // package.json's "bin" points at dist/cli.js: esbuild keeps the entry's #! line, and the file must be executable for
  // `npm link` / `npx lockstep` (and a plain `./dist/cli.js`) to run it.
  if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
}
