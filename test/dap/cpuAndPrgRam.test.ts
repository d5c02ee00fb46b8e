// DAP tests, beyond work RAM: the CPU scope (A, X, Y, P, SP, PC), PRG-RAM $6000-$7FFF ("prgram", and RAM-map variables, conditions and data breakpoints there) and the PPU's nametables and palette as memory references, OAM on the embedded emulator (and FCEUX's clear refusal), on the embedded emulator and on a real FCEUX, with roms/test/prgram.nes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { startHarness, demoArgs, ROOT, type Harness } from './dapHarness';

const PRGRAM_ROM = join(ROOT, 'roms', 'test', 'prgram.nes');

async function cpuScope(h: Harness): Promise<Map<string, DebugProtocol.Variable>> {
  const st = await h.dc.stackTraceRequest({ threadId: 1 });
  const scopes = await h.dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
  const cpu = scopes.body.scopes.find((s) => s.name === 'CPU');
  assert.ok(cpu, `a CPU scope among ${scopes.body.scopes.map((s) => s.name).join(', ')}`);
  assert.equal(cpu.presentationHint, 'registers');
  const vars = await h.dc.variablesRequest({ variablesReference: cpu.variablesReference });
  return new Map(vars.body.variables.map((v) => [v.name, v]));
}

async function readPrg(h: Harness, memoryReference: string, offset: number, count: number): Promise<{ address: string; bytes: number[]; unreadable: number }> {
  const r = await h.dc.customRequest('readMemory', { memoryReference, offset, count });
  return { address: r.body.address, bytes: [...Buffer.from(r.body.data ?? '', 'base64')], unreadable: r.body.unreadableBytes ?? 0 };
}

async function stepFrames(h: Harness, count: number): Promise<void> {
  await h.dc.customRequest('lockstep.stepFrames', { count });
  await h.next('stopped', (e) => e.body.reason === 'step', 30_000);
}

