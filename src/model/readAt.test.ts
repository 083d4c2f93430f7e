import { describe, expect, it } from 'vitest';
import { SparseGpt } from './forward';
import type { Intervention } from './interventions';
import { expectClose } from './testing/compare';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from './testing/randomCheckpoint';
import { tf } from './tfjs';

/**
 * ForwardOptions.readAt: the logits of one position per sequence, read before the final norm and the unembedding,
 * equal the full logits at that position, with a bigram table, node ablations at final_resid and a residual edge into
 * final_resid (whose patch is laid out like the stream and must be narrowed with it).
 */
const ckpt = randomCheckpoint({
  config: { afrac: 0.5, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true, bigramTable: true, nLayer: 2 },
  seed: 11,
  density: 0.5,
});
const c = ckpt.config;
const B = 3;
const T = 7;
const tokenRows = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (b * 31 + t * 17 + 5) % c.vocabSize));
const readPos = [6, 2, 4];

const lists: [string, Intervention[]][] = [
  ['no interventions', []],
  ['a final_resid node and a residual edge into final_resid', [
    { kind: 'node', node: 'final_resid:3', mode: 'mean' },
    { kind: 'edge', source: `${'1.mlp.resid_delta'}:5`, target: 'final_resid:5', mode: 'zero' },
  ]],
];

describe.each(['cpu', 'wasm'] as NodeBackendName[])('readAt on %s', (backend) => {
  it.each(lists)('equals the full logits at the read position: %s', async (_, interventions) => {
    await useBackend(backend);
    const model = new SparseGpt(ckpt);
    try {
      const tokens = tf.tensor2d(tokenRows.flat(), [B, T], 'int32');
      const oneHot = new Float32Array(B * T);
      readPos.forEach((t, b) => (oneHot[b * T + t] = 1));
      const readAt = tf.tensor3d(oneHot, [B, T, 1]);
      const full = model.forwardTensors(tokens, { interventions });
      const read = model.forwardTensors(tokens, { interventions, readAt });
      expect(read.logits.shape).toEqual([B, 1, c.vocabSize]);
      const f = (await full.logits.data()) as Float32Array;
      const r = (await read.logits.data()) as Float32Array;
      const V = c.vocabSize;
      readPos.forEach((t, b) => expectClose(`prompt ${b}`, r.subarray(b * V, (b + 1) * V), f.subarray((b * T + t) * V, (b * T + t + 1) * V), 1e-5));
      tf.dispose([tokens, readAt, full.logits, read.logits]);
    } finally {
      model.dispose();
    }
  });
});
