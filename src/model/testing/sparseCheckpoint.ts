import { SparseMatrix } from '../sparseMatrix';
import { isLinearWeight, type LoadedCheckpoint } from '../weights';

/** The same checkpoint in the sparse representation: every linear weight moved to `sparse` (tests, harness). */
export function toSparseRepresentation(ckpt: LoadedCheckpoint): LoadedCheckpoint {
  const tensors = new Map(ckpt.tensors);
  const sparse = new Map<string, SparseMatrix>();
  for (const [key, t] of ckpt.tensors) {
    if (!isLinearWeight(key)) continue;
    sparse.set(key, SparseMatrix.fromDense(t.shape, t.data));
    tensors.delete(key);
  }
  return { ...ckpt, tensors, sparse };
}
