// The project venv's Python (made by scripts/setup.sh: gymnasium, numpy, websockets, ray, torch, onnx, lockstep-client).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
export const VENV_PYTHON = join(ROOT, '.cache', 'venv', 'bin', 'python');
/** The built CLI the Python env starts (`npm run build` makes it; npm test builds before the Node tests). */
export const BUILT_CLI = join(ROOT, 'dist', 'cli.js');

/** Throws a clear error when the venv or the built CLI is missing, instead of a confusing spawn failure. */
export function requirePythonSetup(): void {
  if (!existsSync(VENV_PYTHON)) throw new Error(`no project venv at ${VENV_PYTHON}: run scripts/setup.sh`);
  if (!existsSync(BUILT_CLI)) throw new Error(`no built CLI at ${BUILT_CLI}: run npm run build`);
}