/** What prgram.s promises on either emulator once its reset code has run. */
async function checkPrgramRom(h: Harness, emulator: 'embedded' | 'fceux'): Promise<void> {
  await h.next('stopped', undefined, 30_000);
  await stepFrames(h, 5);
  const cpu = await cpuScope(h);
  assert.deepEqual(['A', 'X', 'Y', 'P', 'SP', 'PC', 'prgRam'].filter((n) => !cpu.has(n)), [], 'every register and PRG-RAM are listed');
  assert.equal(cpu.get('A')!.value, '0x12 (18)');
  assert.equal(cpu.get('X')!.value, '0x34 (52)');
  assert.equal(cpu.get('Y')!.value, '0x56 (86)');
  assert.equal(cpu.get('SP')!.value, '0xFF (stack at $01FF)');
  // I set (sei), D clear (cld), C clear (clc); N, V, Z depend on where in the loop the frame ended.
  assert.match(cpu.get('P')!.value, /^0x[0-9A-F]{2} [Nn][Vv]-[Bb]dI[Zz]c$/);
  const pc = parseInt(/^\$([0-9A-F]{4})$/.exec(cpu.get('PC')!.value)?.[1] ?? '', 16);
  assert.ok(pc >= 0xc000 && pc <= 0xc00a, `PC ${cpu.get('PC')!.value} is in the ROM's loop $C000-$C00A`);

  const prg = cpu.get('prgRam')!;
  assert.equal(prg.value, '8 KB PRG-RAM $6000-$7FFF');
  assert.equal(prg.memoryReference, 'prgram');
  const rows = await h.dc.variablesRequest({ variablesReference: prg.variablesReference, start: 0, count: 2 });
  assert.deepEqual(rows.body.variables.map((v) => [v.name, v.memoryReference]), [['$6000', 'prgram'], ['$6010', 'prgram@0x6010']]);
  assert.match(rows.body.variables[0].value, /^4c 4f 43 4b 53 54 45 50 /, '"LOCKSTEP" in the first row');

  const sig = await readPrg(h, 'prgram', 0, 8);
  assert.equal(sig.address, '0x6000');
  assert.equal(Buffer.from(sig.bytes).toString('latin1'), 'LOCKSTEP');
  // The hex view asks around the end: what exists comes back, the rest is unreadable.
  const end = await readPrg(h, 'prgram@0x7ff0', 0, 32);
  assert.equal(end.address, '0x7ff0');
  assert.equal(end.bytes.length, 16);
  assert.equal(end.bytes[15], 0x5a);
  assert.equal(end.unreadable, 16);

  // Read again at the next stop, not cached across frames: the ROM's vblank counter at $6010 moved on.
  const before = (await readPrg(h, 'prgram@0x6010', 0, 1)).bytes[0];
  await stepFrames(h, 10);
  const after = (await readPrg(h, 'prgram@0x6010', 0, 1)).bytes[0];
  assert.ok(after >= before + 5, `the frame counter at $6010 grew over 10 frames: ${before} -> ${after}`);
  assert.equal((await cpuScope(h)).get('A')!.value, '0x12 (18)');

  // The PPU scope: what the ROM wrote through $2006/$2007, as the PPU reads it (horizontal mirroring: $2400 = $2000).
  const st = await h.dc.stackTraceRequest({ threadId: 1 });
  const ppuScope = (await h.dc.scopesRequest({ frameId: st.body.stackFrames[0].id })).body.scopes.find((s) => s.name === 'PPU');
  assert.ok(ppuScope, 'a PPU scope');
  const ppuVars = (await h.dc.variablesRequest({ variablesReference: ppuScope.variablesReference })).body.variables;
  assert.deepEqual(ppuVars.slice(0, 2).map((v) => [v.name, v.memoryReference]), [['nametables', 'nametables'], ['palette', 'palette']]);
  const oamVar = ppuVars.find((v) => v.name === 'oam');
  assert.ok(oamVar, `an oam variable among ${ppuVars.map((v) => v.name).join(', ')}`);
  if (emulator === 'embedded') {
    assert.equal(oamVar.memoryReference, 'oam');
    // prgram.s DMAs page $0200 into OAM: sprite 0 = $20 $4C $01 $30, the other 63 all $FF, whose attribute byte reads
    // back $E3 (bits 2-4 do not exist in OAM, as on the console).
    const oam = await readPrg(h, 'oam', 0, 256);
    assert.equal(oam.address, '0x0000');
    assert.deepEqual(oam.bytes.slice(0, 8), [0x20, 0x4c, 0x01, 0x30, 0xff, 0xff, 0xe3, 0xff]);
    assert.equal(oam.bytes.length, 256);
    assert.deepEqual((await readPrg(h, 'oam@0x00fc', 0, 8)), { address: '0x00fc', bytes: [0xff, 0xff, 0xe3, 0xff], unreadable: 4 });
  } else {
    // FCEUX's Lua API cannot read OAM: the view says so and why, and the memory view gets an error, not made-up bytes.
    assert.equal(oamVar.memoryReference, undefined);
    assert.match(oamVar.value, /^unavailable: OAM \(sprite RAM\) cannot be read from FCEUX: its Lua API \(2\.6\.5\) /);
    await assert.rejects(h.dc.customRequest('readMemory', { memoryReference: 'oam', count: 4 }), /OAM \(sprite RAM\) cannot be read from FCEUX.*"emulator": "embedded"/);
  }
  const nt = await readPrg(h, 'nametables', 0, 8);
  assert.equal(nt.address, '0x2000');
  assert.equal(Buffer.from(nt.bytes).toString('latin1'), 'LOCKSTEP');
  assert.equal(Buffer.from((await readPrg(h, 'nametables@0x2400', 0, 8)).bytes).toString('latin1'), 'LOCKSTEP', '$2400 mirrors $2000');
  assert.deepEqual((await readPrg(h, 'nametables', 0xbff, 1)).bytes, [0xa5]);
  assert.deepEqual((await readPrg(h, 'nametables@0x2fff', 0, 4)), { address: '0x2fff', bytes: [0xa5], unreadable: 3 });
  assert.deepEqual((await readPrg(h, 'palette', 0, 4)).bytes, [0x0f, 0x21, 0x11, 0x01]);
  assert.deepEqual((await readPrg(h, 'palette@0x3f10', 0, 1)).bytes, [0x0f], '$3F10 mirrors $3F00');

  await assert.rejects(h.dc.customRequest('readMemory', { memoryReference: 'prgram@0x8000', count: 1 }), /unknown memory reference "prgram@0x8000"/);
  await assert.rejects(h.dc.customRequest('writeMemory', { memoryReference: 'prgram', data: 'AA==' }), /"prgram" \(8 KB PRG-RAM \$6000-\$7FFF\) is read-only/);
}

