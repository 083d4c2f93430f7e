import { beforeAll, describe, expect, it } from 'vitest';
import { absTopK } from './absTopK';
import { compileInterventions, earliestAffectedLayer } from './applyInterventions';
import { SparseGpt } from './forward';
import type { Intervention } from './interventions';
import { referenceForward, type ReferenceResult } from './reference/referenceForward';
import { allSites, parseSite, siteWidth, type SiteName } from './sites';
import { expectClose, maxAbsDiff, testTokens } from './testing/compare';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from './testing/randomCheckpoint';
import { tf } from './tfjs';
import type { HostTensor, LoadedCheckpoint } from './weights';

// A model with every feature on, so interventions interact with AbsTopK everywhere and with the sink.
const ckpt = randomCheckpoint({
  config: { afrac: 0.5, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true, bigramTable: true, nLayer: 2 },
  seed: 5,
  density: 0.5,
});
const c = ckpt.config;
const Q = c.nHead * c.dHead;
const tokens = testTokens(8, c.vocabSize, 3);
const mean = (site: string, ch: number) => ckpt.means.get(site)![ch];

function expectMatchesReference(got: { logits: Float32Array; sites: Map<SiteName, Float32Array> }, want: ReferenceResult) {
  expectClose('logits', got.logits, want.logits);
  for (const s of allSites(c)) expectClose(s, got.sites.get(s), want.sites.get(s));
}

/** First nonzero entry of a [rows, cols] tensor at or after `from` (row-major), as (row, col). */
function nonzero(t: HostTensor, from = 0, rowRange: [number, number] = [0, t.shape[0]]): [number, number] {
  const cols = t.shape[1];
  for (let i = Math.max(from, rowRange[0] * cols); i < rowRange[1] * cols; i++) if (t.data[i] !== 0) return [Math.floor(i / cols), i % cols];
  throw new Error('no nonzero entry');
}

/** Independent statement of what an edge ablation is: the checkpoint with one weight (and bias) edited. */
function editedWeights(ck: LoadedCheckpoint, weight: string, bias: string, row: number, col: number, sourceMean: number | null): Map<string, HostTensor> {
  const W = ck.tensors.get(weight)!;
  const w = W.data[row * W.shape[1] + col];
  const Wd = W.data.slice();
  Wd[row * W.shape[1] + col] = 0;
  const out = new Map<string, HostTensor>([[weight, { shape: W.shape, data: Wd }]]);
  if (sourceMean !== null) {
    const b = ck.tensors.get(bias)!;
    const bd = b.data.slice();
    bd[row] += w * sourceMean;
    out.set(bias, { shape: b.shape, data: bd });
  }
  return out;
}

interface EdgeCase { name: string; lin: string; rows: [number, number]; source: (col: number) => string; target: (row: number) => string }
const EDGE_CASES: EdgeCase[] = [
  { name: 'act_in -> q', lin: 'attn.c_attn', rows: [0, Q], source: (s) => `1.attn.act_in:${s}`, target: (r) => `1.attn.q:${r}` },
  { name: 'act_in -> k', lin: 'attn.c_attn', rows: [Q, 2 * Q], source: (s) => `1.attn.act_in:${s}`, target: (r) => `1.attn.k:${r - Q}` },
  { name: 'act_in -> v', lin: 'attn.c_attn', rows: [2 * Q, 3 * Q], source: (s) => `0.attn.act_in:${s}`, target: (r) => `0.attn.v:${r - 2 * Q}` },
  { name: 'v -> attn resid_delta', lin: 'attn.c_proj', rows: [0, c.dModel], source: (s) => `0.attn.v:${s}`, target: (r) => `0.attn.resid_delta:${r}` },
  { name: 'mlp act_in -> post_act', lin: 'mlp.c_fc', rows: [0, c.dMlp], source: (s) => `0.mlp.act_in:${s}`, target: (r) => `0.mlp.post_act:${r}` },
  { name: 'post_act -> mlp resid_delta', lin: 'mlp.c_proj', rows: [0, c.dModel], source: (s) => `1.mlp.post_act:${s}`, target: (r) => `1.mlp.resid_delta:${r}` },
];

