import { describe, expect, it } from 'vitest';
import { SparseMatrix } from './sparseMatrix';
import { countMatrixWeights } from './weightCounts';

describe('countMatrixWeights', () => {
  it('counts matrices dense and kept sparse, and leaves vectors out', () => {
    const tensors = new Map([
      ['transformer.wte.weight', { shape: [2, 3], data: new Float32Array([0, 1, 0, 2, 3, 0]) }],
      ['transformer.h.0.attn.c_attn.bias', { shape: [3], data: new Float32Array([1, 1, 1]) }],
    ]);
    const sparse = new Map([['lm_head.weight', SparseMatrix.fromDense([3, 2], new Float32Array([0, 0, 5, 0, 0, -1]))]]);
    expect(countMatrixWeights({ tensors })).toEqual({ nonzero: 3, total: 6 });
    expect(countMatrixWeights({ tensors, sparse })).toEqual({ nonzero: 5, total: 12 });
  });
});
