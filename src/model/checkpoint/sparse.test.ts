import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../testing/safetensorsWriter';
import { parseSafetensors } from './safetensors';
import { expandTensors } from './sparse';
import { editHeader, testFolder } from '../testing/testFolder';

const sparsePair = (indices: number[], values: number[], shape: string, extra: Record<string, string> = {}) =>
  writeSafetensors(
    {
      'w.__indices': { dtype: 'I32', shape: [indices.length], data: Int32Array.from(indices) },
      'w.__values': { dtype: 'F32', shape: [values.length], data: Float32Array.from(values) },
      b: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) },
    },
    { 'sparse:w': shape, ...extra },
  );

const expand = (bytes: Uint8Array, maxDenseBytes?: number) =>
  expandTensors(parseSafetensors(bytes, 'model.safetensors'), { maxDenseBytes });

describe('expandTensors', () => {
  it('expands compact tensors to dense ones', () => {
    const t = expand(sparsePair([1, 4, 5], [0.5, -1, 2], '[2,3]'));
    expect(t.get('w')!.shape).toEqual([2, 3]);
    expect([...t.get('w')!.data]).toEqual([0, 0.5, 0, 0, -1, 2]);
    expect([...t.get('b')!.data]).toEqual([1, 2]);
    expect([...t.keys()].sort()).toEqual(['b', 'w']);
  });

  it('reproduces a random checkpoint exactly from a compact folder', () => {
    const { ckpt, files } = testFolder({ sparse: true });
    const f = parseSafetensors(files['model.safetensors']!, 'model.safetensors');
    expect([...f.tensors.keys()].some((k) => k.endsWith('.__indices'))).toBe(true);
    const t = expandTensors(f);
    expect([...t.keys()].sort()).toEqual([...ckpt.tensors.keys()].sort());
    for (const [k, v] of ckpt.tensors) {
      expect(t.get(k)!.shape).toEqual(v.shape);
      expect(t.get(k)!.data).toEqual(v.data);
    }
  });

  it('copies dense tensors out of compact files but keeps zero-copy views of dense files', () => {
    const compact = sparsePair([1], [1], '[2,3]');
    expect(expand(compact).get('b')!.data.buffer).not.toBe(compact.buffer);
    const dense = writeSafetensors({ b: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) } });
    expect(expand(dense).get('b')!.data.buffer).toBe(dense.buffer);
  });

  it('refuses malformed compact tensors', () => {
    const e = (b: Uint8Array) => () => expand(b);
    expect(e(sparsePair([1, 1], [1, 2], '[2,3]'))).toThrow(
      'model.safetensors: compact sparse tensor "w": indices are not strictly increasing at position 1 (1 then 1)',
    );
    expect(e(sparsePair([3, 2], [1, 2], '[2,3]'))).toThrow('not strictly increasing at position 1 (3 then 2)');
    expect(e(sparsePair([0, 6], [1, 2], '[2,3]'))).toThrow(
      'compact sparse tensor "w": index 6 at position 1 is out of range for shape [2,3] (6 elements)',
    );
    expect(e(sparsePair([-1], [1], '[2,3]'))).toThrow('index -1 at position 0 is out of range');
    expect(e(sparsePair([0], [1, 2], '[2,3]'))).toThrow('indices [1] and values [2] must be 1-D of equal length');
    expect(e(sparsePair([0], [1], 'two by three'))).toThrow(
      'model.safetensors: __metadata__["sparse:w"] must be a JSON array of dimension sizes, got "two by three"',
    );
    expect(e(sparsePair([0], [1], '[2,-3]'))).toThrow('must be a JSON array of dimension sizes');
    expect(e(sparsePair([0], [1], '[1]'))).not.toThrow();
    expect(e(sparsePair([0, 1], [1, 2], '[1]'))).toThrow('has 2 entries but only 1 elements');
    // Component or metadata missing.
    const noMeta = editHeader(sparsePair([0], [1], '[2,3]'), (h) => delete (h.__metadata__ as Record<string, string>)['sparse:w']);
    expect(e(noMeta)).toThrow('compact sparse tensor "w" is incomplete: missing __metadata__["sparse:w"]');
    const noValues = editHeader(sparsePair([0], [1], '[2,3]'), (h) => delete h['w.__values']);
    expect(e(noValues)).toThrow('compact sparse tensor "w" is incomplete: missing "w.__values"');
    const floatIdx = editHeader(sparsePair([0], [1], '[2,3]'), (h) => ((h['w.__indices'] as { dtype: string }).dtype = 'F32'));
    expect(e(floatIdx)).toThrow('tensor "w.__indices" has dtype F32, expected I32');
    const both = editHeader(sparsePair([0], [1], '[2,3]'), (h) => {
      h['w'] = h['b'];
      delete h['b'];
    });
    expect(e(both)).toThrow('tensor "w" is stored both densely and as a compact sparse pair');
    const intWeights = editHeader(sparsePair([0], [1], '[2,3]'), (h) => ((h['b'] as { dtype: string }).dtype = 'I32'));
    expect(e(intWeights)).toThrow('tensor "b" has dtype I32; weights must be F32, F16 or BF16');
  });

  it('refuses to expand past the memory budget', () => {
    expect(() => expand(sparsePair([0], [1], '[100000,100000]'), 1e9)).toThrow(
      'model.safetensors: expanding tensor "w" brings the dense weights to 37.25 GiB (40000000008 bytes), over the 953.67 MiB (1000000000 bytes) budget',
    );
  });
});
