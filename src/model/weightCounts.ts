import type { LoadedCheckpoint } from './weights';

/** Nonzero and total entries of a checkpoint's matrices. */
export interface WeightCounts {
  nonzero: number;
  total: number;
}

/**
 * Counts the entries of every tensor of rank 2 or more (embeddings and linear weights), dense or kept sparse; biases
 * and gains are left out. This is the figure the model panel shows, and what tells a dense model from a
 * weight-sparse one when a default depends on it (suggestedKCoef.ts).
 */
export function countMatrixWeights(ckpt: Pick<LoadedCheckpoint, 'tensors' | 'sparse'>): WeightCounts {
  let nonzero = 0;
  let total = 0;
  for (const t of ckpt.tensors.values()) {
    if (t.shape.length < 2) continue;
    total += t.data.length;
    for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0) nonzero++;
  }
  for (const m of ckpt.sparse?.values() ?? []) {
    total += m.rows * m.cols;
    nonzero += m.countNonzero();
  }
  return { nonzero, total };
}
