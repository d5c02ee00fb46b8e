// The Variables view's pure parts: memory references for work RAM, PRG-RAM, nametables, palette and OAM, and the status register as flag letters.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  NAMETABLES_REGION, OAM_REGION, PALETTE_REGION, PRG_RAM_REGION, describeFlags, memoryReferenceFor, parseMemoryReference, parseRegionReference, regionReferenceFor,
} from '../../../src/debugAdapter/variablesView';

describe('variablesView: memory references and flags', () => {
  test('PRG-RAM, nametable and palette references name their own addresses and round-trip; anything else is not one', () => {
    assert.equal(regionReferenceFor(PRG_RAM_REGION, 0x6000), 'prgram');
    assert.equal(regionReferenceFor(PRG_RAM_REGION, 0x7ff0), 'prgram@0x7ff0');
    assert.deepEqual(parseRegionReference('prgram'), { region: PRG_RAM_REGION, address: 0x6000 });
    assert.deepEqual(parseRegionReference('prgram@0x7ff0'), { region: PRG_RAM_REGION, address: 0x7ff0 });
    assert.deepEqual(parseRegionReference('nametables@0x23c0'), { region: NAMETABLES_REGION, address: 0x23c0 });
    assert.deepEqual(parseRegionReference('palette'), { region: PALETTE_REGION, address: 0x3f00 });
    assert.deepEqual(parseRegionReference('oam'), { region: OAM_REGION, address: 0 });
    assert.equal(regionReferenceFor(OAM_REGION, 0xfc), 'oam@0x00fc');
    assert.deepEqual(parseRegionReference('oam@0x00fc'), { region: OAM_REGION, address: 0xfc });
    for (const bad of ['prgram@0x5fff', 'prgram@0x8000', 'ram', 'prgram@6000', 'PRG', 'palette@0x3f20', 'nametables@0x3000', 'oam@0x0100', 'OAM']) {
      assert.equal(parseRegionReference(bad), undefined, bad);
    }
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
