// One esbuild call per target with named entry points: extension, standalone debug adapter, CLI, emulator worker, webviews.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

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
};
const present = (entries) => Object.fromEntries(Object.entries(entries).filter(([, p]) => existsSync(p)));

const common = { bundle: true, minify: production, sourcemap: !production, logLevel: 'warning' };
const targets = [
  { ...common, entryPoints: present(nodeEntries), outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] },
  { ...common, entryPoints: present(webEntries), outdir: 'dist/webview', platform: 'browser', format: 'iife', target: 'es2022' },
].filter((t) => Object.keys(t.entryPoints).length > 0);

if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
