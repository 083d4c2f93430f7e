import { describe, expect, it } from 'vitest';
import { SeededRng } from '../tasks/seeded';
import { absTopK, topKMask, topKMaskOps } from './absTopK';
import { absTopKHost } from './absTopKRows';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { tf } from './tfjs';

// The JS mask replaces tf.topk + scatterND on cpu and wasm: it must select exactly the same entries, ties included
// (which a "|x| >= k-th value" threshold would not), or every forward pass there would change.
describe.each<NodeBackendName>(['cpu', 'wasm'])('AbsTopK mask in JS on %s', (backend) => {
  const rng = new SeededRng(3);
  const cases: [string, number, number, number, () => number][] = [
    ['continuous', 50, 64, 16, () => rng.normal()],
    ['many ties', 80, 37, 9, () => Math.round(rng.normal() * 2)], // small integers: rows full of equal |x|
    ['signed ties and zeros', 40, 8, 3, () => [0, -0, 1, -1, 2][rng.int(5)]!],
    ['k = width - 1', 20, 5, 4, () => Math.round(rng.normal())],
    ['k = 1', 20, 6, 1, () => Math.round(rng.normal())],
    // The previous row's k-th value is the first pivot: rows far above and below it must still come out right.
    ['rows of very different scales', 30, 16, 4, (() => { let i = 0; return () => rng.normal() * 10 ** (3 * ((Math.floor(i++ / 16) % 3) - 1)); })()],
  ];
  it.each(cases)('%s', async (_name, rows, width, k, draw) => {
    await useBackend(backend);
    const data = Float32Array.from({ length: rows * width }, draw);
    const x = tf.tensor2d(data, [rows, width]);
    const want = (await topKMaskOps(x, k).data()) as Float32Array;
    expect(Array.from(absTopKHost(data, width, k).mask)).toEqual(Array.from(want));
    expect(Array.from(await topKMask(x, k).data())).toEqual(Array.from(want)); // the dispatching entry takes the JS path here
    for (let r = 0; r < rows; r++) expect(want.subarray(r * width, (r + 1) * width).reduce((a, b) => a + b, 0)).toBe(k);
    x.dispose();
  });
});

// absTopK itself takes the JS path on these backends: the same values (bit for bit, -0 included) and gradient as
// x * mask with TF.js's mask.
describe.each<NodeBackendName>(['cpu', 'wasm'])('absTopK in JS on %s', (backend) => {
  it('gives the values and the straight-through gradient of x * mask', async () => {
    await useBackend(backend);
    const rng = new SeededRng(9);
    const x = tf.tensor3d(Float32Array.from({ length: 3 * 7 * 24 }, () => Math.round(rng.normal() * 3) / 2), [3, 7, 24]);
    const w = tf.tensor3d(Float32Array.from({ length: 3 * 7 * 24 }, () => rng.normal()), [3, 7, 24]);
    const want = tf.mul(x, topKMaskOps(x, 6));
    const got = absTopK(x, 6);
    expect(Array.from(await got.data()).map((v) => Object.is(v, -0) ? '-0' : v)).toEqual(Array.from(await want.data()).map((v) => Object.is(v, -0) ? '-0' : v));
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(absTopK(t, 6), w)))(x);
    expect(Array.from(await g.data())).toEqual(Array.from(await tf.mul(w, topKMaskOps(x, 6)).data()));
    for (const t of [x, w, want, got, g]) t.dispose();
  });
});
