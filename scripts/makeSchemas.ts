// Writes schemas/lockstep.schema.json (from SYNC_SETTINGS, so editor validation cannot drift from the parser) and schemas/rammap.schema.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SYNC_SETTINGS, type SyncSection, type SyncSettingSpec } from '../src/core/config/config';

export type JsonSchema = { [key: string]: unknown };

const DRAFT = 'http://json-schema.org/draft-07/schema#';
const SECTIONS: readonly SyncSection[] = ['synchronization', 'performance', 'recovery'];
const SECTION_TEXT: Record<SyncSection, string> = {
  synchronization: 'Frame synchronisation settings (nested layout, snake_case keys).',
  performance: 'Performance targets and thresholds (nested layout, snake_case keys).',
  recovery: 'Desync recovery settings (nested layout, snake_case keys).',
};
/** Work RAM is $0000-$07FF and PRG-RAM $6000-$7FFF; the parser's bounds for addresses. */
const LAST_RAM_ADDRESS = 0x7ff;
const FIRST_PRG_RAM_ADDRESS = 0x6000;
const LAST_PRG_RAM_ADDRESS = 0x7fff;
/** The parser's bound for warmupFrames (src/core/config/ramMap.ts). */
const MAX_WARMUP_FRAMES = 100_000;

/** The JSON-schema body of one sync setting: type, range or values, default and description. */
export function settingSchema(spec: SyncSettingSpec, shownAs: string): JsonSchema {
  const out: JsonSchema = {};
  if (spec.kind === 'enum') {
    out.type = 'string';
    out.enum = [...(spec.values ?? [])];
  } else {
    out.type = spec.kind === 'int' ? 'integer' : 'number';
    if (spec.min !== undefined) {
      if (spec.minInclusive === false) out.exclusiveMinimum = spec.min;
      else out.minimum = spec.min;
    }
    if (spec.max !== undefined) out.maximum = spec.max;
  }
  out.default = spec.default;
  out.description = `${spec.description} (${shownAs}; default ${spec.default})`;
  return out;
}

const nullable = (schema: JsonSchema): JsonSchema => ({ ...schema, type: [schema.type as string, 'null'] });

/** Schema for lockstep.yaml: the nested layout, the flat `sync:` layout, the other keys, and no setting given twice. */
export function lockstepSchema(settings: readonly SyncSettingSpec[] = SYNC_SETTINGS): JsonSchema {
  const sectionSchema = (section: SyncSection): JsonSchema => {
    const properties: Record<string, JsonSchema> = {};
    for (const s of settings.filter((x) => x.section === section)) properties[s.yamlKey] = settingSchema(s, `sync.${s.key} in the flat layout`);
    return { type: ['object', 'null'], description: SECTION_TEXT[section], properties, additionalProperties: false };
  };
  const flatProperties: Record<string, JsonSchema> = {};
  for (const s of settings) flatProperties[s.key] = settingSchema(s, `${s.section}.${s.yamlKey} in the nested layout`);

  const path = (description: string): JsonSchema => nullable({ type: 'string', minLength: 1, pattern: '\\S', description });
  const maxSteps: JsonSchema = nullable({
    type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER,
    description: 'Episode length limit in steps; episodes stop as truncated there.',
  });

  // The parser rejects a setting given in both layouts and a key given under both spellings.
  const notBoth = (a: string[], b: string[], message: string): JsonSchema => {
    // `required` holds for any non-object, so each part also demands an object (else an empty file would match).
    const needs = (keys: string[]): JsonSchema => keys.length === 1
      ? { type: 'object', required: [keys[0]] }
      : { type: 'object', required: [keys[0]], properties: { [keys[0]]: { type: 'object', required: [keys[1]] } } };
    return { not: { allOf: [needs(a), needs(b)] }, errorMessage: message };
  };
  const exclusions: JsonSchema[] = [
    notBoth(['ramMap'], ['ram_map'], 'ramMap and ram_map are the same setting; give only one'),
    notBoth(['maxSteps'], ['max_steps'], 'maxSteps and max_steps are the same setting; give only one'),
    ...settings.map((s) => notBoth(['sync', s.key], [s.section, s.yamlKey],
      `${s.key} is set twice: sync.${s.key} and ${s.section}.${s.yamlKey}`)),
  ];

  const properties: Record<string, JsonSchema> = {
    sync: {
      type: ['object', 'null'],
      description: 'Sync settings in the flat layout (the camelCase names launch configurations use).',
      properties: flatProperties,
      additionalProperties: false,
    },
  };
  for (const section of SECTIONS) properties[section] = sectionSchema(section);
  Object.assign(properties, {
    rom: path('ROM to run (.nes), relative to the workspace folder.'),
    ramMap: path('RAM map (.rammap.json) naming variables, reward and done flag, relative to the workspace folder.'),
    ram_map: path('Same as ramMap.'),
    maxSteps,
    max_steps: { ...maxSteps, description: 'Same as maxSteps.' },
    record: path('Folder that episode recordings are written to, relative to the workspace folder.'),
  });

  return {
    $schema: DRAFT,
    $id: 'https://github.com/lockstep-nes/lockstep-nes/schemas/lockstep.schema.json',
    title: 'Lockstep configuration (lockstep.yaml)',
    description: 'Synchronisation settings for Lockstep, the NES AI frame debugger. See docs/configuration.md.',
    type: ['object', 'null'],
    properties,
    additionalProperties: false,
    allOf: exclusions,
  };
}

