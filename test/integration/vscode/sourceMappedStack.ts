// Rewrites stack frames of the bundled suite to .ts source lines: VS Code's extension host installs its own
// Error.prepareStackTrace, which bypasses Node's source-map support, so frames would otherwise name bundle lines.
import { findSourceMap } from 'node:module';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const FRAME = /((?:file:\/\/)?[^\s()]+\.js):(\d+):(\d+)/g;

function toPath(file: string, cwd: string): string {
  if (file.startsWith('file://')) return fileURLToPath(file);
  return isAbsolute(file) ? file : resolve(cwd, file);
}

/** Returns `stack` with each `file.js:line:col` that has a loaded source map replaced by `source.ts:line:col`. */
export function sourceMappedStack(stack: string, cwd: string = process.cwd()): string {
  return stack.replace(FRAME, (whole: string, file: string, line: string, col: string) => {
    const map = findSourceMap(toPath(file, cwd));
    if (!map) return whole;
    const entry = map.findEntry(Number(line) - 1, Number(col) - 1);
    if (!('originalSource' in entry)) return whole;
    const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : entry.originalSource;
    return `${relative(cwd, source)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
