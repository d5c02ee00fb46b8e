// Lint: TypeScript rules, plus the layer rule: only src/extension and src/webview may touch vscode or the DOM.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const pureLayers = ['src/core/**', 'src/emulators/**', 'src/agents/**', 'src/session/**', 'src/debugAdapter/**', 'src/cli/**'];

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
  {
    files: pureLayers,
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'The pure layers (core, emulators, agents, debugAdapter, cli) must not import vscode.' }],
        patterns: [{ group: ['**/extension/**', '**/webview/**'], message: 'The pure layers must not import the VS Code or webview layers.' }],
      }],
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
