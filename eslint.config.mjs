// Lint: TypeScript rules, plus the layer rules: only src/extension and src/webview may touch vscode or the DOM, and src/ folders import one way only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The folder layers, lowest first (scripts/importGraph.ts checks the same order on the whole graph): a folder may
 * import its own folder and any lower one; equal ranks do not import each other. The webview stands alone: it may use
 * core's pure helpers, and only the extension (which hosts the panels) imports it, for the panel messages.
 */
const LAYER_RANK = { core: 0, bridge: 1, emulators: 2, agents: 2, session: 3, cli: 4, debugAdapter: 4, extension: 5 };
const FOLDERS = [...Object.keys(LAYER_RANK), 'webview'];
function edgeAllowed(from, to) {
  if (from === to) return true;
  if (from === 'webview') return to === 'core';
  if (to === 'webview') return from === 'extension';
  return LAYER_RANK[to] < LAYER_RANK[from];
}
const pureLayers = ['core', 'bridge', 'emulators', 'agents', 'session', 'debugAdapter', 'cli'];
const VSCODE_BANNED = { name: 'vscode', message: 'The pure layers (core, bridge, emulators, agents, session, debugAdapter, cli) must not import vscode.' };

/** One config per folder: the folders it must not import (and vscode for the pure layers). */
const folderRules = FOLDERS.map((from) => {
  const banned = FOLDERS.filter((to) => !edgeAllowed(from, to));
  return {
    files: [`src/${from}/**`],
    rules: {
      'no-restricted-imports': ['error', {
        paths: pureLayers.includes(from) ? [VSCODE_BANNED] : [],
        patterns: banned.map((to) => ({
          group: [`**/${to}/**`, `**/${to}`],
          message: `src/${from} must not import src/${to}: folders import one way (core <- bridge <- emulators/agents <- session <- cli/debugAdapter <- extension; webview alone).`,
        })),
      }],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.cache/**', 'clients/**', 'lua/**', 'roms/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...folderRules,
  {
    files: pureLayers.map((l) => `src/${l}/**`),
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-globals': ['error',
        { name: 'window', message: 'No DOM in the pure layers.' },
        { name: 'document', message: 'No DOM in the pure layers.' },
        { name: 'navigator', message: 'No DOM in the pure layers.' },
        { name: 'HTMLElement', message: 'No DOM in the pure layers.' },
      ],
    },
  },
  {
    files: ['src/webview/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
