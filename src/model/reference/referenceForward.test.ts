// The reference forward pass against values worked out by hand: special functions, AbsTopK, and a 1-layer model
// small enough to compute on paper. Properties on random checkpoints and input errors: referenceForward.random.test.ts.
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../config';
import type { SiteName } from '../sites';
import type { HostTensor, LoadedCheckpoint } from '../weights';
import { makeConfig } from '../testing/randomCheckpoint';
import { absTopKRows, erf, erfc, gelu, referenceForward, RMS_NORM_EPS } from './referenceForward';

/** A hand-built 1-layer model with d_model 2, 1 head of d_head 2, d_mlp 2: every tensor zero unless set. */
function handModel(partial: Partial<ModelConfig>, set: Record<string, number[]>): LoadedCheckpoint {
  const config = makeConfig({
    vocabSize: 3, blockSize: 4, nLayer: 1, nHead: 1, dHead: 2, dModel: 2, dMlp: 2, bias: false, ...partial,
  });
  const shapes: Record<string, number[]> = {
    'transformer.wte.weight': [3, 2],
    'transformer.wpe.weight': [4, 2],
    'transformer.h.0.ln_1.weight': [2],
    'transformer.h.0.attn.c_attn.weight': [6, 2],
    'transformer.h.0.attn.c_proj.weight': [2, 2],
    'transformer.h.0.ln_2.weight': [2],
    'transformer.h.0.mlp.c_fc.weight': [2, 2],
    'transformer.h.0.mlp.c_proj.weight': [2, 2],
    'transformer.ln_f.weight': [2],
  };
  if (!config.tiedUnembed) shapes['lm_head.weight'] = [3, 2];
  if (config.bias) {
    shapes['transformer.h.0.attn.c_attn.bias'] = [6];
    shapes['transformer.h.0.attn.c_proj.bias'] = [2];
    shapes['transformer.h.0.mlp.c_fc.bias'] = [2];
    shapes['transformer.h.0.mlp.c_proj.bias'] = [2];
  }
  if (!config.rmsNorm && config.lnBias) {
    for (const n of ['ln_1', 'ln_2']) shapes[`transformer.h.0.${n}.bias`] = [2];
    shapes['transformer.ln_f.bias'] = [2];
  }
  if (config.sink) shapes['transformer.h.0.attn.attn_imp.sink_logit'] = [1];
  const tensors = new Map<string, HostTensor>();
  for (const [name, shape] of Object.entries(shapes)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name.endsWith('ln_f.weight')) data.fill(1);
    if (set[name]) data.set(set[name]);
    tensors.set(name, { shape, data });
  }
  for (const name of Object.keys(set)) if (!shapes[name]) throw new Error(`handModel: unknown tensor ${name}`);
  return { config, tensors, means: new Map() };
}

const site = (r: ReturnType<typeof referenceForward>, name: SiteName) => {
  const s = r.sites.get(name);
  if (!s) throw new Error(`no site ${name}`);
  return Array.from(s);
};

describe('special functions', () => {
  it('erf / erfc match tabulated values', () => {
    const table: [number, number][] = [
      [1e-3, 0.0011283787909692363],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
    ];
    for (const [x, v] of table) {
      expect(erf(x)).toBeCloseTo(v, 15);
      expect(erf(-x)).toBeCloseTo(-v, 15);
    }
    expect(erf(0)).toBe(0);
    // relative accuracy of the tail
    expect(erfc(3) / 2.209049699858544e-5 - 1).toBeLessThan(1e-13);
    expect(Math.abs(erfc(5) / 1.5374597944280348e-12 - 1)).toBeLessThan(1e-13);
    expect(Math.abs(erfc(2.6) / 2.3603441652934920e-4 - 1)).toBeLessThan(1e-13);
    expect(erfc(-1)).toBeCloseTo(1.8427007929497149, 15);
  });

  it('GELU is x * Phi(x)', () => {
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(gelu(-2)).toBeCloseTo(-0.0455002638963584144, 15);
    expect(gelu(0)).toBe(0);
    // far negative tail: x * Phi(x) with Phi(-6) = 9.865876450376981e-10
    expect(Math.abs(gelu(-6) / (-6 * 9.865876450376981e-10) - 1)).toBeLessThan(1e-12);
  });
});

describe('absTopKRows', () => {
  it('keeps the k largest |x| per row, lower index wins ties', () => {
    const buf = Float64Array.from([1, -1, 1, 0.5, /* row 2 */ 0, -3, 2, -2]);
    absTopKRows(buf, 2, 4, 2);
    expect(Array.from(buf)).toEqual([1, -1, 0, 0, 0, -3, 2, 0]);
  });
  it('k >= width is a no-op and k = 0 zeroes everything', () => {
    const a = Float64Array.from([1, 2, 3]);
    absTopKRows(a, 1, 3, 3);
    expect(Array.from(a)).toEqual([1, 2, 3]);
    absTopKRows(a, 1, 3, 0);
    expect(Array.from(a)).toEqual([0, 0, 0]);
  });
});

