import { describe, expect, it } from 'vitest';
import { makeConfig } from '../testing/randomCheckpoint';
import type { HostTensor } from '../weights';
import { checkFinite, checkMemoryBudget, estimateDenseBytes, expectedTensors, validateTensorShapes } from './validate';

const tensorsFor = (names: { name: string; shape: number[] }[]) =>
  new Map<string, HostTensor>(names.map((e) => [e.name, { shape: e.shape, data: new Float32Array(e.shape.reduce((a, b) => a * b, 1)) }]));

describe('expectedTensors', () => {
  it('follows the config (RMSNorm, biases, untied, no sink/bigram)', () => {
    const c = makeConfig({ nLayer: 1, vocabSize: 10, dModel: 4, nHead: 2, dHead: 3, dMlp: 8, blockSize: 5 });
    const e = Object.fromEntries(expectedTensors(c).map((t) => [t.name, t.shape]));
    expect(e).toEqual({
      'transformer.wte.weight': [10, 4],
      'transformer.wpe.weight': [5, 4],
      'transformer.h.0.ln_1.weight': [4],
      'transformer.h.0.attn.c_attn.weight': [18, 4],
      'transformer.h.0.attn.c_attn.bias': [18],
      'transformer.h.0.attn.c_proj.weight': [4, 6],
      'transformer.h.0.attn.c_proj.bias': [4],
      'transformer.h.0.ln_2.weight': [4],
      'transformer.h.0.mlp.c_fc.weight': [8, 4],
      'transformer.h.0.mlp.c_fc.bias': [8],
      'transformer.h.0.mlp.c_proj.weight': [4, 8],
      'transformer.h.0.mlp.c_proj.bias': [4],
      'transformer.ln_f.weight': [4],
      'lm_head.weight': [10, 4],
      final_logits_bias: [10],
    });
  });

  it('adds LayerNorm biases, sinks and the bigram table; drops linear biases', () => {
    const c = makeConfig({ nLayer: 2, rmsNorm: false, lnBias: true, bias: false, sink: true, bigramTable: true, tiedUnembed: true });
    const names = expectedTensors(c);
    const n = names.map((t) => t.name);
    expect(n).toContain('transformer.h.1.ln_2.bias');
    expect(n).toContain('transformer.ln_f.bias');
    expect(n).toContain('transformer.h.1.attn.attn_imp.sink_logit');
    expect(n).not.toContain('transformer.h.0.attn.c_attn.bias');
    expect(names.find((t) => t.name === 'bigram_table')!.shape).toEqual([c.vocabSize, c.vocabSize]);
    expect(names.find((t) => t.name === 'lm_head.weight')!.required).toBe(false);
    const noLnBias = makeConfig({ rmsNorm: false, lnBias: false });
    expect(expectedTensors(noLnBias).map((t) => t.name)).not.toContain('transformer.ln_f.bias');
  });
});

describe('validateTensorShapes', () => {
  const c = makeConfig({ nLayer: 1, dModel: 32, nHead: 2, dHead: 8 });
  const all = expectedTensors(c);

  it('accepts a complete set and warns about unused tensors', () => {
    expect(validateTensorShapes(c, tensorsFor(all))).toEqual([]);
    const extra = tensorsFor([...all, { name: 'transformer.h.5.attn.bias', shape: [1] }]);
    expect(validateTensorShapes(c, extra)[0]).toContain('1 tensor(s) not used by this config are ignored: transformer.h.5.attn.bias');
    const noOptional = tensorsFor(all.filter((t) => t.name !== 'final_logits_bias'));
    expect(validateTensorShapes(c, noOptional)).toEqual([]);
  });

  it('names the tensor and both shapes on a mismatch', () => {
    const t = tensorsFor(all.map((e) => (e.name === 'transformer.h.0.attn.c_attn.weight' ? { ...e, shape: [48, 16] } : e)));
    expect(() => validateTensorShapes(c, t)).toThrow(
      'model.safetensors: tensor "transformer.h.0.attn.c_attn.weight" has shape [48,16], expected [48,32]',
    );
    const bias = tensorsFor(all.map((e) => (e.name === 'final_logits_bias' ? { ...e, shape: [3] } : e)));
    expect(() => validateTensorShapes(c, bias)).toThrow('tensor "final_logits_bias" has shape [3], expected [48]');
  });

  it('lists missing tensors', () => {
    const t = tensorsFor(all.filter((e) => !e.name.includes('mlp')));
    expect(() => validateTensorShapes(c, t)).toThrow(
      'model.safetensors: missing required tensors "transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_fc.bias", ' +
        '"transformer.h.0.mlp.c_proj.weight", "transformer.h.0.mlp.c_proj.bias" (the config needs them)',
    );
    const tied = makeConfig({ tiedUnembed: true });
    expect(validateTensorShapes(tied, tensorsFor(expectedTensors(tied).filter((e) => e.name !== 'lm_head.weight')))).toEqual([]);
  });
});

describe('checkFinite', () => {
  it('names the tensor and the first bad index', () => {
    const t = tensorsFor([{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [4] }]);
    expect(() => checkFinite(t)).not.toThrow();
    t.get('a')!.data[4] = NaN;
    t.get('a')!.data[5] = Infinity;
    expect(() => checkFinite(t)).toThrow('model.safetensors: tensor "a" has a non-finite value (NaN) at flat index 4 [1,1]');
    t.get('a')!.data[4] = 0;
    expect(() => checkFinite(t)).toThrow('tensor "a" has a non-finite value (Infinity) at flat index 5 [1,2]');
  });
});

describe('memory budget', () => {
  it('estimates dense bytes and refuses an oversized model with numbers', () => {
    const c = makeConfig({ nLayer: 1, vocabSize: 10, dModel: 4, nHead: 2, dHead: 3, dMlp: 8, blockSize: 5 });
    // wte 40 + wpe 20 + ln 4+4+4 + attn 72+18+24+4 + mlp 32+8+32+4 + lm_head 40 + flb 10 = 316 floats
    expect(estimateDenseBytes(c)).toBe(316 * 4);
    expect(estimateDenseBytes({ ...c, tiedUnembed: true })).toBe(276 * 4);
    expect(() => checkMemoryBudget(c, 1264)).not.toThrow();
    expect(() => checkMemoryBudget(c, 1000)).toThrow(
      'model is too large to load: its dense float32 weights need 1.23 KiB (1264 bytes), over the 1000 bytes budget',
    );
    const big = makeConfig({ nLayer: 12, dModel: 2048, dMlp: 8192, nHead: 16, dHead: 128, vocabSize: 2048, bigramTable: true });
    expect(() => checkMemoryBudget(big)).toThrow(/need 2\.\d\d GiB \(\d+ bytes\), over the 2\.00 GiB \(2147483648 bytes\) budget \(n_layer=12/);
  });
});
