// Tests for the wire-message validators: every message type accepted, bad fields named, errors short, round trips.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_ERROR_CHARS, decodeBase64Ram, encode, encodeBase64,
  parseAgentToBridge, parseBridgeToAgent, parseBridgeToEmulator, parseEmulatorToBridge, type Parsed, MAX_INFO_BYTES, MAX_INFO_DEPTH,
} from '../../../src/bridge/protocolCodec';
import type { AgentToBridge, BridgeToAgent, BridgeToEmulator, EmulatorToBridge } from '../../../src/bridge/protocol';
import { BUTTON } from '../../../src/core/buttons';

const shared = [
  { type: 'heartbeat', seq: 3, timestamp: 1712345678901.25 },
  { type: 'heartbeat_ack', seq: 3, timestamp: 1712345678902 },
  { type: 'ping', id: 7, t0: 1000.5 },
  { type: 'pong', id: 7, t0: 1000.5, t1: 1001.75 },
  { type: 'error', code: 'bad_frame', message: 'frame 12 expected' },
] as const;

const emulatorToBridge: EmulatorToBridge[] = [
  { type: 'hello', role: 'emulator', protocol: 1, token: 'secret', emulator: 'fceux 2.6.5', rom: { name: 'demo.nes', md5: '0123456789abcdef0123456789abcdef' } },
  { type: 'state', frame: 120, timestamp: 1712345678901, ram: 'AAEC/w==', lag: false, screen: true },
  { type: 'savestate_ack', op: 'save', slot: 4, frame: 120 },
  { type: 'write_ram_ack', address: 0x10, length: 2 },
  { type: 'inspect_reply', frame: 7, registers: { a: 0x12, x: 0x34, y: 0x56, p: 0x24, sp: 0xff, pc: 0xc003 }, prgRam: Buffer.alloc(0x2000, 0xa5).toString('base64'), nametables: Buffer.alloc(0x1000, 1).toString('base64'), palette: Buffer.alloc(0x20, 0x0f).toString('base64') },
  ...shared,
];

const bridgeToEmulator: BridgeToEmulator[] = [
  { type: 'welcome', protocol: 1, session: 's1', ram: [[0, 0x800]], screen: false },
  { type: 'action', frame: 120, buttons: [BUTTON.A | BUTTON.RIGHT, 0] },
  { type: 'action', frame: 121, buttons: [0, 255], screen: true },
  { type: 'savestate', op: 'load', slot: 4 },
  { type: 'write_ram', address: 0x7fe, data: 'AAE=' },
  { type: 'reset' },
  { type: 'inspect' },
  { type: 'configure', screen: true, ram: [[0x10, 4], [0x300, 0x100]] },
  { type: 'configure' },
  { type: 'resync_request', timestamp: 5, reason: 'frame gap' },
  { type: 'resync_request', timestamp: 5 },
  { type: 'quit', code: 0, reason: 'done' },
  { type: 'quit' },
  ...shared,
];

const agentToBridge: AgentToBridge[] = [
  { type: 'hello', role: 'agent', protocol: 1, token: 't', player: 1, name: 'dqn', screen: { format: 'gray', downsample: 4 } },
  { type: 'hello', role: 'agent', protocol: 1, token: 't', screen: null },
  { type: 'hello', role: 'agent', protocol: 1, token: 't' },
  { type: 'action', frame: 5, buttons: 0x81, info: { value: 0.5 } },
  { type: 'action', frame: 6, buttons: 0 },
  { type: 'terminate', frame: 99 },
  { type: 'resync_request', timestamp: 1 },
  { type: 'quit', reason: 'bye' },
  ...shared,
];

