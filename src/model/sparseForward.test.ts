import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from './forward';
import type { AblationMode, Intervention } from './interventions';
import { allSites, siteWidth, type SiteName } from './sites';
import { expectClose, testTokens } from './testing/compare';
import { goldenDiffs } from './testing/goldenDiffs';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { OPTION_CASES } from './testing/optionMatrix';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from './testing/randomCheckpoint';
import { toSparseRepresentation } from './testing/sparseCheckpoint';
import { tf } from './tfjs';

// The sparse representation (linear weights kept on the host as SparseMatrix, multiplied by sparseLinear) must give
// the forward pass, every hook site, interventions, incremental recompute and node-mask gradients of the dense one.
describe.each<NodeBackendName>(['cpu', 'wasm'])('sparse representation on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(OPTION_CASES)('matches the float64 reference: %s', async (_name, config) => {
    const ckpt = randomCheckpoint({ config, seed: 11 });
    const sparse = toSparseRepresentation(ckpt);
    expect(sparse.sparse!.size).toBeGreaterThanOrEqual(4 * ckpt.config.nLayer);
    const diffs = await goldenDiffs(ckpt, testTokens(9, ckpt.config.vocabSize), [], {}, sparse);
    expect(Object.keys(diffs)).toHaveLength(1 + allSites(ckpt.config).length + ckpt.config.nLayer);
    expect(Object.entries(diffs).filter(([, d]) => !(d <= 1e-4)), 'max abs diff above 1e-4').toEqual([]);
  });

  describe('interventions give what they give on the dense weights', () => {
    const ckpt = randomCheckpoint({ config: { afrac: 0.5, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true, bigramTable: true }, seed: 5, density: 0.5 });
    const c = ckpt.config;
    const tokens = testTokens(8, c.vocabSize, 3);
    let dense: SparseGpt;
    let sparse: SparseGpt;
    beforeAll(() => {
      dense = new SparseGpt(ckpt);
      sparse = new SparseGpt(toSparseRepresentation(ckpt));
      return () => {
        dense.dispose();
        sparse.dispose();
      };
    });
    /** An (input, output) pair with a nonzero weight in a linear of layer 0 (row range for q/k/v). */
    const nz = (key: string, rows: [number, number]): [number, number] => {
      const W = ckpt.tensors.get(key)!;
      const cols = W.shape[1]!;
      for (let i = rows[0] * cols; i < rows[1] * cols; i++) if (W.data[i] !== 0) return [Math.floor(i / cols), i % cols];
      throw new Error('no nonzero');
    };
    const Q = c.nHead * c.dHead;
    const edges = (mode: AblationMode): Intervention[] => {
      const [qr, qc] = nz('transformer.h.0.attn.c_attn.weight', [0, Q]);
      const [vr, vc] = nz('transformer.h.1.attn.c_attn.weight', [2 * Q, 3 * Q]);
      const [pr, pc] = nz('transformer.h.0.attn.c_proj.weight', [0, c.dModel]);
      const [fr, fc] = nz('transformer.h.1.mlp.c_fc.weight', [0, c.dMlp]);
      const [mr, mc] = nz('transformer.h.0.mlp.c_proj.weight', [0, c.dModel]);
      return [
        { kind: 'edge', source: `0.attn.act_in:${qc}`, target: `0.attn.q:${qr}`, mode },
        { kind: 'edge', source: `1.attn.act_in:${vc}`, target: `1.attn.v:${vr - 2 * Q}`, mode },
        { kind: 'edge', source: `0.attn.v:${pc}`, target: `0.attn.resid_delta:${pr}`, mode },
        { kind: 'edge', source: `1.mlp.act_in:${fc}`, target: `1.mlp.post_act:${fr}`, mode },
        { kind: 'edge', source: `0.mlp.post_act:${mc}`, target: `0.mlp.resid_delta:${mr}`, mode },
        // The same edge twice: the second finds its weight already zero.
        { kind: 'edge', source: `0.mlp.post_act:${mc}`, target: `0.mlp.resid_delta:${mr}`, mode },
      ];
    };
    const circuit = (mode: AblationMode): Intervention => ({
      kind: 'circuit', mode,
      nodes: allSites(c).flatMap((s) => [...Array(siteWidth(c, s)).keys()].filter((ch) => ch % 3 !== 1).map((ch) => `${s}:${ch}`)),
    });
    const lists: [string, Intervention[]][] = [
      ['node ablation (mean)', [{ kind: 'node', node: '0.mlp.post_act:3', mode: 'mean' }, { kind: 'node', node: '1.attn.k:2', mode: 'mean' }]],
      ['node ablation (zero)', [{ kind: 'node', node: '1.attn.resid_delta:5', mode: 'zero' }, { kind: 'node', node: 'final_resid:1', mode: 'zero' }]],
      ['circuit restriction (mean)', [circuit('mean')]],
      ['circuit restriction (zero)', [circuit('zero')]],
      ['edge ablation (zero)', edges('zero')],
      ['edge ablation (mean)', edges('mean')],
    ];
    it.each(lists)('%s', async (_label, ivs) => {
      const want = await dense.run(tokens, { interventions: ivs, record: 'all' });
      const got = await sparse.run(tokens, { interventions: ivs, record: 'all' });
      const plain = await sparse.run(tokens, { record: 'all' });
      expectClose('logits', got.logits, want.logits, 1e-5);
      for (const s of allSites(c)) expectClose(s, got.sites.get(s), want.sites.get(s), 1e-5);
      // ...and the list changed something (a no-op would pass the comparison above too).
      expect(Math.max(...got.logits.map((v, i) => Math.abs(v - plain.logits[i]!)))).toBeGreaterThan(1e-4);
    });

    it('edge ablation leaves the base weights untouched', async () => {
      const before = await sparse.run(tokens);
      await sparse.run(tokens, { interventions: edges('zero') });
      expectClose('logits', (await sparse.run(tokens)).logits, before.logits, 0);
    });

    it('incremental recompute from a cached residual equals the full forward', async () => {
      const ivs: Intervention[] = [{ kind: 'node', node: '1.mlp.post_act:3', mode: 'mean' }, ...edges('zero').slice(1, 2)];
      const base = await sparse.run(tokens, { recordResidual: true });
      const full = await sparse.run(tokens, { interventions: ivs });
      const part = await sparse.run(tokens, { interventions: ivs, startLayer: 1, residualIn: base.residuals!.get(1)! });
      expectClose('logits', part.logits, full.logits, 1e-5);
      tf.dispose([...base.residuals!.values()]);
    });

    it('node-mask gradients (pruning) equal the dense model\'s', () => {
      const sites: SiteName[] = ['0.attn.act_in', '0.mlp.post_act', '1.attn.v', 'final_resid'];
      const grad = (m: SparseGpt) => tf.tidy(() => {
        const masks = sites.map((s) => tf.fill([siteWidth(c, s)], 0.7) as tf.Tensor1D);
        const tok = tf.tensor2d([tokens], [1, tokens.length], 'int32');
        const loss = (...ms: tf.Tensor[]) => {
          const out = m.forwardTensors(tok, { nodeMasks: new Map(sites.map((s, i) => [s, ms[i] as tf.Tensor1D])) });
          return tf.sum(tf.mul(out.logits, tf.sin(tf.reshape(tf.range(0, out.logits.size), out.logits.shape)))) as tf.Scalar;
        };
        return tf.grads(loss)(masks).map((g) => g.dataSync().slice());
      });
      const before = tf.memory().numTensors;
      const want = grad(dense);
      const got = grad(sparse);
      expect(tf.memory().numTensors).toBe(before);
      sites.forEach((s, i) => {
        expect(Math.max(...want[i]!.map(Math.abs)), `${s} has a gradient`).toBeGreaterThan(0);
        expectClose(`d loss / d mask ${s}`, got[i], want[i], 1e-4 * Math.max(1, ...want[i]!.map(Math.abs)));
      });
    });

    it('runs leave no tensors behind', async () => {
      await sparse.run(tokens, { interventions: edges('mean'), record: 'all' });
      const before = tf.memory().numTensors;
      for (const ivs of [[], edges('mean'), [circuit('zero')]]) await sparse.run(tokens, { interventions: ivs, record: ['1.mlp.post_act'] });
      await sparse.run(tokens, { interventions: edges('mean') });
      expect(tf.memory().numTensors).toBe(before);
    });

    it('the sparse model holds no linear weight on the backend', () => {
      expect(sparse.sparseWeightBytes).toBeGreaterThan(0);
      expect(dense.sparseWeightBytes).toBe(0);
      let linear = 0;
      for (const [k, t] of ckpt.tensors) if (/\.(c_attn|c_proj|c_fc)\.weight$|^lm_head\.weight$/.test(k)) linear += t.data.length * 4;
      expect(dense.weightBytes - sparse.weightBytes).toBe(linear);
    });
  });
});

afterAll(() => tf.disposeVariables());
