// Tests for FM2 movies: parsing FCEUX-style files, errors with line numbers, writing, checksums and round trips.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { fm2ChecksumToMd5, md5ToFm2Checksum, parseFm2, writeFm2, type Fm2Frame } from '../../../../src/core/episodes/fm2';
import { BUTTON } from '../../../../src/core/buttons';

const MOVIE = [
  'version 3',
  'emuVersion 20605',
  'rerecordCount 12',
  'palFlag 0',
  'romFilename Demo Game',
  'romChecksum base64:AAECAwQFBgcICQoLDA0ODw==',
  'guid 452DE2C3-EF43-2FA9-77AC-0677FC51543B',
  'fourscore 0',
  'microphone 0',
  'port0 1',
  'port1 1',
  'port2 0',
  'comment author someone',
  'comment second line',
  'subtitle 2 Jump!',
  '|1|........|........||',
  '|0|R.....B.|........||',
  '|0|.......A|.L..T...||',
  '|2|RLDUTSBA|RLDUTSBA||',
].join('\r\n') + '\r\n';

function parseError(text: string): string {
  try {
    parseFm2(text, 'run.fm2');
  } catch (e) {
    return (e as Error).message;
  }
  return assert.fail('expected parseFm2 to throw');
}

describe('fm2: parse', () => {
  test('header, comments, subtitles and frames as button masks', () => {
    const m = parseFm2(MOVIE, 'run.fm2');
    assert.equal(m.header.version, '3');
    assert.equal(m.header.romFilename, 'Demo Game');
    assert.equal(m.header.rerecordCount, '12');
    assert.equal(m.header.microphone, '0');
    assert.deepEqual(m.comments, ['author someone', 'second line']);
    assert.deepEqual(m.subtitles, [{ frame: 2, text: 'Jump!' }]);
    assert.deepEqual(m.frames, [
      { commands: 1, ports: [0, 0] },
      { commands: 0, ports: [BUTTON.RIGHT | BUTTON.B, 0] },
      { commands: 0, ports: [BUTTON.A, BUTTON.LEFT | BUTTON.START] },
      { commands: 2, ports: [0xff, 0xff] },
    ]);
  });

  test('controller 2 unplugged (port1 0) leaves an empty field', () => {
    const m = parseFm2('version 3\nport0 1\nport1 0\nport2 0\n|0|...U....|||\n|0|..D.....|||\n', 'a.fm2');
    assert.deepEqual(m.frames.map((f) => f.ports), [[BUTTON.UP, 0], [BUTTON.DOWN, 0]]);
  });

  test('fourscore lines take controllers 1 and 2', () => {
    const m = parseFm2('version 3\nfourscore 1\nport2 0\n|0|.......A|......B.|........|........||\n', 'a.fm2');
    assert.deepEqual(m.frames[0].ports, [BUTTON.A, BUTTON.B]);
  });

  test('a header-only movie has no frames', () => {
    assert.deepEqual(parseFm2('version 3\nport0 1\n', 'a.fm2').frames, []);
  });

  test('errors carry file and line', () => {
    assert.equal(parseError('emuVersion 1\nversion 3\n'), 'run.fm2:1: an FM2 movie must start with "version 3", got "emuVersion 1"');
    assert.equal(parseError('version 2\n'), 'run.fm2:1: only FM2 version 3 is supported, got version "2"');
    assert.equal(parseError(''), 'run.fm2:1: not an FM2 movie: no "version 3" line');
    assert.equal(parseError('version 3\nport0 1\n|0|R....B.|........||\n'), 'run.fm2:3: port0 must be 8 characters in RLDUTSBA order, got "R....B."');
    assert.equal(parseError('version 3\n|x|........|........||\n'), 'run.fm2:2: commands must be a decimal number, got "x"');
    assert.equal(parseError('version 3\n|0|........|........||\nport0 1\n'), 'run.fm2:3: expected an input line starting with "|" after the header, got "port0 1"');
    assert.equal(parseError('version 3\nport1 2\n'), 'run.fm2:2: port1 is a Zapper (2); only gamepads (1) or nothing (0) are supported');
    assert.equal(parseError('version 3\nport1 0\n|0|........|........||\n'), 'run.fm2:3: port1 is declared empty (port1 0) but the line has "........" there');
    assert.equal(parseError('version 3\nguid 1234\n'), 'run.fm2:2: guid must be 8-4-4-4-12 hex digits, got "1234"');
    assert.match(parseError('version 3\nromChecksum md5:abc\n'), /^run\.fm2:2: romChecksum must be "base64:"/);
    assert.equal(parseError('version 3\nport0 1\nport0 1\n'), 'run.fm2:3: header key "port0" appears twice');
    assert.equal(parseError('version 3\nbinary 1\n|0|\n'), 'run.fm2:3: binary FM2 input is not supported (save the movie as text)');
    assert.equal(parseError('version 3\n|0|........\n'), 'run.fm2:2: input line needs |commands|port0|port1|...|, got "|0|........"');
    assert.equal(parseError('version 3\nsubtitle soon\n'), 'run.fm2:2: subtitle must be "subtitle <frame> <text>", got "subtitle soon"');
    assert.equal(parseError('version 3\n!!\n'), 'run.fm2:2: expected a "key value" header line, got "!!"');
  });
});

