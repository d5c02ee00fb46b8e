// Runs a benchmark on the code as it ships: bench/NAME.ts bundled by esbuild the way dist/ is, never through tsx.
//
// tsx compiles with esbuild's keepNames, which wraps every function and closure in a __name() call that defines its
// name property each time the closure is made: on paths that make closures per frame (promise callbacks, request
// judges) that cost about 30 µs of CPU a frame on the FCEUX lockstep path, which dist/cli.js and the extension never pay; the benches
// compare Lockstep's frames with floors that make none.
//
// Usage: node scripts/runBench.mjs NAME [args...]   (after `npm run build`, which makes the worker and ONNX files)
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [name, ...args] = process.argv.slice(2);
if (!name || !existsSync(join('bench', `${name}.ts`))) {
  console.error(`usage: node scripts/runBench.mjs NAME [args...], with bench/NAME.ts present (got ${name ?? 'nothing'})`);
  process.exit(2);
}
for (const built of ['dist/embeddedWorker.js', 'dist/ort']) {
  if (!existsSync(built)) {
    console.error(`runBench: ${built} is missing: run "npm run build" first`);
    process.exit(2);
  }
}
// .cache/bench sits two levels below the package root, as dist/ and bench/ sit one: the bench's own paths are found
// from the package root (findPackageRoot), and the bundle's neighbours are copied beside it, as in dist/.
const out = join('.cache', 'bench');
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: { [name]: join('bench', `${name}.ts`) },
  outdir: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  external: ['vscode'],
  logLevel: 'warning',
});
cpSync('dist/embeddedWorker.js', join(out, 'embeddedWorker.js'));
cpSync('dist/ort', join(out, 'ort'), { recursive: true });
const r = spawnSync(process.execPath, ['--enable-source-maps', join(out, `${name}.js`), ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