const bridgeToAgent: BridgeToAgent[] = [
  {
    type: 'welcome', protocol: 1, session: 's', player: 0, rom: 'demo.nes', vars: ['score_p1', 'done'], maxSteps: 3000,
    buttons: ['A', 'B', 'SELECT', 'START', 'UP', 'DOWN', 'LEFT', 'RIGHT'], screen: { format: 'rgba', downsample: 1 },
  },
  { type: 'welcome', protocol: 1, session: 's', player: 1, rom: 'x', vars: [], maxSteps: null, buttons: [], screen: null },
  {
    type: 'state', frame: 10, step: 0, episode: 2, timestamp: 1.5, vars: { score_p1: 3, x: -1 }, reward: 0.25,
    terminated: false, truncated: false, info: { lag: false }, screen: false,
  },
  { type: 'episode_end', episode: 2, terminationFrame: 400, rows: 390, reason: 'done_flag' },
  ...shared,
];

function ok<T>(r: Parsed<T>): T {
  if (!r.ok) assert.fail(`expected success, got error: ${r.error}`);
  return r.msg;
}

function err<T>(r: Parsed<T>): string {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.msg).slice(0, 200)}`);
  assert.ok(r.error.length <= MAX_ERROR_CHARS, `error longer than ${MAX_ERROR_CHARS}: ${r.error.length}`);
  return r.error;
}

describe('protocolCodec: every message type round-trips through encode and parse', () => {
  const cases: Array<[string, object[], (t: string) => Parsed<unknown>]> = [
    ['emulator→bridge', emulatorToBridge, parseEmulatorToBridge],
    ['bridge→emulator', bridgeToEmulator, parseBridgeToEmulator],
    ['agent→bridge', agentToBridge, parseAgentToBridge],
    ['bridge→agent', bridgeToAgent, parseBridgeToAgent],
  ];
  for (const [name, msgs, parse] of cases) {
    test(name, () => {
      for (const m of msgs) assert.deepEqual(ok(parse(encode(m as EmulatorToBridge))), m, JSON.stringify(m));
    });
  }
});

describe('protocolCodec: errors name the message type and field', () => {
  test('negative frame id', () => {
    assert.equal(err(parseBridgeToEmulator('{"type":"action","frame":-3,"buttons":[0,0]}')), 'action.frame must be a non-negative integer, got -3');
  });

  test('fractional and unsafe frame ids', () => {
    assert.match(err(parseAgentToBridge('{"type":"action","frame":1.5,"buttons":0}')), /^action\.frame must be a non-negative integer, got 1\.5$/);
    assert.match(err(parseEmulatorToBridge(`{"type":"state","frame":${2 ** 53},"timestamp":1,"ram":"","lag":false,"screen":false}`)), /^state\.frame /);
  });

  test('an action\'s info is recorded with the row: bounded in depth and size, else refused naming action.info', () => {
    const ok = parseAgentToBridge('{"type":"action","frame":3,"buttons":0,"info":{"value":0.42,"logits":[1,2,3],"nested":{"a":{"b":1}}}}');
    assert.ok(ok.ok && ok.msg.type === 'action');
    assert.deepEqual(ok.ok && ok.msg.type === 'action' ? ok.msg.info : null, { value: 0.42, logits: [1, 2, 3], nested: { a: { b: 1 } } });
    const deep = (n: number) => '{"type":"action","frame":3,"buttons":0,"info":' + '{"a":'.repeat(n) + '1' + '}'.repeat(n) + '}';
    assert.ok(parseAgentToBridge(deep(MAX_INFO_DEPTH)).ok, 'as deep as allowed');
    assert.match(err(parseAgentToBridge(deep(MAX_INFO_DEPTH + 1))), new RegExp(`^action\\.info must be an object nested at most ${MAX_INFO_DEPTH} levels deep`));
    assert.match(err(parseAgentToBridge(deep(100_000))), /^action\.info must be an object nested at most/);
    const big = `{"type":"action","frame":3,"buttons":0,"info":{"x":"${'y'.repeat(MAX_INFO_BYTES)}"}}`;
    assert.match(err(parseAgentToBridge(big)), new RegExp(`^action\\.info must be at most ${MAX_INFO_BYTES} bytes as JSON \\(got ${MAX_INFO_BYTES + 8}\\)`));
  });

  test('a state\'s info has the same bounds (a client\'s deep comparison of one 1235 levels deep overflowed the stack)', () => {
    const state = (info: string) => `{"type":"state","frame":120,"step":120,"episode":0,"timestamp":1.5,"vars":{},"reward":1,"terminated":false,"truncated":false,"info":${info},"screen":false}`;
    assert.ok(parseBridgeToAgent(state('{"lag":false}')).ok);
    assert.match(err(parseBridgeToAgent(state('{"a":'.repeat(1235) + '1' + '}'.repeat(1235)))), new RegExp(`^state\\.info must be an object nested at most ${MAX_INFO_DEPTH} levels deep`));
  });

  test('missing field', () => {
    assert.equal(err(parseEmulatorToBridge('{"type":"state","frame":1,"ram":"","lag":false,"screen":false}')), 'state.timestamp must be a finite number, got undefined');
  });

  test('timestamp overflowing to Infinity is not finite', () => {
    assert.match(err(parseAgentToBridge('{"type":"heartbeat","seq":1,"timestamp":1e999}')), /^heartbeat\.timestamp must be a finite number, got Infinity$/);
  });

  test('RAM that is not base64', () => {
    assert.match(err(parseEmulatorToBridge('{"type":"state","frame":1,"timestamp":1,"ram":"AAE","lag":false,"screen":false}')), /^state\.ram must be a base64 string/);
    assert.match(err(parseEmulatorToBridge('{"type":"state","frame":1,"timestamp":1,"ram":"AA-_","lag":false,"screen":false}')), /^state\.ram must be a base64 string/);
  });

  test('emulator buttons must be a pair of masks', () => {
    assert.match(err(parseBridgeToEmulator('{"type":"action","frame":1,"buttons":[0]}')), /^action\.buttons must be a pair/);
    assert.equal(err(parseBridgeToEmulator('{"type":"action","frame":1,"buttons":[0,256]}')), 'action.buttons[1] must be a button mask 0..255, got 256');
  });

  test('agent buttons: names become a mask, unknown names and bad masks are refused', () => {
    const a = ok(parseAgentToBridge('{"type":"action","frame":1,"buttons":["a","Right"]}'));
    assert.equal(a.type === 'action' && a.buttons, BUTTON.A | BUTTON.RIGHT);
    assert.match(err(parseAgentToBridge('{"type":"action","frame":1,"buttons":["A","JUMP"]}')), /^action\.buttons: unknown button "JUMP"/);
    assert.match(err(parseAgentToBridge('{"type":"action","frame":1,"buttons":-1}')), /^action\.buttons must be a button mask 0\.\.255 or a list of button names, got -1$/);
    assert.match(err(parseAgentToBridge('{"type":"action","frame":1,"buttons":"A"}')), /^action\.buttons must be/);
    assert.match(err(parseAgentToBridge('{"type":"action","frame":1,"buttons":0,"info":[1]}')), /^action\.info must be an object/);
  });

  test('hello: wrong role, bad md5, bad screen request', () => {
    assert.match(err(parseEmulatorToBridge('{"type":"hello","role":"agent","protocol":1,"token":"t","emulator":"x","rom":{"name":"a","md5":"0123456789abcdef0123456789abcdef"}}')), /^hello\.role must be one of "emulator", got "agent"$/);
    assert.match(err(parseEmulatorToBridge('{"type":"hello","role":"emulator","protocol":1,"token":"t","emulator":"x","rom":{"name":"a","md5":"xyz"}}')), /^hello\.rom\.md5 must be 32 hex digits/);
    const noHash = ok(parseEmulatorToBridge('{"type":"hello","role":"emulator","protocol":1,"token":"t","emulator":"fceux","rom":{"name":"","md5":""}}'));
    assert.equal(noHash.type === 'hello' && noHash.rom.md5, '');
    assert.match(err(parseAgentToBridge('{"type":"hello","role":"agent","protocol":1,"token":"t","screen":{"format":"rgba","downsample":3}}')), /^hello\.screen\.downsample must be one of 1, 2, 4, 8, got 3$/);
    assert.match(err(parseAgentToBridge('{"type":"hello","role":"agent","protocol":1,"token":"t","player":2}')), /^hello\.player must be one of 0, 1, got 2$/);
  });

  test('hello without a token (token given in the URL query) parses with an empty token', () => {
    const h = ok(parseAgentToBridge('{"type":"hello","role":"agent","protocol":1}'));
    assert.equal(h.type === 'hello' && h.token, '');
  });

  test('RAM ranges and write_ram stay inside the address space', () => {
    assert.match(err(parseBridgeToEmulator('{"type":"welcome","protocol":1,"session":"s","ram":[[65535,2]],"screen":false}')), /^welcome\.ram\[0\]\[1\] must be a length >= 1/);
    assert.match(err(parseBridgeToEmulator('{"type":"configure","ram":[[1]]}')), /^configure\.ram\[0\] must be a \[start, length\] pair/);
    assert.match(err(parseBridgeToEmulator('{"type":"write_ram","address":65535,"data":"AAE="}')), /^write_ram\.data must hold 1\.\.1 bytes at address 65535, got 2$/);
    assert.match(err(parseBridgeToEmulator('{"type":"write_ram","address":0,"data":""}')), /^write_ram\.data must hold/);
  });

  test('inspect_reply: registers in range and exactly 8 KB of PRG-RAM', () => {
    const prgRam = Buffer.alloc(0x2000).toString('base64');
    const ppu = { nametables: Buffer.alloc(0x1000).toString('base64'), palette: Buffer.alloc(0x20).toString('base64') };
    const regs = { a: 0, x: 0, y: 0, p: 0, sp: 0, pc: 0 };
    assert.match(err(parseEmulatorToBridge(JSON.stringify({ type: 'inspect_reply', frame: 1, registers: { ...regs, a: 256 }, prgRam, ...ppu }))), /^inspect_reply\.registers\.a must be an integer in 0\.\.255/);
    assert.match(err(parseEmulatorToBridge(JSON.stringify({ type: 'inspect_reply', frame: 1, registers: regs, prgRam: 'AAE=', ...ppu }))), /^inspect_reply\.prgRam must hold 8192 bytes, got 2$/);
    assert.match(err(parseEmulatorToBridge(JSON.stringify({ type: 'inspect_reply', frame: 1, registers: regs, prgRam, ...ppu, palette: 'AAE=' }))), /^inspect_reply\.palette must hold 32 bytes, got 2$/);
  });

  test('agent state vars must all be finite numbers', () => {
    const m = { ...bridgeToAgent[2], vars: { score: 'high' } };
    assert.equal(err(parseBridgeToAgent(JSON.stringify(m))), 'state.vars.score must be a finite number, got "high"');
  });

  test('episode_end reason is checked', () => {
    assert.match(err(parseBridgeToAgent('{"type":"episode_end","episode":0,"terminationFrame":1,"rows":1,"reason":"bored"}')), /^episode_end\.reason must be one of "done_flag"/);
  });
});

describe('protocolCodec: envelope errors', () => {
  test('invalid JSON, non-objects, missing and unknown types', () => {
    assert.match(err(parseEmulatorToBridge('{"type":')), /^emulator→bridge message is not valid JSON/);
    assert.equal(err(parseEmulatorToBridge('[1,2]')), 'emulator→bridge message must be a JSON object, got an array');
    assert.equal(err(parseAgentToBridge('42')), 'agent→bridge message must be a JSON object, got 42');
    assert.match(err(parseAgentToBridge('{"frame":1}')), /^unknown agent→bridge message type undefined \(expected one of hello, action/);
    assert.match(err(parseAgentToBridge('{"type":"toString"}')), /^unknown agent→bridge message type "toString"/);
  });

  test('a type valid on another link is refused on this one', () => {
    assert.match(err(parseEmulatorToBridge('{"type":"action","frame":1,"buttons":[0,0]}')), /^unknown emulator→bridge message type "action"/);
    assert.match(err(parseAgentToBridge('{"type":"state","frame":1}')), /^unknown agent→bridge message type "state"/);
  });

  test('a huge bad payload is never echoed back', () => {
    const big = 'x'.repeat(500_000);
    const e1 = err(parseEmulatorToBridge(`{"type":"state","frame":1,"timestamp":1,"ram":"${big}!","lag":false,"screen":false}`));
    assert.equal(e1, 'state.ram must be a base64 string, got a string of 500001 characters');
    const e0 = err(parseEmulatorToBridge(`{"type":"state","frame":"${big}","timestamp":1,"ram":"","lag":false,"screen":false}`));
    assert.ok(!e0.includes('xxxxxxxxxx'));
    const e2 = err(parseAgentToBridge(`{"type":"${big}"}`));
    assert.ok(!e2.includes('x'.repeat(50)));
    const e3 = err(parseAgentToBridge(big));
    assert.ok(e3.startsWith('agent→bridge message is not valid JSON'));
    const e4 = err(parseAgentToBridge('{"type":"action","frame":1,"buttons":0,"pad":"' + 'y'.repeat(1 << 20) + '"}'));
    assert.match(e4, /message too large/);
  });

  test('unknown extra fields are dropped, so parsed messages hold only typed fields', () => {
    const m = ok(parseEmulatorToBridge('{"type":"heartbeat","seq":1,"timestamp":2,"extra":"ignored"}'));
    assert.deepEqual(m, { type: 'heartbeat', seq: 1, timestamp: 2 });
  });
});

describe('protocolCodec: base64 RAM', () => {
  test('round trip for any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      const s = encodeBase64(bytes);
      assert.deepEqual(decodeBase64Ram(s), bytes);
      // Whatever encodeBase64 makes, the state validator accepts.
      assert.ok(parseEmulatorToBridge(JSON.stringify({ type: 'state', frame: 0, timestamp: 0, ram: s, lag: false, screen: false })).ok);
    }), { numRuns: 200 });
  });

  test('a subarray view encodes only its own bytes', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    assert.equal(encodeBase64(backing.subarray(2, 5)), 'AQID');
  });

  test('decoding refuses what is not strict base64', () => {
    for (const bad of ['AAE', 'A===', 'AA AA', 'AA-_', 'AAE=AAE=']) {
      assert.throws(() => decodeBase64Ram(bad), /RAM data must be standard base64/, bad);
    }
    assert.deepEqual(decodeBase64Ram(''), new Uint8Array(0));
  });
});

describe('protocolCodec: arbitrary input never throws', () => {
  test('random objects with known types and random field values give ok or a short error', () => {
    const types = ['hello', 'state', 'action', 'welcome', 'savestate', 'savestate_ack', 'write_ram', 'write_ram_ack', 'reset',
      'inspect', 'inspect_reply', 'configure', 'terminate', 'episode_end', 'heartbeat', 'heartbeat_ack', 'ping', 'pong', 'resync_request', 'error', 'quit'];
    const fields = ['frame', 'buttons', 'ram', 'rom', 'screen', 'role', 'protocol', 'token', 'seq', 'timestamp', 'vars', 'info',
      'op', 'slot', 'address', 'data', 'player', 'maxSteps', 'id', 't0', 't1', 'code', 'reason', 'message', 'step', 'episode', 'registers', 'prgRam'];
    const parsers = [parseEmulatorToBridge, parseBridgeToEmulator, parseAgentToBridge, parseBridgeToAgent];
    fc.assert(fc.property(
      fc.constantFrom(...types), fc.dictionary(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 2 })),
      (type, body) => {
        const text = JSON.stringify({ ...body, type });
        for (const parse of parsers) {
          const r = parse(text);
          if (!r.ok) assert.ok(r.error.length > 0 && r.error.length <= MAX_ERROR_CHARS);
        }
      }), { numRuns: 300 });
  });
});