describe('fm2: checksums', () => {
  test('md5 hex to base64 of the raw 16 bytes and back', () => {
    assert.equal(md5ToFm2Checksum('000102030405060708090a0b0c0d0e0f'), 'base64:AAECAwQFBgcICQoLDA0ODw==');
    assert.equal(fm2ChecksumToMd5('base64:AAECAwQFBgcICQoLDA0ODw=='), '000102030405060708090a0b0c0d0e0f');
    assert.equal(fm2ChecksumToMd5('000102030405060708090A0B0C0D0E0F'), '000102030405060708090a0b0c0d0e0f');
    const md5 = createHash('md5').update('some rom bytes').digest();
    assert.equal(md5ToFm2Checksum(md5.toString('hex')), 'base64:' + md5.toString('base64'));
  });

  test('bad checksums are refused', () => {
    assert.throws(() => md5ToFm2Checksum('abc'), /MD5 must be 32 hex digits, got "abc"/);
    assert.throws(() => fm2ChecksumToMd5('base64:AAEC'), /romChecksum must be "base64:"/);
  });
});

describe('fm2: write', () => {
  const md5 = '00112233445566778899aabbccddeeff';

  test('header lines in FCEUX order, then one input line per frame', () => {
    const text = writeFm2({
      romFilename: 'demo', romMd5NoHeaderHex: md5, guid: '01234567-89AB-CDEF-0123-456789ABCDEF',
      frames: [[0, 0], [BUTTON.RIGHT | BUTTON.A, BUTTON.START], { commands: 1, ports: [0, 0] }], comment: 'author lockstep',
    });
    assert.equal(text, [
      'version 3', 'emuVersion 20605', 'rerecordCount 0', 'palFlag 0', 'romFilename demo',
      `romChecksum ${md5ToFm2Checksum(md5)}`, 'guid 01234567-89AB-CDEF-0123-456789ABCDEF', 'fourscore 0',
      'port0 1', 'port1 1', 'port2 0', 'comment author lockstep',
      '|0|........|........||', '|0|R......A|....T...||', '|1|........|........||',
    ].join('\n') + '\n');
  });

  test('a random guid when none is given', () => {
    const guid = (t: string) => /^guid (.*)$/m.exec(t)![1];
    const a = guid(writeFm2({ romFilename: 'x', romMd5NoHeaderHex: md5, frames: [] }));
    const b = guid(writeFm2({ romFilename: 'x', romMd5NoHeaderHex: md5, frames: [] }));
    assert.match(a, /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    assert.notEqual(a, b);
  });

  test('port1 off writes an empty second field and refuses controller-2 input', () => {
    const text = writeFm2({ romFilename: 'x', romMd5NoHeaderHex: md5, frames: [[BUTTON.B, 0]], port1: false });
    assert.match(text, /^port1 0$/m);
    assert.match(text, /^\|0\|......B.\|\|\|$/m);
    assert.deepEqual(parseFm2(text, 'x.fm2').frames, [{ commands: 0, ports: [BUTTON.B, 0] }]);
    assert.throws(() => writeFm2({ romFilename: 'x', romMd5NoHeaderHex: md5, frames: [[0, 1]], port1: false }), /frame 0: controller 2 has buttons pressed but port1 is off/);
  });

  test('bad options are refused', () => {
    assert.throws(() => writeFm2({ romFilename: 'a\nb', romMd5NoHeaderHex: md5, frames: [] }), /romFilename must be one line/);
    assert.throws(() => writeFm2({ romFilename: 'a', romMd5NoHeaderHex: 'zz', frames: [] }), /MD5 must be 32 hex digits/);
    assert.throws(() => writeFm2({ romFilename: 'a', romMd5NoHeaderHex: md5, guid: 'nope', frames: [] }), /guid must be 8-4-4-4-12/);
    assert.throws(() => writeFm2({ romFilename: 'a', romMd5NoHeaderHex: md5, frames: [[256, 0]] }), /frame 0: controller 1 mask must be 0\.\.255, got 256/);
    assert.throws(() => writeFm2({ romFilename: 'a', romMd5NoHeaderHex: md5, frames: [{ commands: -1, ports: [0, 0] }] }), /frame 0: commands must be/);
  });

  test('multi-line comments become several comment lines', () => {
    const m = parseFm2(writeFm2({ romFilename: 'a', romMd5NoHeaderHex: md5, frames: [], comment: ['author x', 'seed 7'] }), 'a.fm2');
    assert.deepEqual(m.comments, ['author x', 'seed 7']);
    assert.deepEqual(parseFm2(writeFm2({ romFilename: 'a', romMd5NoHeaderHex: md5, frames: [], comment: 'one\ntwo' }), 'a.fm2').comments, ['one', 'two']);
  });

  test('round trip: write then parse gives back the frames and header', () => {
    const mask = fc.integer({ min: 0, max: 255 });
    fc.assert(fc.property(
      fc.array(fc.record({ commands: fc.constantFrom(0, 1, 2), ports: fc.tuple(mask, mask) }), { maxLength: 60 }),
      (generated: Fm2Frame[]) => {
        // fast-check builds null-prototype records; compare as plain objects.
        const frames = generated.map((f): Fm2Frame => ({ commands: f.commands, ports: [f.ports[0], f.ports[1]] }));
        const m = parseFm2(writeFm2({ romFilename: 'Demo Game', romMd5NoHeaderHex: md5, frames }), 'rt.fm2');
        assert.deepEqual(m.frames, frames);
        assert.equal(m.header.romFilename, 'Demo Game');
        assert.equal(fm2ChecksumToMd5(m.header.romChecksum), md5);
        assert.equal(m.header.port1, '1');
      }), { numRuns: 100 });
  });

  test('parse then write keeps every input line of an FCEUX movie', () => {
    const m = parseFm2(MOVIE, 'run.fm2');
    const again = writeFm2({
      romFilename: m.header.romFilename, romMd5NoHeaderHex: fm2ChecksumToMd5(m.header.romChecksum), guid: m.header.guid, frames: m.frames,
    });
    const inputs = (t: string) => t.split(/\r?\n/).filter((l) => l.startsWith('|'));
    assert.deepEqual(inputs(again), inputs(MOVIE));
  });
});

describe('parseFm2 error text', () => {
  test('a DEL or C1 control in a bad header line is escaped in the message, never echoed raw', () => {
    for (const bad of ['\x7f', 'ok\x85', '\u2028x']) {
      assert.throws(() => parseFm2(bad, 'movie.fm2'), (err: Error) => {
        // eslint-disable-next-line no-control-regex -- finding control characters is the point
        assert.doesNotMatch(err.message, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, JSON.stringify(err.message));
        assert.match(err.message, /header line/);
        return true;
      });
    }
  });
});
