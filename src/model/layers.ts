import { tf } from './tfjs';

/**
 * Building blocks of the forward pass (docs/model-folder.md). Activations are [B, T, width]; every op here
 * exists on cpu, wasm, webgl and webgpu and has a gradient usable on cpu and wasm (no gather on the path
 * from site values to logits), because the pruning code differentiates through them.
 */

/** PyTorch nn.RMSNorm with eps=None uses finfo(float32).eps. */
export const RMS_EPS = 1.1920929e-7;
export const LN_EPS = 1e-5;

/** x @ wT (+ b), with wT already stored [in, out]; 3-D input is flattened to 2-D for a plain matMul. */
export function linear(x: tf.Tensor3D, wT: tf.Tensor, b?: tf.Tensor): tf.Tensor3D {
  const [B, T, n] = x.shape;
  let y: tf.Tensor = tf.matMul(tf.reshape(x, [B * T, n]), wT as tf.Tensor2D);
  if (b) y = tf.add(y, b);
  return tf.reshape(y, [B, T, wT.shape[1]!]) as tf.Tensor3D;
}

export function rmsNorm(x: tf.Tensor3D, w: tf.Tensor): tf.Tensor3D {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, RMS_EPS))), w);
}

export function layerNorm(x: tf.Tensor3D, w: tf.Tensor, b?: tf.Tensor): tf.Tensor3D {
  const centered = tf.sub(x, tf.mean(x, -1, true));
  const variance = tf.mean(tf.square(centered), -1, true);
  const y = tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, LN_EPS))), w) as tf.Tensor3D;
  return b ? (tf.add(y, b) as tf.Tensor3D) : y;
}

/** Exact-erf GELU (nn.GELU default), or ReLU. */
export function activation(x: tf.Tensor3D, kind: 'gelu' | 'relu'): tf.Tensor3D {
  if (kind === 'relu') return tf.relu(x);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** Additive causal mask [T, T]: 0 where key <= query, a large negative number above the diagonal
 *  (not -Infinity, which turns into NaN in gradients and in half-precision GPU paths). */
export function causalMask(T: number): tf.Tensor2D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return tf.tensor2d(m, [T, T]);
}

/**
 * Causal multi-head attention on already-projected q, k, v ([B, Tq, H*dHead] and [B, T, H*dHead], channel c in head
 * c/dHead). Scale 1/sqrt(dHead); `mask` is causalMask(T) ([T, T], Tq = T), or its rows for the Tq query positions of
 * each sequence ([B, 1, Tq, T]). `sink` ([H]) adds one always-visible key slot with logit sink[h] and value 0, i.e.
 * exp(sink[h]) in the softmax denominator only. Returns the head outputs merged back to [B, Tq, H*dHead] and
 * the attention pattern [B, H, Tq, T] (without the sink slot, so rows sum to < 1 when a sink is present).
 */
export function attention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, nHead: number, dHead: number, mask: tf.Tensor, sink?: tf.Tensor): { y: tf.Tensor3D; probs: tf.Tensor4D } {
  const [B, Tq] = q.shape;
  const T = k.shape[1];
  // Explicit transposes + plain batched matMul: transposeA/B flags are much slower on wasm.
  const heads = (t: tf.Tensor3D, n: number, perm: number[], shape: [number, number, number]) =>
    tf.reshape(tf.transpose(tf.reshape(t, [B, n, nHead, dHead]), perm), shape) as tf.Tensor3D;
  const qh = heads(q, Tq, [0, 2, 1, 3], [B * nHead, Tq, dHead]);
  const kt = heads(k, T, [0, 2, 3, 1], [B * nHead, dHead, T]);
  const vh = heads(v, T, [0, 2, 1, 3], [B * nHead, T, dHead]);
  const scores = tf.add(tf.reshape(tf.mul(tf.matMul(qh, kt), 1 / Math.sqrt(dHead)), [B, nHead, Tq, T]), mask);
  let probs: tf.Tensor4D;
  if (sink) {
    const sinkCol = tf.add(tf.zeros([B, nHead, Tq, 1]), tf.reshape(sink, [1, nHead, 1, 1]));
    const withSink = tf.softmax(tf.concat([scores, sinkCol], 3));
    probs = tf.slice(withSink, [0, 0, 0, 0], [B, nHead, Tq, T]) as tf.Tensor4D;
  } else {
    probs = tf.softmax(scores) as tf.Tensor4D;
  }
  const out = tf.matMul(tf.reshape(probs, [B * nHead, Tq, T]) as tf.Tensor3D, vh);
  const y = tf.reshape(tf.transpose(tf.reshape(out, [B, nHead, Tq, dHead]), [0, 2, 1, 3]), [B, Tq, nHead * dHead]) as tf.Tensor3D;
  return { y, probs };
}