/** Schema for *.rammap.json: what parseRamMap accepts, except the cross-references (reward/done naming a variable, unique names). */
export function ramMapSchema(): JsonSchema {
  const hexDigit = '[0-9a-fA-F]';
  // "0x" and 1-4 hex digits whose value is at most 0x7FF, as parseAddress reads them.
  const hexAddress = `^0[xX](?:${hexDigit}{1,2}|[0-7]${hexDigit}{2}|0[0-7]${hexDigit}{2})$`;
  // "0x6000" to "0x7FFF": PRG-RAM.
  const hexPrgAddress = `^0[xX][67]${hexDigit}{3}$`;
  const frames: JsonSchema = { type: 'integer', minimum: 0, maximum: MAX_WARMUP_FRAMES };
  const variable: JsonSchema = {
    type: 'object',
    required: ['name', 'address'],
    additionalProperties: false,
    properties: {
      name: {
        type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.]*$',
        description: 'Letters, digits, _ and ., not starting with a digit; unique within the map.',
      },
      address: {
        description: 'Address in work RAM $0000-$07FF or cartridge PRG-RAM $6000-$7FFF: a number or a "0x..." hex string.',
        anyOf: [
          { type: 'integer', minimum: 0, maximum: LAST_RAM_ADDRESS },
          { type: 'integer', minimum: FIRST_PRG_RAM_ADDRESS, maximum: LAST_PRG_RAM_ADDRESS },
          { type: 'string', pattern: hexAddress },
          { type: 'string', pattern: hexPrgAddress },
        ],
      },
      size: { enum: [1, 2], default: 1, description: 'Bytes, little-endian.' },
      signed: { type: 'boolean', default: false, description: "Two's complement when true." },
      meaning: { type: 'string', description: 'Text shown in the debugger.' },
      description: { type: 'string', description: 'Same as meaning.' },
    },
    // A 2-byte variable must fit: its first byte can be at most $07FE (work RAM) or $7FFE (PRG-RAM).
    if: { required: ['size'], properties: { size: { const: 2 } } },
    then: {
      properties: {
        address: {
          not: { anyOf: [{ const: LAST_RAM_ADDRESS }, { const: LAST_PRG_RAM_ADDRESS }, { type: 'string', pattern: '^0[xX](?:0?7[fF][fF]|7[fF][fF][fF])$' }] },
          errorMessage: 'a 2-byte variable must start at or below 0x07FE or 0x7FFE',
        },
      },
    },
  };
  const doneCondition: JsonSchema = {
    type: 'object',
    required: ['variable', 'equals'],
    additionalProperties: false,
    properties: {
      variable: { type: 'string', description: 'Name of a variable in this map.' },
      equals: { type: 'integer', description: 'The episode is done when the variable has this value.' },
    },
  };
  return {
    $schema: DRAFT,
    $id: 'https://github.com/lockstep-nes/lockstep-nes/schemas/rammap.schema.json',
    title: 'Lockstep RAM map (*.rammap.json)',
    description: 'Names variables in NES work RAM and defines reward and episode end. See docs/configuration.md.',
    type: 'object',
    required: ['variables'],
    additionalProperties: false,
    properties: {
      $schema: { description: 'Accepted and ignored.' },
      name: { type: 'string', minLength: 1, description: 'Defaults to the file name.' },
      description: { description: 'Accepted and ignored.' },
      comment: { description: 'Accepted and ignored.' },
      rom: { description: 'Accepted and ignored.' },
      warmupFrames: {
        description: 'Frames run with no input after power-on before episode 0 starts: a number, or per emulator.',
        default: 0,
        anyOf: [
          frames,
          { type: 'object', additionalProperties: false, properties: { embedded: frames, fceux: frames } },
        ],
      },
      variables: { type: 'array', items: variable },
      reward: {
        type: ['array', 'null'],
        description: "A player's reward for a frame is the sum of scale x (value after - value before) over its terms.",
        items: {
          type: 'object',
          required: ['variable'],
          additionalProperties: false,
          properties: {
            player: { enum: [0, 1], default: 0 },
            variable: { type: 'string', description: 'Name of a variable in this map.' },
            scale: { type: 'number', default: 1 },
          },
        },
      },
      done: {
        description: 'One condition or a list; the episode is done when any holds.',
        anyOf: [doneCondition, { type: 'array', items: doneCondition }, { type: 'null' }],
      },
    },
  };
}

export const SCHEMA_FILES = {
  'lockstep.schema.json': lockstepSchema,
  'rammap.schema.json': ramMapSchema,
} as const;

export function schemaText(schema: JsonSchema): string {
  return JSON.stringify(schema, null, 2) + '\n';
}

export function writeSchemas(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(SCHEMA_FILES).map(([file, make]) => {
    const out = join(dir, file);
    writeFileSync(out, schemaText(make()));
    return out;
  });
}

if (require.main === module) {
  for (const f of writeSchemas(resolve(__dirname, '..', 'schemas'))) console.log(`wrote ${f}`);
}
