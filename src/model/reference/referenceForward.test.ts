import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../config';
import { allSites, siteWidth, type SiteName } from '../sites';
import type { HostTensor, LoadedCheckpoint } from '../weights';
import { ALL_ABS_TOPK_LOCATIONS, makeConfig, randomCheckpoint } from '../testing/randomCheckpoint';
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

describe('random checkpoints', () => {
  const full = randomCheckpoint({
    config: { afrac: 0.3, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true, bigramTable: true },
    seed: 7,
  });
  const tokens = [5, 1, 40, 22, 9, 9, 31, 0];

  it('every site has the right shape and the outputs are finite', () => {
    const r = referenceForward(full, tokens);
    expect([...r.sites.keys()]).toEqual(allSites(full.config));
    for (const [name, buf] of r.sites) expect(buf.length).toBe(tokens.length * siteWidth(full.config, name));
    expect(r.logits.length).toBe(tokens.length * full.config.vocabSize);
    expect(r.logits.every(Number.isFinite)).toBe(true);
    expect([...r.attention.keys()]).toEqual([0, 1]);
  });

  it('is causal: changing a later token leaves earlier positions bit-identical', () => {
    const a = referenceForward(full, tokens);
    const b = referenceForward(full, [...tokens.slice(0, -1), 17]);
    const T = tokens.length;
    const V = full.config.vocabSize;
    expect(Array.from(a.logits.slice(0, (T - 1) * V))).toEqual(Array.from(b.logits.slice(0, (T - 1) * V)));
    expect(a.logits.slice((T - 1) * V)).not.toEqual(b.logits.slice((T - 1) * V));
    for (const [name, buf] of a.sites) {
      const w = buf.length / T;
      expect(Array.from(buf.slice(0, (T - 1) * w))).toEqual(Array.from(b.sites.get(name)!.slice(0, (T - 1) * w)));
    }
  });

  it('attention is causal; with a sink rows sum to less than 1, without to exactly 1', () => {
    const T = tokens.length;
    const check = (ck: LoadedCheckpoint, sink: boolean) => {
      const r = referenceForward(ck, tokens);
      for (const probs of r.attention.values()) {
        for (let h = 0; h < ck.config.nHead; h++) {
          for (let i = 0; i < T; i++) {
            let sum = 0;
            for (let j = 0; j < T; j++) {
              const p = probs[h * T * T + i * T + j]!;
              if (j > i) expect(p).toBe(0);
              sum += p;
            }
            if (sink) {
              expect(sum).toBeLessThan(1);
              expect(sum).toBeGreaterThan(0);
            } else expect(sum).toBeCloseTo(1, 14);
          }
        }
      }
    };
    check(full, true);
    check(randomCheckpoint({ config: {}, seed: 3 }), false);
  });

  it('sink for a 1-token context: p = 1/(1 + exp(b - q.k/sqrt(d_head)))', () => {
    const r = referenceForward(full, [11]);
    const { nHead: H, dHead: dh } = full.config;
    const q = r.sites.get('0.attn.q')!;
    const k = r.sites.get('0.attn.k')!;
    const sink = full.tensors.get('transformer.h.0.attn.attn_imp.sink_logit')!.data;
    for (let h = 0; h < H; h++) {
      let s = 0;
      for (let e = 0; e < dh; e++) s += q[h * dh + e]! * k[h * dh + e]!;
      s /= Math.sqrt(dh);
      expect(r.attention.get(0)![h]).toBeCloseTo(1 / (1 + Math.exp(sink[h]! - s)), 14);
    }
  });

  it('AbsTopK keeps exactly k = floor(afrac * width) nonzeros per position', () => {
    const r = referenceForward(full, tokens);
    const T = tokens.length;
    for (const [name, buf] of r.sites) {
      if (name === 'final_resid') continue;
      const w = buf.length / T;
      const k = Math.floor(0.3 * w);
      for (let t = 0; t < T; t++) {
        let nnz = 0;
        for (let c = 0; c < w; c++) if (buf[t * w + c] !== 0) nnz++;
        expect(nnz, `${name} position ${t}`).toBe(k);
      }
    }
  });

  it('AbsTopK at attn_in keeps the largest entries of the dense value', () => {
    const dense = { ...full, config: makeConfig({ ...full.config, afrac: null }) };
    const T = tokens.length;
    const d = full.config.dModel;
    const want = referenceForward(dense, tokens).sites.get('0.attn.act_in')!;
    absTopKRows(want, T, d, Math.floor(0.3 * d));
    expect(Array.from(referenceForward(full, tokens).sites.get('0.attn.act_in')!)).toEqual(Array.from(want));
  });

  it('AbsTopK applies only at the configured locations', () => {
    const ck = randomCheckpoint({ config: { afrac: 0.25 }, seed: 5 }); // default: attn_in,attn_out,mlp_in,mlp_out
    const r = referenceForward(ck, tokens);
    const T = tokens.length;
    const nnzMax = (name: SiteName) => {
      const buf = r.sites.get(name)!;
      const w = buf.length / T;
      let m = 0;
      for (let t = 0; t < T; t++) {
        let n = 0;
        for (let c = 0; c < w; c++) if (buf[t * w + c] !== 0) n++;
        m = Math.max(m, n);
      }
      return m;
    };
    expect(nnzMax('0.attn.act_in')).toBe(4);
    expect(nnzMax('1.mlp.resid_delta')).toBe(4);
    expect(nnzMax('0.attn.q')).toBe(12);
    expect(nnzMax('1.mlp.post_act')).toBe(32);
  });

  it('tied unembedding uses wte (and ignores lm_head.weight)', () => {
    const ck = randomCheckpoint({ config: { tiedUnembed: true }, seed: 11 });
    expect(ck.tensors.has('lm_head.weight')).toBe(false);
    const r = referenceForward(ck, tokens);
    const { dModel: d, vocabSize: V } = ck.config;
    const wte = ck.tensors.get('transformer.wte.weight')!.data;
    const lnf = ck.tensors.get('transformer.ln_f.weight')!.data;
    const flb = ck.tensors.get('final_logits_bias')!.data;
    const x = r.sites.get('final_resid')!;
    for (let t = 0; t < tokens.length; t++) {
      let ss = 0;
      for (let i = 0; i < d; i++) ss += x[t * d + i]! ** 2;
      const inv = 1 / Math.sqrt(ss / d + RMS_NORM_EPS);
      for (let o = 0; o < V; o++) {
        let s = flb[o]!;
        for (let i = 0; i < d; i++) s += wte[o * d + i]! * x[t * d + i]! * inv * lnf[i]!;
        expect(r.logits[t * V + o]).toBeCloseTo(s, 12);
      }
    }
    const junk: HostTensor = { shape: [V, d], data: new Float32Array(V * d).fill(1) };
    const r2 = referenceForward(ck, tokens, { tensorOverrides: new Map([['lm_head.weight', junk]]) });
    expect(Array.from(r2.logits)).toEqual(Array.from(r.logits));
  });

  it('bigram table adds the current token row; final_logits_bias is added', () => {
    const T = tokens.length;
    const V = full.config.vocabSize;
    const base = referenceForward(full, tokens).logits;
    const zeroBigram = referenceForward(full, tokens, {
      tensorOverrides: new Map([['bigram_table', { shape: [V, V], data: new Float32Array(V * V) }]]),
    }).logits;
    const table = full.tensors.get('bigram_table')!.data;
    for (let t = 0; t < T; t++) {
      for (let o = 0; o < V; o++) expect(base[t * V + o]! - zeroBigram[t * V + o]!).toBeCloseTo(table[tokens[t]! * V + o]!, 12);
    }
    const flb = full.tensors.get('final_logits_bias')!;
    const noBias = referenceForward(full, tokens, {
      tensorOverrides: new Map([['final_logits_bias', { shape: [V], data: new Float32Array(V) }]]),
    }).logits;
    for (let o = 0; o < V; o++) expect(base[o]! - noBias[o]!).toBeCloseTo(flb.data[o]!, 12);
  });

  it('siteReplace sets a channel at every position after AbsTopK and feeds it downstream', () => {
    const T = tokens.length;
    const base = referenceForward(full, tokens);
    const r = referenceForward(full, tokens, {
      siteReplace: (s, ch) => (s === '0.mlp.post_act' && ch === 3 ? 1.5 : undefined),
    });
    const w = full.config.dMlp;
    for (let t = 0; t < T; t++) expect(r.sites.get('0.mlp.post_act')![t * w + 3]).toBe(1.5);
    expect(Array.from(r.sites.get('0.mlp.act_in')!)).toEqual(Array.from(base.sites.get('0.mlp.act_in')!));
    expect(r.sites.get('0.mlp.resid_delta')).not.toEqual(base.sites.get('0.mlp.resid_delta'));

    // Replacing every channel with the value it already has changes nothing (final_resid included).
    const same = referenceForward(full, tokens.slice(0, 1), {
      siteReplace: (s, ch) => base.sites.get(s)![ch],
    });
    const V = full.config.vocabSize;
    expect(Array.from(same.logits)).toEqual(Array.from(base.logits.slice(0, V)));

    // final_resid replacement is applied before ln_f
    const z = referenceForward(full, tokens, { siteReplace: (s) => (s === 'final_resid' ? 0 : undefined) });
    const flb = full.tensors.get('final_logits_bias')!.data;
    const table = full.tensors.get('bigram_table')!.data;
    for (let o = 0; o < V; o++) expect(z.logits[o]).toBeCloseTo(flb[o]! + table[tokens[0]! * V + o]!, 12);
  });

  it('is deterministic per seed, and means cover every site', () => {
    const a = randomCheckpoint({ config: {}, seed: 42 });
    const b = randomCheckpoint({ config: {}, seed: 42 });
    const c = randomCheckpoint({ config: {}, seed: 43 });
    const wte = (ck: LoadedCheckpoint) => Array.from(ck.tensors.get('transformer.wte.weight')!.data);
    expect(wte(a)).toEqual(wte(b));
    expect(wte(a)).not.toEqual(wte(c));
    for (const s of allSites(a.config)) {
      expect(a.means.get(s)?.length, s).toBe(siteWidth(a.config, s));
      expect(a.means.get(s)!.some((v) => v !== 0)).toBe(true);
    }
    const w = a.tensors.get('transformer.h.0.mlp.c_fc.weight')!.data;
    const dens = w.filter((v) => v !== 0).length / w.length;
    expect(dens).toBeGreaterThan(0.1);
    expect(dens).toBeLessThan(0.4);
  });
});

describe('errors', () => {
  const ck = randomCheckpoint({ config: { nLayer: 1 }, seed: 2 });
  it('missing or mis-shaped tensors, bad tokens', () => {
    const missing = { ...ck, tensors: new Map(ck.tensors) };
    missing.tensors.delete('transformer.h.0.mlp.c_fc.weight');
    expect(() => referenceForward(missing, [1])).toThrow(/transformer\.h\.0\.mlp\.c_fc\.weight.*missing/);
    const bad: HostTensor = { shape: [3, 3], data: new Float32Array(9) };
    expect(() => referenceForward(ck, [1], { tensorOverrides: new Map([['transformer.ln_f.weight', bad]]) })).toThrow(/ln_f\.weight.*shape/);
    expect(() => referenceForward(ck, [48])).toThrow(/outside/);
    expect(() => referenceForward(ck, [])).toThrow(/empty/);
    expect(() => referenceForward(ck, new Array(33).fill(0))).toThrow(/block_size/);
    const sinkCk = { ...ck, config: makeConfig({ ...ck.config, sink: true }) };
    expect(() => referenceForward(sinkCk, [1])).toThrow(/sink_logit.*missing/);
  });
});
