// The Ray example in short (clients/python/tests_ray): actors' episodes agree per seed; the ONNX export run by Lockstep matches torch.
import { test } from 'node:test';
import { runSuite } from './venvPython';

test('examples/ray: actors agree on episodes for the same seeds; exported ONNX argmax in Lockstep equals torch', () => {
  runSuite('clients/python/tests_ray', 280_000);
});
