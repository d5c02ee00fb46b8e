// The Variables view's pure parts: memory references for work RAM and PRG-RAM, and the status register as flag letters.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { describeFlags, memoryReferenceFor, parseMemoryReference, parsePrgRamReference, prgRamReferenceFor } from '../../../src/debugAdapter/variablesView';

describe('variablesView: memory references and flags', () => {
  test('PRG-RAM references name $6000-$7FFF and round-trip; anything else is not one', () => {
    assert.equal(prgRamReferenceFor(0x6000), 'prgram');
    assert.equal(prgRamReferenceFor(0x7ff0), 'prgram@0x7ff0');
    assert.equal(parsePrgRamReference('prgram'), 0x6000);
    assert.equal(parsePrgRamReference(prgRamReferenceFor(0x7ff0)), 0x7ff0);
    for (const bad of ['prgram@0x5fff', 'prgram@0x8000', 'ram', 'prgram@6000', 'PRG']) assert.equal(parsePrgRamReference(bad), undefined, bad);
    // Work RAM references stay as they were, and never take PRG-RAM addresses.
    assert.equal(parseMemoryReference(memoryReferenceFor(0x18)), 0x18);
    assert.equal(parseMemoryReference('ram@0x6000'), undefined);
  });

  test('the status register reads NV-BDIZC, upper case when set', () => {
    assert.equal(describeFlags(0x00), 'nv-bdizc');
    assert.equal(describeFlags(0xff), 'NV-BDIZC');
    assert.equal(describeFlags(0x24), 'nv-bdIzc');
    assert.equal(describeFlags(0x83), 'Nv-bdiZC');
  });
});
