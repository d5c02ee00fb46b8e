// The import graph of src/: which folder imports which, and the three rules it must keep (core imports only core, folder edges run one way, no file-level cycle).
//
// Usage: node --import tsx scripts/importGraph.ts [--check]
//   prints the folder graph (edges with their import counts), core's inner graph, every cycle and every broken rule;
//   with --check it exits 1 when a rule is broken (test/unit/importGraph.test.ts runs the same analysis).
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

/**
 * The layers, lowest first: a folder may import its own folder and any folder of a lower rank. Equal ranks
 * (emulators and agents; cli and debugAdapter) do not import each other. The webview is a browser bundle on its own:
 * it may use core's pure helpers, and only the extension (which hosts the panels) may import it, for its messages.
 */
export const LAYER_RANK: Readonly<Record<string, number>> = {
  core: 0, bridge: 1, emulators: 2, agents: 2, session: 3, cli: 4, debugAdapter: 4, extension: 5,
};

export function edgeAllowed(from: string, to: string): boolean {
  if (from === to) return true;
  if (from === 'webview') return to === 'core';
  if (to === 'webview') return from === 'extension';
  const a = LAYER_RANK[from];
  const b = LAYER_RANK[to];
  return a !== undefined && b !== undefined && b < a;
}

/** One file's import of another file of src/ (paths relative to the repository, with forward slashes). */
export interface FileEdge { from: string; to: string; specifier: string }

export interface ImportAnalysis {
  files: string[];
  edges: FileEdge[];
  /** "from -> to" folder edges with how many file imports make each. */
  folderEdges: Map<string, number>;
  /** Imports from src/core to another folder of src/. */
  coreLeaks: FileEdge[];
  /** Folder edges against the layer order (each file import that makes one). */
  wrongWay: FileEdge[];
  /** Each import cycle between files, as the files of one strongly connected component. */
  cycles: string[][];
}

/** The folder of src/ a file belongs to: "core" for src/core/sync/frameGate.ts. */
export function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1] : '(src)';
}

/** Core's own sub-folder, for the inner graph: "core/sync" for src/core/sync/frameGate.ts, "core" for src/core/ports.ts. */
function coreAreaOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 3 ? `core/${parts[2]}` : 'core';
}

/** Every module specifier a file imports or re-exports, type-only imports and import() types included. */
function specifiersOf(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  const out = info.importedFiles.map((f) => f.fileName);
  // preProcessFile misses `import('x')` used as a type (typeof import('x')); catch those too.
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) out.push(m[1]);
  return [...new Set(out)];
}

function resolve(from: string, spec: string, known: Set<string>): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = posix.normalize(posix.join(posix.dirname(from), spec));
  for (const c of [base, `${base}.ts`, `${base}/index.ts`]) if (known.has(c)) return c;
  return undefined;
}

/** Analyse a set of source files (repository-relative path -> text). */
export function analyseImports(sources: ReadonlyMap<string, string>): ImportAnalysis {
  const files = [...sources.keys()].sort();
  const known = new Set(files);
  const edges: FileEdge[] = [];
  for (const from of files) {
    for (const specifier of specifiersOf(sources.get(from)!)) {
      const to = resolve(from, specifier, known);
      if (to !== undefined && to !== from) edges.push({ from, to, specifier });
    }
  }
  const folderEdges = new Map<string, number>();
  const coreLeaks: FileEdge[] = [];
  const wrongWay: FileEdge[] = [];
  for (const e of edges) {
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a !== b) {
      const key = `${a} -> ${b}`;
      folderEdges.set(key, (folderEdges.get(key) ?? 0) + 1);
    }
    if (a === 'core' && b !== 'core') coreLeaks.push(e);
    if (!edgeAllowed(a, b)) wrongWay.push(e);
  }
  return { files, edges, folderEdges, coreLeaks, wrongWay, cycles: cyclesOf(files, edges) };
}

/** Tarjan's strongly connected components; every component of more than one file is a cycle. */
function cyclesOf(files: string[], edges: FileEdge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)!.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out;
}

/** The .ts files under src/ of a checkout, keyed by their repository-relative path. */
export function readSources(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) out.set(relative(root, p).split('\\').join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(join(root, 'src'));
  return out;
}

export function problemsOf(a: ImportAnalysis): string[] {
  return [
    ...a.coreLeaks.map((e) => `core imports another folder: ${e.from} -> ${e.to}`),
    ...a.wrongWay.filter((e) => folderOf(e.from) !== 'core')
      .map((e) => `wrong-way import ${folderOf(e.from)} -> ${folderOf(e.to)}: ${e.from} -> ${e.to}`),
    ...a.cycles.map((c) => `import cycle between ${c.length} files: ${c.join(', ')}`),
  ];
}

/** The report the script prints: folder graph, core's inner graph, file counts, and the problems. */
export function describe(a: ImportAnalysis): string {
  const lines: string[] = [];
  const perFolder = new Map<string, number>();
  for (const f of a.files) perFolder.set(folderOf(f), (perFolder.get(folderOf(f)) ?? 0) + 1);
  lines.push(`files: ${a.files.length} (${[...perFolder].map(([k, n]) => `${k} ${n}`).join(', ')})`);
  lines.push(`file imports inside src: ${a.edges.length}`);
  lines.push('', 'folder graph (importer -> imported: number of file imports):');
  for (const [k, n] of [...a.folderEdges].sort()) {
    const [from, to] = k.split(' -> ');
    lines.push(`  ${k}: ${n}${edgeAllowed(from, to) ? '' : '   <-- wrong way'}`);
  }
  const inner = new Map<string, number>();
  for (const e of a.edges) {
    if (folderOf(e.from) !== 'core' || folderOf(e.to) !== 'core') continue;
    const x = coreAreaOf(e.from);
    const y = coreAreaOf(e.to);
    if (x !== y) inner.set(`${x} -> ${y}`, (inner.get(`${x} -> ${y}`) ?? 0) + 1);
  }
  lines.push('', 'inside core (area -> area: number of file imports):');
  if (inner.size === 0) lines.push('  (core is one flat folder)');
  for (const [k, n] of [...inner].sort()) lines.push(`  ${k}: ${n}`);
  lines.push('', `cycles: ${a.cycles.length}`);
  for (const c of a.cycles) lines.push(`  ${c.join(' <-> ')}`);
  const problems = problemsOf(a);
  lines.push('', `problems: ${problems.length}`);
  for (const p of problems) lines.push(`  ${p}`);
  return lines.join('\n');
}

const invoked = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invoked) {
  const root = join(dirname(new URL(import.meta.url).pathname), '..');
  if (!existsSync(join(root, 'src'))) throw new Error(`no src/ folder under ${root}`);
  const analysis = analyseImports(readSources(root));
  process.stdout.write(`${describe(analysis)}\n`);
  if (process.argv.includes('--check') && problemsOf(analysis).length > 0) process.exitCode = 1;
}
