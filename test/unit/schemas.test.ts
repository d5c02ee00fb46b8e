// Tests for the shipped JSON schemas: up to date with scripts/makeSchemas.ts, equal to SYNC_SETTINGS, agreeing with the parsers, registered in package.json.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { SYNC_SETTINGS, defaultSyncConfig, parseLockstepYaml, type SyncSettingSpec } from '../../src/core/config/config';
import { parseRamMap } from '../../src/core/config/ramMap';
import { SCHEMA_FILES, schemaText } from '../../scripts/makeSchemas';
import { schemaErrors } from './schemaCheck';

const ROOT = resolve(__dirname, '..', '..');
type Obj = Record<string, unknown>;
const readJson = (rel: string): Obj => JSON.parse(readFileSync(join(ROOT, rel), 'utf8')) as Obj;
const lockstepSchema = readJson('schemas/lockstep.schema.json');
const ramMapSchema = readJson('schemas/rammap.schema.json');

const parserAccepts = (fn: () => unknown): boolean => {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
};
const yamlVerdicts = (text: string) => ({
  parser: parserAccepts(() => parseLockstepYaml(text, 'lockstep.yaml')),
  schema: schemaErrors(lockstepSchema, parseYaml(text)),
});
const ramMapVerdicts = (value: unknown) => ({
  parser: parserAccepts(() => parseRamMap(JSON.stringify(value), 'test.rammap.json')),
  schema: schemaErrors(ramMapSchema, value),
});