describe('hand-computed tiny model', () => {
  it('RMSNorm, residual stream and unembedding', () => {
    const ckpt = handModel({}, {
      'transformer.wte.weight': [3, 4, 0, 0, 0, 0],
      'transformer.h.0.ln_1.weight': [1, 2],
      'lm_head.weight': [1, 0, 0, 1, 1, 1],
    });
    const r = referenceForward(ckpt, [0]);
    const inv = 1 / Math.sqrt(12.5 + RMS_NORM_EPS);
    expect(site(r, '0.attn.act_in')[0]).toBeCloseTo(3 * inv, 14);
    expect(site(r, '0.attn.act_in')[1]).toBeCloseTo(8 * inv, 14);
    expect(site(r, '0.attn.resid_delta')).toEqual([0, 0]);
    expect(site(r, '0.mlp.act_in')[1]).toBeCloseTo(4 * inv, 14);
    expect(site(r, 'final_resid')).toEqual([3, 4]);
    const lg = Array.from(r.logits);
    expect(lg[0]).toBeCloseTo(3 * inv, 14);
    expect(lg[1]).toBeCloseTo(4 * inv, 14);
    expect(lg[2]).toBeCloseTo(7 * inv, 14);
  });

  it('LayerNorm with bias (biased variance, eps 1e-5)', () => {
    const ckpt = handModel({ rmsNorm: false, lnBias: true }, {
      'transformer.wte.weight': [3, 4, 0, 0, 0, 0],
      'transformer.h.0.ln_1.weight': [2, 1],
      'transformer.h.0.ln_1.bias': [0.5, -0.5],
    });
    const r = referenceForward(ckpt, [0]);
    const s = 0.5 / Math.sqrt(0.25 + 1e-5);
    expect(site(r, '0.attn.act_in')[0]).toBeCloseTo(-s * 2 + 0.5, 14);
    expect(site(r, '0.attn.act_in')[1]).toBeCloseTo(s - 0.5, 14);
  });

  it('GELU and ReLU at the MLP neuron site', () => {
    const set = { 'transformer.h.0.mlp.c_fc.bias': [1, -2], 'transformer.h.0.mlp.c_proj.weight': [1, 0, 0, 1] };
    const g = referenceForward(handModel({ bias: true }, set), [1]);
    expect(site(g, '0.mlp.post_act')[0]).toBeCloseTo(0.8413447460685429, 14);
    expect(site(g, '0.mlp.post_act')[1]).toBeCloseTo(-0.0455002638963584144, 14);
    expect(site(g, '0.mlp.resid_delta')).toEqual(site(g, '0.mlp.post_act'));
    const rl = referenceForward(handModel({ bias: true, activation: 'relu' }, set), [1]);
    expect(site(rl, '0.mlp.post_act')).toEqual([1, 0]);
  });

  it('attention: uniform over equal keys, output is probs @ v', () => {
    // q = [1, 0], k = [0, 0], v = [2, -1] at every position (biases only), so all keys score 0.
    const ckpt = handModel({ bias: true }, {
      'transformer.h.0.attn.c_attn.bias': [1, 0, 0, 0, 2, -1],
      'transformer.h.0.attn.c_proj.weight': [1, 0, 0, 1],
    });
    const r = referenceForward(ckpt, [0, 1, 2]);
    const att = Array.from(r.attention.get(0)!);
    expect(att).toEqual([1, 0, 0, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3].map((v) => expect.closeTo(v, 15)));
    for (let t = 0; t < 3; t++) {
      expect(site(r, '0.attn.resid_delta')[2 * t]).toBeCloseTo(2, 14);
      expect(site(r, '0.attn.resid_delta')[2 * t + 1]).toBeCloseTo(-1, 14);
    }
  });

  it('attention scores are q.k / sqrt(d_head)', () => {
    // a = rmsnorm(wte[tok]); k = a (identity rows), q = [2, 0] (bias); token 0 -> a = [sqrt2, 0], token 1 -> [0, sqrt2].
    const ckpt = handModel({ bias: true }, {
      'transformer.wte.weight': [1, 0, 0, 1, 0, 0],
      'transformer.h.0.attn.c_attn.weight': [0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0],
      'transformer.h.0.attn.c_attn.bias': [2, 0, 0, 0, 0, 0],
    });
    const r = referenceForward(ckpt, [0, 1]);
    const a0 = site(r, '0.attn.act_in')[0]!;
    const s0 = (2 * a0) / Math.SQRT2; // score of key 0 for query 1; key 1 scores 0
    const p0 = Math.exp(s0) / (Math.exp(s0) + 1);
    expect(r.attention.get(0)![2]).toBeCloseTo(p0, 14);
    expect(r.attention.get(0)![3]).toBeCloseTo(1 - p0, 14);
  });

  it('sink: a 1-token context with q = 0 puts exactly 1/(1+exp(b)) on the token', () => {
    const b = Math.fround(0.7); // stored as float32
    const ckpt = handModel({ bias: true, sink: true }, {
      'transformer.h.0.attn.attn_imp.sink_logit': [b],
      'transformer.h.0.attn.c_attn.bias': [0, 0, 0.3, -0.2, 2, -1],
      'transformer.h.0.attn.c_proj.weight': [1, 0, 0, 1],
    });
    const r = referenceForward(ckpt, [2]);
    const p = 1 / (1 + Math.exp(b));
    expect(r.attention.get(0)![0]).toBeCloseTo(p, 15);
    expect(site(r, '0.attn.resid_delta')[0]).toBeCloseTo(2 * p, 14);
    expect(site(r, '0.attn.resid_delta')[1]).toBeCloseTo(-p, 14);
    // two tokens, equal scores 0: each gets 1/(2 + exp(b))
    const r2 = referenceForward(ckpt, [2, 0]);
    expect(r2.attention.get(0)![2]).toBeCloseTo(1 / (2 + Math.exp(b)), 15);
    expect(r2.attention.get(0)![3]).toBeCloseTo(1 / (2 + Math.exp(b)), 15);
  });

  it('sink logit takes part in max-subtraction (no overflow for large logits)', () => {
    const ckpt = handModel({ bias: true, sink: true }, { 'transformer.h.0.attn.attn_imp.sink_logit': [800] });
    const r = referenceForward(ckpt, [0]);
    expect(r.attention.get(0)![0]).toBe(0);
    expect(Number.isFinite(r.logits[0])).toBe(true);
  });
});
