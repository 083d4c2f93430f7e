import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setCsrPool, type CsrPool } from '../model/csrPool';
import { SparseGpt } from '../model/forward';
import type { Intervention } from '../model/interventions';
import type { SiteName } from '../model/sites';
import { useBackend } from '../model/testing/nodeBackends';
import { nodeCsrPool } from '../model/testing/nodeCsrPool';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from '../model/testing/randomCheckpoint';
import { toSparseRepresentation } from '../model/testing/sparseCheckpoint';
import { tf } from '../model/tfjs';
import { PromptRunCache } from './promptRunCache';

// The live view's toggles rerun only from the stage an intervention changes, and (when only the logits of the last
// layer are read) that layer only at the last position: the answers must be the full forward pass's, to float
// rounding, for a toggle in every stage, on the dense and the sparse (CSR, through a worker pool) weight paths.

function maxRel(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0;
  let s = 1e-30;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - want[i]!));
    s = Math.max(s, Math.abs(want[i]!));
  }
  return got.length === want.length ? d / s : Infinity;
}

/** A node ablation in each stage of a 2-layer model, and a residual edge (which must start at its writer's stage). */
const TOGGLES: { stage: number; iv: Intervention }[] = [
  { stage: 0, iv: { kind: 'node', node: '0.attn.k:1', mode: 'mean' } },
  { stage: 1, iv: { kind: 'node', node: '0.mlp.post_act:3', mode: 'zero' } },
  { stage: 2, iv: { kind: 'node', node: '1.attn.q:2', mode: 'mean' } },
  { stage: 3, iv: { kind: 'node', node: '1.mlp.resid_delta:4', mode: 'zero' } },
  { stage: 4, iv: { kind: 'node', node: 'final_resid:5', mode: 'mean' } },
  { stage: 1, iv: { kind: 'edge', source: '0.mlp.resid_delta:2', target: '1.mlp.act_in:2', mode: 'zero' } },
];

const READS: [string, { sites: SiteName[]; attentionLayers: number[] }][] = [
  ['the last layer read at every position', { sites: ['0.mlp.post_act', '1.attn.q', 'final_resid'], attentionLayers: [0, 1] }],
  ['only the last layer\'s logits read', { sites: ['0.mlp.post_act', '0.attn.v'], attentionLayers: [0] }],
];

describe.each([['dense', false], ['sparse (CSR pool of 3)', true]] as const)('incremental prompt runs, %s weights', (_label, sparse) => {
  let pool: CsrPool | null = null;
  let close = async () => {};
  let model: SparseGpt;
  const ids = [3, 17, 5, 5, 40, 2, 9, 31, 12, 7, 44];
  beforeAll(async () => {
    await useBackend('cpu');
    if (sparse) {
      ({ pool, close } = await nodeCsrPool(3));
      setCsrPool(pool);
    }
    const ckpt = randomCheckpoint({ config: { afrac: 0.5, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true, bigramTable: true }, seed: 21 });
    model = new SparseGpt(sparse ? toSparseRepresentation(ckpt) : ckpt, { sparseKernel: 'csr' });
  }, 60_000);
  afterAll(async () => {
    model.dispose();
    setCsrPool(null);
    await close();
  });

  it.each(READS)('answers each toggle as the full forward pass does (%s), starting at the stage it changes', async (_name, reads) => {
    const V = model.config.vocabSize;
    const T = ids.length;
    // Twice over: the second round must end with as many tensors as the first (the model itself keeps its causal mask
    // and the last compiled list's tensors).
    const held: number[] = [];
    for (let round = 0; round < 2; round++) {
    const cache = new PromptRunCache(model);
    const base = await cache.run(ids, [], reads);
    expect(base.fromStage).toBe(0);
    let largestChange = 0;
    for (const { stage, iv } of TOGGLES) {
      const got = await cache.run(ids, [iv], reads);
      largestChange = Math.max(largestChange, maxRel(got.lastLogits, base.lastLogits));
      const want = await model.run(ids, { interventions: [iv], record: reads.sites, recordAttention: reads.attentionLayers });
      expect(got.fromStage).toBe(stage);
      expect(maxRel(got.lastLogits, want.logits.subarray((T - 1) * V))).toBeLessThan(1e-5);
      for (const s of reads.sites) expect(maxRel(got.sites.get(s)!, want.sites.get(s)!), s).toBeLessThan(1e-5);
      for (const l of reads.attentionLayers) expect(maxRel(got.attention.get(l)!, want.attention.get(l)!), `layer ${l}`).toBeLessThan(1e-5);
      // Toggled off again: the first run's answer, kept.
      const off = await cache.run(ids, [], reads);
      expect(off.fromStage).toBeNull();
      expect(off.lastLogits).toBe(base.lastLogits);
    }
    // The toggles change the answer (the comparisons above are not vacuous).
    expect(largestChange).toBeGreaterThan(1e-3);
    cache.dispose();
    held.push(tf.memory().numTensors);
    }
    expect(held[1]).toBe(held[0]);
  });

  it('starts afresh for another prompt', async () => {
    const cache = new PromptRunCache(model);
    const reads = READS[1]![1];
    await cache.run(ids, [], reads);
    expect((await cache.run(ids.slice(0, 6), [TOGGLES[3]!.iv], reads)).fromStage).toBe(0);
    cache.dispose();
  });
});
