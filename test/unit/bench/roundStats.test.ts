import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, quantile, roundDifferenceCells, roundRatioCells } from '../../../bench/roundStats';

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

test('quantile: interpolated between sorted neighbours; its middle is the median', () => {
  const xs = [0.97, 0.91, 1.02, 0.95, 0.99];
  assert.equal(quantile(xs, 0), 0.91);
  assert.equal(quantile(xs, 1), 1.02);
  assert.equal(quantile(xs, 0.25), 0.95);
  assert.equal(quantile(xs, 0.5), median(xs));
  assert.equal(quantile([1, 2, 3, 4], 0.5), median([1, 2, 3, 4]));
  assert.ok(Math.abs(quantile([1, 2, 3, 4], 0.25) - 1.75) < 1e-12);
  assert.equal(quantile([7], 0.75), 7);
});
