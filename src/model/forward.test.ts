import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABS_TOPK_LOCATIONS, type ModelConfig } from './config';
import { SparseGpt } from './forward';
import { referenceForward } from './reference/referenceForward';
import { allSites } from './sites';
import { expectClose, testTokens } from './testing/compare';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from './testing/randomCheckpoint';
import { tf } from './tfjs';

// Tiny defaults from randomCheckpoint: d_model 16, 2 layers, 2 heads of d_head 6 (H*d_head != d_model),
// d_mlp 32, vocab 48. afrac 0.25 keeps 4 of 16, 3 of 12, 8 of 32.
const CASES: [string, Partial<ModelConfig>][] = [
  ['baseline (rms, gelu, bias, untied)', {}],
  ['sink', { sink: true }],
  ['bigram', { bigramTable: true }],
  ...ABS_TOPK_LOCATIONS.map((loc): [string, Partial<ModelConfig>] => [`abstopk ${loc}`, { afrac: 0.25, afracLocations: new Set([loc]) }]),
  ['abstopk all eight', { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS }],
  ['layernorm with bias', { rmsNorm: false, lnBias: true }],
  ['layernorm without bias', { rmsNorm: false, lnBias: false }],
  ['tied unembedding', { tiedUnembed: true }],
  ['relu', { activation: 'relu' }],
  ['no biases', { bias: false }],
  ['4 heads of d_head 3', { nHead: 4, dHead: 3 }],
  ['everything at once', {
    sink: true, bigramTable: true, afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS, rmsNorm: false,
    tiedUnembed: true, activation: 'relu', nHead: 3, dHead: 5, nLayer: 3,
  }],
];

describe.each<NodeBackendName>(['cpu', 'wasm'])('SparseGpt forward on %s matches the float64 reference', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
    expect(tf.getBackend()).toBe(backend);
  });

  it.each(CASES)('%s', async (_name, config) => {
    const ckpt = randomCheckpoint({ config, seed: 11 });
    const model = new SparseGpt(ckpt);
    try {
      const tokens = testTokens(9, ckpt.config.vocabSize);
      const layers = [...Array(ckpt.config.nLayer).keys()];
      const got = await model.run(tokens, { record: 'all', recordAttention: layers });
      const want = referenceForward(ckpt, tokens);
      expectClose('logits', got.logits, want.logits);
      for (const site of allSites(ckpt.config)) expectClose(site, got.sites.get(site), want.sites.get(site));
      for (const l of layers) expectClose(`attention ${l}`, got.attention.get(l), want.attention.get(l));
    } finally {
      model.dispose();
    }
  });

  it('batches: each row of a [B, T] batch equals its own single-prompt run', async () => {
    const ckpt = randomCheckpoint({ config: { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true }, seed: 3 });
    const model = new SparseGpt(ckpt);
    const rows = [testTokens(6, 48, 1), testTokens(6, 48, 2)];
    const out = model.forwardTensors(tf.tensor2d(rows, [2, 6], 'int32'), { record: ['1.mlp.post_act'] });
    const logits = await out.logits.data();
    const site = await out.records.get('1.mlp.post_act')!.data();
    const V = 48;
    for (let b = 0; b < 2; b++) {
      const want = referenceForward(ckpt, rows[b]);
      expectClose(`row ${b} logits`, logits.subarray(b * 6 * V, (b + 1) * 6 * V), want.logits);
      expectClose(`row ${b} post_act`, site.subarray(b * 6 * 32, (b + 1) * 6 * 32), want.sites.get('1.mlp.post_act'));
    }
    tf.dispose([out.logits, ...out.records.values()]);
    model.dispose();
  });

  it('rejects prompts longer than block_size and out-of-vocabulary tokens', async () => {
    const ckpt = randomCheckpoint({ config: { blockSize: 4 }, seed: 1 });
    const model = new SparseGpt(ckpt);
    await expect(model.run([1, 2, 3, 4, 5])).rejects.toThrow(/block_size/);
    await expect(model.run([1, 48])).rejects.toThrow(/vocabulary/);
    model.dispose();
  });
});

afterAll(() => tf.disposeVariables());
