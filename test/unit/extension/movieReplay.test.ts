// Planning a movie replay: ROM candidates, the launch configuration (one or two ports), and the checksum warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFm2, writeFm2 } from '../../../src/core/episodes/fm2';
import { planReplay, romCandidates } from '../../../src/extension/movieReplay';
import { BUTTON } from '../../../src/core/buttons';

const MD5 = '0d920d62a0ea734bee52d1ea08417212';
const movie = (port1: number) => parseFm2(writeFm2({ romFilename: 'demo', romMd5NoHeaderHex: MD5, frames: [[BUTTON.RIGHT, port1], [0, 0]] }), 'm.fm2');

test('ROM candidates come from the header name, beside the movie first, then the workspace', () => {
  const c = romCandidates('/ws/movies/run.fm2', movie(0), ['/ws']);
  assert.deepEqual(c.slice(0, 2), ['/ws/movies/demo.nes', '/ws/movies/demo']);
  assert.ok(c.includes('/ws/demo.nes') && c.includes('/ws/roms/demo.nes'));
});

test('a one-player movie drives controller 1; a two-player movie drives both', () => {
  const one = planReplay({ moviePath: '/ws/run.fm2', movie: movie(0), romPath: '/ws/demo.nes', romMd5NoHeader: MD5, emulator: 'embedded', cwd: '/ws' });
  assert.equal(one.config.agent, 'fm2:/ws/run.fm2');
  assert.equal(one.config.agent2, undefined);
  assert.equal(one.config.emulator, 'embedded');
  assert.equal(one.warning, undefined);
  const two = planReplay({ moviePath: '/ws/run.fm2', movie: movie(BUTTON.LEFT), romPath: '/ws/demo.nes', romMd5NoHeader: MD5, emulator: 'fceux' });
  assert.equal(two.config.agent2, 'fm2:/ws/run.fm2');
});

test('a movie recorded on another ROM gets a warning naming both checksums', () => {
  const p = planReplay({ moviePath: '/ws/run.fm2', movie: movie(0), romPath: '/ws/other.nes', romMd5NoHeader: 'ffffffffffffffffffffffffffffffff', emulator: 'embedded' });
  assert.match(p.warning ?? '', /recorded on a ROM with MD5 0d920d62.*other\.nes is ffff/);
});
