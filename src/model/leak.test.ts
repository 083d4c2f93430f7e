import { describe, expect, it } from 'vitest';
import { SparseGpt } from './forward';
import type { Intervention } from './interventions';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from './testing/randomCheckpoint';
import { tf } from './tfjs';

// The app toggles interventions and reruns constantly; each distinct list builds edited weight copies on
// the device, cached until the list changes. The tensor count must not grow, whatever the sequence.
const ckpt = randomCheckpoint({
  config: { nLayer: 2, dModel: 8, nHead: 2, dHead: 4, dMlp: 16, vocabSize: 20, afrac: 0.5, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true, bigramTable: true },
  seed: 2,
});
// Three lists toggled on in turn (each replaces the cached one), with a toggle-off now and then. With three,
// cycle 1 and cycle 1000 end holding the same list in the cache, so their counts are comparable.
const LISTS: Intervention[][] = [
  [{ kind: 'node', node: '0.mlp.post_act:3', mode: 'mean' }],
  [{ kind: 'edge', source: '1.mlp.act_in:0', target: '1.mlp.post_act:0', mode: 'mean' }],
  [
    { kind: 'circuit', nodes: ['0.attn.q:1', '1.mlp.post_act:2', 'final_resid:0'], mode: 'zero' },
    { kind: 'edge', source: '0.attn.v:1', target: '0.attn.resid_delta:2', mode: 'zero' },
  ],
];
const tokens = [1, 5, 2, 7, 3];

// wasm: fewer cycles to keep the suite quick (cycles - 1 must stay a multiple of 3).
describe.each<[NodeBackendName, number]>([['cpu', 1000], ['wasm', 301]])('tensor leaks on %s', (backend, cycles) => {
  it(`${cycles} toggle-and-rerun cycles leave the tensor count where the first cycle left it`, async () => {
    await useBackend(backend);
    const start = tf.memory().numTensors;
    const model = new SparseGpt(ckpt);
    const cycle = async (i: number) => {
      const interventions = LISTS[i % LISTS.length];
      await model.run(tokens, { interventions, record: ['0.attn.k', 'final_resid'], recordAttention: [1] });
      if (i % 10 === 0) {
        await model.run(tokens, { interventions: [] });
        // Incremental rerun from a cached residual, and the pruning path (masks under tf.grad in a tidy).
        const full = await model.run(tokens, { interventions, recordResidual: true });
        await model.run(tokens, { interventions, startLayer: 1, residualIn: full.residuals!.get(1)! });
        tf.dispose([...full.residuals!.values()]);
        const g = tf.tidy(() => tf.grad((mask: tf.Tensor) => {
          const out = model.forwardTensors(tf.tensor2d([tokens], [1, 5], 'int32'), { nodeMasks: new Map([['1.mlp.act_in', mask as tf.Tensor1D]]), interventions });
          return tf.sum(out.logits);
        })(tf.ones([8])));
        g.dispose();
      }
    };
    await cycle(0);
    const afterFirst = tf.memory().numTensors;
    for (let i = 1; i < cycles; i++) await cycle(i);
    expect(tf.memory().numTensors).toBe(afterFirst);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
