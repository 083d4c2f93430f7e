import { tf } from './tfjs';

/** Backends whose tensors live in host memory, where reading one synchronously is a copy, not a GPU round trip. */
export function hostResidentBackend(name: string): boolean {
  return name === 'cpu' || name === 'wasm';
}

/** Row indices kept both ways: as a host array (for copies in JS) and as a tensor (for tf.gather on GPU backends). */
export interface RowIndex {
  host: Int32Array;
  tensor: tf.Tensor1D;
}

export function rowIndex(host: Int32Array): RowIndex {
  return { host, tensor: tf.tensor1d(host, 'int32') };
}

/**
 * Rows of x ([n, w]) by index ([m] -> [m, w]). On cpu and wasm the rows are copied in JS: wasm's gather works element
 * by element and took about 40 ms for 6,400 rows of 128 on sparse-py-2l's task prompts, where the copy takes a few.
 * Either way the values are the rows themselves, bit for bit.
 */
export function gatherRows(x: tf.Tensor2D, index: RowIndex): tf.Tensor2D {
  const [, w] = x.shape;
  if (!hostResidentBackend(tf.getBackend())) return tf.gather(x, index.tensor);
  const src = x.dataSync() as Float32Array;
  const out = new Float32Array(index.host.length * w);
  for (let r = 0; r < index.host.length; r++) {
    const from = index.host[r]! * w;
    out.set(src.subarray(from, from + w), r * w);
  }
  return tf.tensor2d(out, [index.host.length, w]);
}