/**
 * prgram.rammap.json (found beside the ROM) names variables in PRG-RAM: the Game scope reads them every frame, a frame
 * condition and a data breakpoint on them stop where the ROM's vblank counter at $6010 says, and `ram[0x6010]` reads it.
 */
async function checkPrgRamConditions(h: Harness): Promise<void> {
  await h.next('stopped', undefined, 30_000);
  await stepFrames(h, 5);
  assert.equal((await h.variable('Game', 'signature')).value, '20300 (0x4F4C)', '"LO" little-endian');
  assert.equal((await h.variable('Game', 'last')).value, '90 (0x5A)');
  const frames = parseInt((await h.variable('Game', 'frames')).value, 10);
  assert.ok(frames >= 1, `the vblank counter runs: ${frames}`);
  assert.equal((await h.evaluate('ram[0x6010] == frames', 'repl')).body.result, 'true');

  // A frame condition on a PRG-RAM variable stops on the frame where it becomes true.
  const target = frames + 20;
  const fn = await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: `frames >= ${target}` }] });
  assert.equal(fn.body.breakpoints[0].verified, true, fn.body.breakpoints[0].message);
  await h.dc.continueRequest({ threadId: 1 });
  const hit = await h.next('stopped', (e) => e.body.reason === 'function breakpoint', 30_000);
  assert.match(hit.body.description, new RegExp(`Condition became true: frames >= ${target}`));
  assert.equal(parseInt((await h.variable('Game', 'frames')).value, 10), target, 'stopped on the very frame the counter reached it');
  await h.dc.setFunctionBreakpointsRequest({ breakpoints: [] });

  // A data breakpoint on the same byte, by name and by address.
  const byName = await h.dc.dataBreakpointInfoRequest({ name: 'frames' });
  assert.match(byName.body.description, /^frames \(\$6010, 1 byte\) changes$/);
  const byAddress = await h.dc.dataBreakpointInfoRequest({ name: '0x6010', asAddress: true, bytes: 1 });
  assert.equal(byAddress.body.dataId, byName.body.dataId);
  const outside = await h.dc.dataBreakpointInfoRequest({ name: '0x5fff', asAddress: true, bytes: 1 });
  assert.equal(outside.body.dataId, null);
  assert.match(outside.body.description, /outside work RAM \$0000-\$07FF and PRG-RAM \$6000-\$7FFF/);
  const set = await h.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: byName.body.dataId!, accessType: 'write' }] });
  assert.equal(set.body.breakpoints[0].verified, true);
  await h.dc.continueRequest({ threadId: 1 });
  const changed = await h.next('stopped', (e) => e.body.reason === 'data breakpoint', 30_000);
  assert.equal(changed.body.description, `Changed frames: ${target} -> ${target + 1}`);
  await h.dc.setDataBreakpointsRequest({ breakpoints: [] });

  // Step back: the frame restored carries its PRG-RAM too.
  await h.dc.stepBackRequest({ threadId: 1 });
  await h.next('stopped', (e) => e.body.reason === 'step', 30_000);
  assert.equal(parseInt((await h.variable('Game', 'frames')).value, 10), target);
}

describe('DAP: CPU registers and PRG-RAM', () => {
  test('embedded emulator: the CPU scope shows prgram.nes\'s registers and "prgram" reads its PRG-RAM', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js', { rom: PRGRAM_ROM }));
      await checkPrgramRom(h, 'embedded');
    } finally {
      assert.equal(await h.close(), 0);
    }
  });

  test('real FCEUX: the same registers and PRG-RAM, read through lockstep.lua\'s inspect request', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js', { rom: PRGRAM_ROM, emulator: 'fceux' }));
      await checkPrgramRom(h, 'fceux');
    } finally {
      assert.equal(await h.close(), 0);
    }
  });

  test('embedded emulator: RAM-map variables in PRG-RAM, a frame condition and a data breakpoint on them', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js', { rom: PRGRAM_ROM }));
      await checkPrgRamConditions(h);
    } finally {
      assert.equal(await h.close(), 0);
    }
  });

  test('real FCEUX: the same PRG-RAM variables, condition and data breakpoint (lockstep.lua sends $6000-$7FFF with each state)', async () => {
    const h = await startHarness();
    try {
      await h.launch(demoArgs('idle.js', { rom: PRGRAM_ROM, emulator: 'fceux' }));
      await checkPrgRamConditions(h);
    } finally {
      assert.equal(await h.close(), 0);
    }
  });
});
