import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, roundDifferenceCells, roundRatioCells } from '../../../bench/roundStats';

test('median: the middle value of an odd count, the mean of the two middle values of an even count', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([5]), 5);
  // Eight rounds (BENCH_ROUNDS=8): the 4th and 5th of the sorted values, averaged, not the 5th alone.
  assert.equal(median([0.834, 1.085, 0.905, 1.05, 0.936, 1.005, 0.945, 0.968]), (0.945 + 0.968) / 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('round cells: the median of the per-round ratios and differences, with their range', () => {
  assert.equal(roundRatioCells([10, 30, 20, 40], [10, 10, 10, 10]), '2.500 | 1.00–4.00');
  assert.equal(roundDifferenceCells([5, 9, 7], [1, 1, 1]), '6 | 4–8');
});
