// The README and docs name only commands and launch configurations that exist: every bold "Lockstep: …" is a command title (category + title) in package.json or a demo configuration's name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_CONFIG_NAMES } from '../../src/extension/demoWorkspace';

const ROOT = join(__dirname, '../..');

interface Manifest { contributes: { commands: Array<{ command: string; title: string; category?: string }> } }

test('every bold "Lockstep: …" name in README.md and docs/ is a real command or demo launch configuration', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
  const known = new Set<string>([
    ...manifest.contributes.commands.map((c) => (c.category ? `${c.category}: ${c.title}` : c.title)),
    ...Object.values(DEMO_CONFIG_NAMES),
  ]);
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const named: string[] = [];
  const unknown: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/\*\*(Lockstep: [^*]+)\*\*/g)) {
      named.push(m[1]);
      if (!known.has(m[1])) unknown.push(`${f}: ${m[1]}`);
    }
  }
  assert.ok(named.includes('Lockstep: Open Screen, Buffer and Metrics Panels'), 'the README names the command that opens the panels');
  assert.deepEqual(unknown, [], `names that are neither a command nor a demo configuration; known: ${JSON.stringify([...known])}`);
});
