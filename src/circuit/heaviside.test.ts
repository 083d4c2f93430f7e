import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend, type NodeBackendName } from '../model/testing/nodeBackends';
import { tf } from '../model/tfjs';
import { heavisideST, heavisideSurrogateGrad } from './heaviside';

describe.each<NodeBackendName>(['cpu', 'wasm'])('straight-through Heaviside on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => tf.disposeVariables());

  const taus = [-1, -0.3, -1e-7, 0, 1e-7, 0.1, 0.5, 1];

  it('forward is the step function (1 where tau >= 0)', async () => {
    const x = tf.tensor1d(taus);
    const y = heavisideST(x);
    expect(Array.from(await y.data())).toEqual([0, 0, 0, 1, 1, 1, 1, 1]);
    tf.dispose([x, y]);
  });

  it.each([1, 0.25])('backward is sigmoid\'(tau/T)/T times the upstream gradient (T = %s)', async (T) => {
    const x = tf.tensor1d(taus);
    const w = tf.tensor1d(taus.map((_, i) => i + 1)); // upstream gradient i + 1
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(heavisideST(t as tf.Tensor1D, T), w)))(x);
    const got = await g.data();
    taus.forEach((t, i) => expect(got[i]).toBeCloseTo((i + 1) * heavisideSurrogateGrad(t, T), 5));
    tf.dispose([x, w, g]);
  });

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor1d(taus);
    tf.tidy(() => {
      tf.grad((t: tf.Tensor) => tf.sum(heavisideST(t as tf.Tensor1D)))(x);
    });
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
