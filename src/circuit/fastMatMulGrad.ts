import { tf } from '../model/tfjs';

/**
 * TF.js's BatchMatMul gradient multiplies with transposeA/transposeB flags, which the wasm backend runs 10-50x
 * slower than an explicit transpose followed by a plain matMul; the backward pass of pruning is mostly those
 * matMuls. This re-registers the gradient with explicit transposes on wasm (same values) and leaves every other
 * backend on TF.js's own gradient. Installing it twice is harmless.
 */
let installed = false;

function swapLast2(x: tf.Tensor): tf.Tensor {
  const perm = [...Array(x.rank).keys()];
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

const mm = (x: tf.Tensor, y: tf.Tensor, tA: boolean, tB: boolean): tf.Tensor =>
  tf.matMul((tA ? swapLast2(x) : x) as tf.Tensor3D, (tB ? swapLast2(y) : y) as tf.Tensor3D);

export function installFastMatMulGrad(): void {
  if (installed) return;
  const original = tf.getGradient('BatchMatMul');
  if (!original) return; // gradients not registered at all: nothing to improve
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      // Only same-rank, same-batch products (no broadcasting): anything else goes to TF.js's own gradient.
      if (tf.getBackend() !== 'wasm' || a.rank !== b.rank || a.rank > 3 || (a.rank === 3 && a.shape[0] !== b.shape[0])) {
        return original.gradFunc(dy, saved, attrs);
      }
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) };
      if (!transposeA && transposeB) return { a: () => mm(g, b, false, false), b: () => mm(g, a, true, false) };
      if (transposeA && !transposeB) return { a: () => mm(b, g, false, true), b: () => mm(a, g, false, false) };
      return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) };
    },
  });
  installed = true;
}