describe.each<NodeBackendName>(['cpu', 'wasm'])('interventions on %s', (backend) => {
  let model: SparseGpt;
  beforeAll(async () => {
    await useBackend(backend);
    model = new SparseGpt(ckpt);
    return () => model.dispose();
  });

  describe('edge ablation is exactly a weight edit', () => {
    for (const e of EDGE_CASES) {
      for (const mode of ['zero', 'mean'] as const) {
        it(`${e.name} (${mode})`, async () => {
          const layer = Number(e.source(0).split('.')[0]);
          const weight = `transformer.h.${layer}.${e.lin}.weight`;
          const [row, col] = nonzero(ckpt.tensors.get(weight)!, 0, e.rows);
          const source = e.source(col);
          const iv: Intervention = { kind: 'edge', source, target: e.target(row), mode };
          const sourceMean = mode === 'mean' ? mean(source.split(':')[0], col) : null;
          const overrides = editedWeights(ckpt, weight, `transformer.h.${layer}.${e.lin}.bias`, row, col, sourceMean);
          const got = await model.run(tokens, { interventions: [iv], record: 'all' });
          const want = referenceForward(ckpt, tokens, { tensorOverrides: overrides });
          expectMatchesReference(got, want);
          // ...and it actually changed something.
          expect(maxAbsDiff(got.logits, referenceForward(ckpt, tokens).logits)).toBeGreaterThan(1e-6);
        });
      }
    }

    it('mean mode on a model without biases adds the bias the edit needs', async () => {
      const noBias = randomCheckpoint({ config: { ...c, bias: false }, seed: 6, density: 0.5 });
      const m = new SparseGpt(noBias);
      const weight = 'transformer.h.0.mlp.c_fc.weight';
      const [row, col] = nonzero(noBias.tensors.get(weight)!);
      const iv: Intervention = { kind: 'edge', source: `0.mlp.act_in:${col}`, target: `0.mlp.post_act:${row}`, mode: 'mean' };
      const got = await m.run(tokens, { interventions: [iv], record: 'all' });
      m.dispose();
      // The reference reads biases only when config.bias is set; missing ones count as zero.
      const w = noBias.tensors.get(weight)!;
      const Wd = w.data.slice();
      Wd[row * w.shape[1] + col] = 0;
      const bias = new Float32Array(c.dMlp);
      bias[row] = w.data[row * w.shape[1] + col] * noBias.means.get('0.mlp.act_in')![col];
      const want = referenceForward({ ...noBias, config: { ...noBias.config, bias: true } }, tokens, {
        tensorOverrides: new Map([[weight, { shape: w.shape, data: Wd }], ['transformer.h.0.mlp.c_fc.bias', { shape: [c.dMlp], data: bias }]]),
      });
      expectMatchesReference(got, want);
    });

    it('rejects pairs that are not edges', () => {
      const bad: Intervention = { kind: 'edge', source: '0.attn.q:0', target: '0.attn.resid_delta:0', mode: 'zero' };
      expect(() => compileInterventions(ckpt, [bad])).toThrow(/not an edge/);
      const crossLayer: Intervention = { kind: 'edge', source: '0.mlp.act_in:0', target: '1.mlp.post_act:0', mode: 'zero' };
      expect(() => compileInterventions(ckpt, [crossLayer])).toThrow(/not an edge/);
    });
  });

  const ABLATED: [SiteName, number][] = [['0.attn.act_in', 3], ['0.attn.q', 1], ['0.attn.k', 4], ['1.attn.v', 0], ['0.attn.resid_delta', 5], ['1.mlp.act_in', 2], ['1.mlp.post_act', 7], ['1.mlp.resid_delta', 9], ['final_resid', 11]];

  for (const mode of ['zero', 'mean'] as const) {
    it(`node ablation (${mode}) equals the reference with those values replaced`, async () => {
      const ivs: Intervention[] = ABLATED.map(([s, ch]) => ({ kind: 'node', node: `${s}:${ch}`, mode }));
      const got = await model.run(tokens, { interventions: ivs, record: 'all' });
      const want = referenceForward(ckpt, tokens, {
        siteReplace: (s, ch) => (ABLATED.some(([as, ac]) => as === s && ac === ch) ? (mode === 'mean' ? mean(s, ch) : 0) : undefined),
      });
      expectMatchesReference(got, want);
    });

    it(`circuit restriction (${mode}) ablates every node outside the circuit, at every site`, async () => {
      // Keep every third channel of every site except 1.attn.k (wholly ablated).
      const nodes = allSites(c).flatMap((s) => (s === '1.attn.k' ? [] : [...Array(siteWidth(c, s)).keys()].filter((ch) => ch % 3 === 0).map((ch) => `${s}:${ch}`)));
      const inCircuit = new Set(nodes);
      const got = await model.run(tokens, { interventions: [{ kind: 'circuit', nodes, mode }], record: 'all' });
      const want = referenceForward(ckpt, tokens, {
        siteReplace: (s, ch) => (inCircuit.has(`${s}:${ch}`) ? undefined : mode === 'mean' ? mean(s, ch) : 0),
      });
      expectMatchesReference(got, want);
    });

    it(`circuit restriction (${mode}) over a layer range ablates only that range's nodes outside the circuit`, async () => {
      const nodes = allSites(c).flatMap((s) => [...Array(siteWidth(c, s)).keys()].filter((ch) => ch % 3 === 1).map((ch) => `${s}:${ch}`));
      const inCircuit = new Set(nodes);
      // [0, 0] leaves layer 1 and final_resid alone; [1, 1] ends at the last layer, so final_resid is restricted too.
      for (const [layers, restricted] of [[[0, 0], (l: number | null) => l === 0], [[1, 1], (l: number | null) => l !== 0]] as const) {
        const got = await model.run(tokens, { interventions: [{ kind: 'circuit', nodes, mode, layers: [...layers] }], record: 'all' });
        const want = referenceForward(ckpt, tokens, {
          siteReplace: (s, ch) => (!restricted(parseSite(s).layer) || inCircuit.has(`${s}:${ch}`) ? undefined : mode === 'mean' ? mean(s, ch) : 0),
        });
        expectMatchesReference(got, want);
      }
      expect(earliestAffectedLayer(c, [{ kind: 'circuit', nodes, mode, layers: [1, 1] }])).toBe(1);
    });

    it(`nodeMasks of 0/1 with maskFill '${mode}' equal node ablation`, async () => {
      const masks = new Map<SiteName, tf.Tensor1D>();
      for (const [s, ch] of ABLATED) {
        const m = new Float32Array(siteWidth(c, s)).fill(1);
        m[ch] = 0;
        masks.set(s, tf.tensor1d(m));
      }
      const ivs: Intervention[] = ABLATED.map(([s, ch]) => ({ kind: 'node', node: `${s}:${ch}`, mode }));
      const viaMask = await model.run(tokens, { nodeMasks: masks, maskFill: mode, record: 'all' });
      const viaAblation = await model.run(tokens, { interventions: ivs, record: 'all' });
      tf.dispose([...masks.values()]);
      expectClose('logits', viaMask.logits, viaAblation.logits, 1e-6);
      for (const s of allSites(c)) expectClose(s, viaMask.sites.get(s), viaAblation.sites.get(s), 1e-6);
    });
  }

  it('incremental recompute from a cached residual equals the full forward', async () => {
    const base = await model.run(tokens, { recordResidual: true });
    const residuals = base.residuals!;
    expect([...residuals.keys()]).toEqual([0, 1, 2]);
    const cases: [number, Intervention[]][] = [
      [1, [{ kind: 'node', node: '1.mlp.post_act:3', mode: 'mean' }, { kind: 'edge', source: '1.attn.v:0', target: '1.attn.resid_delta:0', mode: 'zero' }]],
      [2, [{ kind: 'node', node: 'final_resid:4', mode: 'zero' }]],
      [0, [{ kind: 'node', node: '0.attn.q:2', mode: 'zero' }]],
      [1, []],
    ];
    for (const [start, ivs] of cases) {
      expect(earliestAffectedLayer(c, ivs)).toBeGreaterThanOrEqual(start);
      const full = await model.run(tokens, { interventions: ivs, record: 'all' });
      const part = await model.run(tokens, { interventions: ivs, record: 'all', startLayer: start, residualIn: residuals.get(start)! });
      expectClose(`logits from layer ${start}`, part.logits, full.logits, 1e-5);
      for (const s of allSites(c)) if (part.sites.has(s)) expectClose(s, part.sites.get(s), full.sites.get(s), 1e-5);
      expect(part.sites.has('0.attn.q')).toBe(start === 0);
    }
    expect(residuals.get(1)!.isDisposed).toBe(false); // runs never free the caller's cached residual
    tf.dispose([...residuals.values()]);
  });

  it('earliestAffectedLayer', () => {
    expect(earliestAffectedLayer(c, [])).toBe(Infinity);
    expect(earliestAffectedLayer(c, [{ kind: 'node', node: 'final_resid:0', mode: 'zero' }])).toBe(c.nLayer);
    expect(earliestAffectedLayer(c, [{ kind: 'edge', source: '1.attn.act_in:0', target: '1.attn.q:0', mode: 'zero' }])).toBe(1);
    expect(earliestAffectedLayer(c, [{ kind: 'circuit', nodes: [], mode: 'zero' }])).toBe(0);
  });

  it('node masks are differentiable (pruning): gradients match finite differences', () => {
    // Dense activations here: with AbsTopK, a finite step can flip a selection and the difference quotient
    // jumps; the AbsTopK gradient itself is checked separately below.
    const before = tf.memory().numTensors;
    const dense = new SparseGpt(randomCheckpoint({ config: { sink: true, bigramTable: true }, seed: 5, density: 0.5 }));
    const sites = allSites(c);
    const values = sites.map((s) => Float32Array.from({ length: siteWidth(c, s) }, (_, i) => 0.6 + 0.05 * (i % 7)));
    const lossOf = (masks: tf.Tensor1D[]) => {
      const tok = tf.tensor2d([tokens], [1, tokens.length], 'int32');
      const out = dense.forwardTensors(tok, { nodeMasks: new Map(sites.map((s, i) => [s, masks[i]])) });
      // Weighted logit sum so the gradient is not trivially structured.
      return tf.sum(tf.mul(out.logits, tf.sin(tf.reshape(tf.range(0, out.logits.size), out.logits.shape)))) as tf.Scalar;
    };
    const masks = values.map((v) => tf.tensor1d(v));
    const grads = tf.grads((...m: tf.Tensor[]) => lossOf(m as tf.Tensor1D[]))(masks);
    for (const si of [0, 1, 2, 5, 12, sites.length - 1]) {
      const g = grads[si].dataSync();
      for (const ch of [0, 2]) {
        const h = 1e-2;
        const at = (delta: number) => tf.tidy(() => {
          const shifted = masks.map((m, i) => (i === si ? tf.add(m, tf.mul(tf.reshape(tf.oneHot([ch], m.size), [m.size]), delta)) : m) as tf.Tensor1D);
          return lossOf(shifted).dataSync()[0];
        });
        const fd = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(g[ch] - fd), `${sites[si]}:${ch} grad ${g[ch]} vs finite difference ${fd}`).toBeLessThan(1e-2 * Math.max(1, Math.abs(fd)));
      }
    }
    tf.dispose([...masks, ...grads]);
    dense.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('AbsTopK passes the gradient through the kept entries only', () => {
    const x = tf.tensor2d([[0.5, -2, 0.1, 1.5, -0.3, 2], [1, 1, -1, 0, 0, 0]]);
    const w = tf.tensor2d([[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(absTopK(t, 3), w)))(x);
    // Row 1 keeps |2|, |2|, |1.5| (indices 1, 5, 3); row 2 has a three-way tie at |1|: indices 0, 1, 2.
    expect(Array.from(g.dataSync())).toEqual([0, 2, 0, 4, 0, 6, 1, 2, 3, 0, 0, 0]);
    const y = absTopK(x, 3);
    expect(Array.from(y.dataSync(), (v) => v + 0 /* -0 -> 0 */)).toEqual([0, -2, 0, 1.5, 0, 2, 1, 1, -1, 0, 0, 0]);
    tf.dispose([x, w, g, y]);
  });
});
