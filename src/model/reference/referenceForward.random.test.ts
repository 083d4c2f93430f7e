// The reference forward pass on random checkpoints: properties that must hold for any weights (shapes, causality,
// attention sums, AbsTopK counts, unembedding, bigram table, siteReplace), and the errors bad inputs raise.
// Exact values on hand-built models: referenceForward.test.ts.
import { describe, expect, it } from 'vitest';
import { allSites, siteWidth, type SiteName } from '../sites';
import type { HostTensor, LoadedCheckpoint } from '../weights';
import { ALL_ABS_TOPK_LOCATIONS, makeConfig, randomCheckpoint } from '../testing/randomCheckpoint';
import { absTopKRows, referenceForward, RMS_NORM_EPS } from './referenceForward';

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
