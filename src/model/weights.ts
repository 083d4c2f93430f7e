import type { ModelConfig } from './config';
import type { SparseMatrix } from './sparseMatrix';

/** A dense host-side tensor (row-major). Checkpoint readers produce these; the runtime uploads them. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Everything a checkpoint folder provides to the runtime, validated and backend-neutral. */
export interface LoadedCheckpoint {
  config: ModelConfig;
  /** Released state-dict key names -> dense tensors (compact sparse tensors already expanded). */
  tensors: Map<string, HostTensor>;
  /**
   * Linear weights kept sparse (the "sparse" representation of src/model/memoryEstimate.ts, for models whose dense
   * weights do not fit): released key -> host-side sparse matrix. A key is in `tensors` or here, never both; absent
   * or empty for the dense representation.
   */
  sparse?: Map<string, SparseMatrix>;
  /** Hook-site name -> mean activation per channel (means.safetensors); empty when the folder has none. */
  means: Map<string, Float32Array>;
}

/** Linear weights (`[out, in]`): the tensors the forward pass multiplies by, and the ones that may be kept sparse. */
export function isLinearWeight(key: string): boolean {
  return key === 'lm_head.weight' || /\.(c_attn|c_proj|c_fc)\.weight$/.test(key);
}

/** Dense shape of a checkpoint tensor in either representation (undefined when absent). */
export function tensorShape(ckpt: LoadedCheckpoint, key: string): number[] | undefined {
  const d = ckpt.tensors.get(key);
  if (d) return d.shape;
  const s = ckpt.sparse?.get(key);
  return s ? [s.rows, s.cols] : undefined;
}
