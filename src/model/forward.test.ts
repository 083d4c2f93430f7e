import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from './forward';
import { referenceForward } from './reference/referenceForward';
import { allSites } from './sites';
import { expectClose, testTokens } from './testing/compare';
import { goldenDiffs } from './testing/goldenDiffs';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { OPTION_CASES } from './testing/optionMatrix';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from './testing/randomCheckpoint';
import { tf } from './tfjs';

describe.each<NodeBackendName>(['cpu', 'wasm'])('SparseGpt forward on %s matches the float64 reference', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
    expect(tf.getBackend()).toBe(backend);
  });

  it.each(OPTION_CASES)('%s', async (_name, config) => {
    const ckpt = randomCheckpoint({ config, seed: 11 });
    // Logits, every hook site and every layer's attention pattern (the same check the browser harness runs).
    const diffs = await goldenDiffs(ckpt, testTokens(9, ckpt.config.vocabSize));
    expect(Object.keys(diffs)).toHaveLength(1 + allSites(ckpt.config).length + ckpt.config.nLayer);
    const bad = Object.entries(diffs).filter(([, d]) => !(d <= 1e-4));
    expect(bad, 'max abs diff above 1e-4').toEqual([]);
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