/** The fenced blocks of one language in a Markdown file. */
function fencedBlocks(rel: string, lang: string): string[] {
  const text = readFileSync(join(ROOT, rel), 'utf8');
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

describe('schema files', () => {
  for (const [file, make] of Object.entries(SCHEMA_FILES)) {
    test(`schemas/${file} is what scripts/makeSchemas.ts writes (run it after changing SYNC_SETTINGS)`, () => {
      assert.equal(readFileSync(join(ROOT, 'schemas', file), 'utf8'), schemaText(make()));
    });
  }

  test('every sync setting appears in both layouts with the default, range and values of SYNC_SETTINGS', () => {
    const props = lockstepSchema.properties as Record<string, Obj>;
    const flat = props.sync.properties as Record<string, Obj>;
    assert.deepEqual(Object.keys(flat).sort(), SYNC_SETTINGS.map((s) => s.key).sort());
    const defaults = defaultSyncConfig() as unknown as Obj;
    for (const spec of SYNC_SETTINGS) {
      const nestedProps = props[spec.section].properties as Record<string, Obj>;
      for (const [where, p] of [[`sync.${spec.key}`, flat[spec.key]], [`${spec.section}.${spec.yamlKey}`, nestedProps[spec.yamlKey]]] as const) {
        assert.ok(p, `${where} missing from the schema`);
        assert.equal(p.default, defaults[spec.key], `${where} default`);
        if (spec.kind === 'enum') {
          assert.deepEqual(p.enum, spec.values, `${where} values`);
        } else {
          assert.equal(p.type, spec.kind === 'int' ? 'integer' : 'number', `${where} type`);
          assert.equal(p.maximum, spec.max, `${where} maximum`);
          assert.equal(spec.minInclusive === false ? p.exclusiveMinimum : p.minimum, spec.min, `${where} minimum`);
        }
      }
    }
    for (const section of ['synchronization', 'performance', 'recovery']) {
      const nested = Object.keys(props[section].properties as Obj).sort();
      assert.deepEqual(nested, SYNC_SETTINGS.filter((s) => s.section === section).map((s) => s.yamlKey).sort(), section);
    }
  });
});

describe('lockstep.yaml schema agrees with parseLockstepYaml', () => {
  test('the documented examples of both layouts are valid', () => {
    const blocks = fencedBlocks('docs/configuration.md', 'yaml');
    assert.ok(blocks.length >= 2, 'docs/configuration.md has the two layout examples');
    for (const b of blocks) assert.deepEqual(yamlVerdicts(b), { parser: true, schema: [] }, b);
  });

  const rejected: Array<[string, string]> = [
    ['a misspelt nested key', 'synchronization:\n  frame_timout_ms: 100\n'],
    ['a key in the wrong section', 'performance:\n  max_desync_count: 5\n'],
    ['an unknown top-level key', 'synchronisation:\n  mode: lockstep\n'],
    ['a value out of range', 'sync:\n  snapshotDepth: -5\n'],
    ['a fraction for an integer', 'sync:\n  frameTimeoutMs: 1.5\n'],
    ['targetFps of 0 (must be above 0)', 'performance:\n  target_fps: 0\n'],
    ['an unknown enum value', 'recovery:\n  on_timeout: wait\n'],
    ['a setting given in both layouts', 'synchronization:\n  frame_timeout_ms: 100\nsync:\n  frameTimeoutMs: 200\n'],
    ['ramMap under both spellings', 'ramMap: a.rammap.json\nram_map: b.rammap.json\n'],
    ['maxSteps of 0', 'maxSteps: 0\n'],
    ['a blank rom path', 'rom: "  "\n'],
    ['a list at the top', '- 1\n- 2\n'],
    ['a section that is not a mapping', 'sync: 5\n'],
  ];
  for (const [what, text] of rejected) {
    test(`both reject ${what}`, () => {
      const v = yamlVerdicts(text);
      assert.equal(v.parser, false, 'parser');
      assert.ok(v.schema.length > 0, 'schema');
    });
  }

  const accepted: Array<[string, string]> = [
    ['an empty file', ''],
    ['empty sections', 'sync:\nsynchronization:\nrecovery:\n'],
    ['fractional targetFps', 'performance:\n  target_fps: 60.0988\n'],
    ['snake_case aliases', 'ram_map: x.rammap.json\nmax_steps: 450\n'],
    ['different settings from the two layouts', 'synchronization:\n  mode: runahead\nsync:\n  onTimeout: skip\n'],
  ];
  for (const [what, text] of accepted) {
    test(`both accept ${what}`, () => assert.deepEqual(yamlVerdicts(text), { parser: true, schema: [] }));
  }

  test('random settings in either layout: the schema accepts exactly what the parser accepts', () => {
    const valueFor = (s: SyncSettingSpec) => fc.oneof(
      s.kind === 'enum' ? fc.constantFrom(...s.values!) : fc.constantFrom(s.min!, s.max!, s.default as number),
      fc.constantFrom(-1, 0, 0.5, 1e12, 'lockstep', true, null),
      fc.integer({ min: -10, max: 2_000_000_000 }),
    );
    const entry = fc.constantFrom(...SYNC_SETTINGS).chain((s) => fc.tuple(fc.constant(s), valueFor(s), fc.boolean()));
    fc.assert(fc.property(fc.array(entry, { maxLength: 6 }), (entries) => {
      const doc: Record<string, Obj> = {};
      for (const [s, value, nested] of entries) {
        const [section, key] = nested ? [s.section, s.yamlKey] : ['sync', s.key];
        (doc[section] ??= {})[key] = value;
      }
      const v = yamlVerdicts(JSON.stringify(doc));
      assert.equal(v.schema.length === 0, v.parser, `${JSON.stringify(doc)}: schema says ${v.schema.join('; ') || 'valid'}`);
    }), { numRuns: 300, seed: 20261122 });
  });
});

describe('RAM map schema agrees with parseRamMap', () => {
  test('roms/demo/demo.rammap.json is valid', () => {
    assert.deepEqual(schemaErrors(ramMapSchema, readJson('roms/demo/demo.rammap.json')), []);
    assert.deepEqual(schemaErrors(ramMapSchema, readJson('roms/test/prgram.rammap.json')), [], 'and the PRG-RAM one');
  });

  test('the documented example is valid', () => {
    const [example] = fencedBlocks('docs/configuration.md', 'json');
    assert.deepEqual(ramMapVerdicts(JSON.parse(example)), { parser: true, schema: [] });
  });

  const base = () => ({ variables: [{ name: 'score', address: '0x0010' }, { name: 'done', address: 18 }] });
  const cases: Array<[string, unknown, boolean]> = [
    ['the minimal map', base(), true],
    ['warmupFrames as a number', { ...base(), warmupFrames: 4 }, true],
    ['warmupFrames per emulator', { ...base(), warmupFrames: { embedded: 4, fceux: 5 } }, true],
    ['warmupFrames for an unknown emulator', { ...base(), warmupFrames: { mesen: 4 } }, false],
    ['negative warmupFrames', { ...base(), warmupFrames: -1 }, false],
    ['warmupFrames above 100000', { ...base(), warmupFrames: { fceux: 100001 } }, false],
    ['the last byte of work RAM', { variables: [{ name: 'x', address: '0x07FF' }] }, true],
    ['an address past work RAM', { variables: [{ name: 'x', address: '0x900' }] }, false],
    ['a numeric address past work RAM', { variables: [{ name: 'x', address: 2048 }] }, false],
    ['a 2-byte variable at the last byte', { variables: [{ name: 'x', address: '0x7ff', size: 2 }] }, false],
    ['a 2-byte variable at 0x07FE', { variables: [{ name: 'x', address: 2046, size: 2 }] }, true],
    ['PRG-RAM by hex', { variables: [{ name: 'x', address: '0x6010' }] }, true],
    ['PRG-RAM by number, its last byte', { variables: [{ name: 'x', address: 0x7fff }] }, true],
    ['a 2-byte variable at the last byte of PRG-RAM', { variables: [{ name: 'x', address: '0x7FFF', size: 2 }] }, false],
    ['a 2-byte variable at 0x7FFE', { variables: [{ name: 'x', address: 0x7ffe, size: 2 }] }, true],
    ['below PRG-RAM', { variables: [{ name: 'x', address: '0x5FFF' }] }, false],
    ['past PRG-RAM', { variables: [{ name: 'x', address: 0x8000 }] }, false],
    ['size 3', { variables: [{ name: 'x', address: 1, size: 3 }] }, false],
    ['a "$" address', { variables: [{ name: 'x', address: '$10' }] }, false],
    ['a name starting with a digit', { variables: [{ name: '1up', address: 1 }] }, false],
    ['a dotted name', { variables: [{ name: 'p1.x', address: 1 }] }, true],
    ['an unknown variable field', { variables: [{ name: 'x', address: 1, bits: 8 }] }, false],
    ['an unknown top-level field', { ...base(), rewards: [] }, false],
    ['no variables', { name: 'x' }, false],
    ['player 2 in a reward', { ...base(), reward: [{ player: 2, variable: 'score' }] }, false],
    ['a reward with defaults', { ...base(), reward: [{ variable: 'score' }] }, true],
    ['done as a list', { ...base(), done: [{ variable: 'done', equals: 1 }] }, true],
    ['done with a fractional value', { ...base(), done: { variable: 'done', equals: 1.5 } }, false],
    ['done without equals', { ...base(), done: { variable: 'done' } }, false],
    ['an empty name', { ...base(), name: '' }, false],
  ];
  for (const [what, map, valid] of cases) {
    test(`${valid ? 'both accept' : 'both reject'} ${what}`, () => {
      const v = ramMapVerdicts(map);
      assert.equal(v.parser, valid, `parser: ${JSON.stringify(map)}`);
      assert.equal(v.schema.length === 0, valid, `schema: ${v.schema.join('; ')}`);
    });
  }
});

describe('package.json registers the schemas', () => {
  const manifest = readJson('package.json');
  const contributes = manifest.contributes as Obj;

  test('*.rammap.json files get the RAM map schema', () => {
    const entries = contributes.jsonValidation as Array<{ fileMatch: string | string[]; url: string }>;
    const entry = entries.find((e) => e.url === './schemas/rammap.schema.json');
    assert.ok(entry, 'jsonValidation entry for the RAM map schema');
    assert.deepEqual([entry.fileMatch].flat(), ['*.rammap.json']);
  });

  test('lockstep.yaml and lockstep.yml get the configuration schema', () => {
    const entries = contributes.yamlValidation as Array<{ fileMatch: string | string[]; url: string }>;
    const entry = entries.find((e) => e.url === './schemas/lockstep.schema.json');
    assert.ok(entry, 'yamlValidation entry for the lockstep.yaml schema');
    assert.deepEqual([entry.fileMatch].flat().sort(), ['lockstep.yaml', 'lockstep.yml']);
  });
});
