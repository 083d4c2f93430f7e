import type { SparseGpt, ForwardOptions } from '../model/forward';
import { tf } from '../model/tfjs';
import type { TaskPrompt } from '../tasks/taskSchema';

/**
 * A batch of task prompts on the device: tokens right-padded with 0 (causal attention never lets a real position see
 * the padding), a one-hot of each prompt's last position, and a +1/-1 row over the vocabulary picking
 * l_correct - l_alternative. Reading the last position and the two logits by multiplication instead of gather keeps
 * the path from the node masks to the loss differentiable on every backend (gather has no gradient on wasm).
 */
export interface TaskBatch {
  size: number;
  length: number;
  tokens: tf.Tensor2D;
  lastPos: tf.Tensor3D;
  contrast: tf.Tensor2D;
  dispose(): void;
}

export function makeTaskBatch(prompts: readonly TaskPrompt[], vocabSize: number, blockSize: number): TaskBatch {
  const B = prompts.length;
  if (B === 0) throw new Error('empty task batch');
  const T = Math.max(...prompts.map((p) => p.tokens.length));
  if (T > blockSize) throw new Error(`a task prompt has ${T} tokens, more than the model's block_size ${blockSize}`);
  const tok = new Int32Array(B * T);
  const last = new Float32Array(B * T);
  const sel = new Float32Array(B * vocabSize);
  prompts.forEach((p, b) => {
    for (const id of [...p.tokens, p.correct, p.alternative]) {
      if (!(id >= 0 && id < vocabSize)) throw new Error(`task token ${id} outside the model's vocabulary [0, ${vocabSize})`);
    }
    if (p.correct === p.alternative) throw new Error('a task prompt has the same correct and alternative token');
    tok.set(p.tokens, b * T);
    last[b * T + p.tokens.length - 1] = 1;
    sel[b * vocabSize + p.correct] = 1;
    sel[b * vocabSize + p.alternative] = -1;
  });
  const tokens = tf.tensor2d(tok, [B, T], 'int32');
  const lastPos = tf.tensor3d(last, [B, T, 1]);
  const contrast = tf.tensor2d(sel, [B, vocabSize]);
  return {
    size: B,
    length: T,
    tokens,
    lastPos,
    contrast,
    dispose() {
      tokens.dispose();
      lastPos.dispose();
      contrast.dispose();
    },
  };
}

/** Per-prompt logit difference d = l_correct - l_alternative at the last position, [B]. Differentiable. */
export function logitDiffs(model: SparseGpt, batch: TaskBatch, opts: ForwardOptions = {}): tf.Tensor1D {
  return tf.tidy(() => lastLogitDiffs(model.forwardTensors(batch.tokens, { ...opts, readAt: batch.lastPos }).logits, batch));
}

/** The batch's per-prompt logit differences from logits [B, 1, V] already read at each prompt's last position
 *  (ForwardOptions.readAt = batch.lastPos). Differentiable. */
export function lastLogitDiffs(logits: tf.Tensor3D, batch: TaskBatch): tf.Tensor1D {
  return tf.sum(tf.mul(tf.squeeze(logits, [1]), batch.contrast), 1) as tf.Tensor1D;
}

/** Mean per-prompt task loss softplus(-d) as a scalar tensor. Differentiable. */
export function taskLossTensor(d: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.softplus(tf.neg(d)));
}

/**
 * Per-prompt logit differences of many prompts, in batches of `batchSize` (prompts of similar length are batched
 * together to cut padding). Returned in the input order. Async readback, so it works on every backend.
 */
export async function evalLogitDiffs(
  model: SparseGpt,
  prompts: readonly TaskPrompt[],
  opts: ForwardOptions & { batchSize?: number; signal?: AbortSignal } = {},
): Promise<Float32Array> {
  const { batchSize = 32, signal, ...fwd } = opts;
  return evalBatchedDiffs(prompts, model.config, { batchSize, signal }, (batch) => logitDiffs(model, batch, fwd));
}

/** evalLogitDiffs for any differentiable-or-not forward: `diffsOf` maps a batch to its per-prompt logit differences. */
export async function evalBatchedDiffs(
  prompts: readonly TaskPrompt[],
  dims: { vocabSize: number; blockSize: number },
  opts: { batchSize: number; signal?: AbortSignal },
  diffsOf: (batch: TaskBatch) => tf.Tensor1D,
): Promise<Float32Array> {
  const { batchSize, signal } = opts;
  const order = prompts.map((_, i) => i).sort((x, y) => prompts[x]!.tokens.length - prompts[y]!.tokens.length);
  const out = new Float32Array(prompts.length);
  for (let s = 0; s < order.length; s += batchSize) {
    signal?.throwIfAborted();
    const idx = order.slice(s, s + batchSize);
    const batch = makeTaskBatch(idx.map((i) => prompts[i]!), dims.vocabSize, dims.blockSize);
    try {
      const d = diffsOf(batch);
      const data = await d.data();
      d.dispose();
      idx.forEach((i, j) => (out[i] = data[j]!));
    } finally {
      batch.dispose();
    }
  }
  return out;
}
