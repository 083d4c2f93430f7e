import { attentionBlock, embed, finalNorm, mlpBlock, type BlockOps } from './blocks';
import type { SparseGpt } from './forward';
import type { Intervention } from './interventions';
import { stageCount } from './stages';
import { tf } from './tfjs';
import type { LoadedCheckpoint } from './weights';

/**
 * The forward pass cut to what a task metric needs, stage by stage (stages.ts): the (correct, alternative) logits
 * at each prompt's last position. Physical savings against forwardTensors: the last layer computes keys and values
 * at every position but its query, attention output and MLP only at the last one; the unembedding is two rows per
 * prompt instead of the whole vocabulary at every position; and a run may start at any stage from a cached
 * residual stream. Earlier stages run the same block code (blocks.ts) as forwardTensors.
 */

export interface BatchPrompt {
  tokens: number[];
  correct: number;
  alternative: number;
}

/** One batch of right-padded prompts, prepared once for every evaluation of them; the caller disposes it. */
export interface StagedBatch {
  size: number;
  /** [B, T] int32, right-padded (the model is causal, so padding never reaches a prompt's last position). */
  tokens: tf.Tensor2D;
  /** The embedded tokens, i.e. the residual stream entering stage 0: no intervention changes it. */
  embedded: tf.Tensor3D;
  /** [B, 2] int32: (b, last position of prompt b). */
  lastAt: tf.Tensor2D;
  /** The causal mask's rows at those positions, [B, 1, 1, T]. */
  maskRows: tf.Tensor4D;
  /** Unembedding rows of each prompt's (correct, alternative) tokens as columns, [B, d, 2]. */
  targetCols: tf.Tensor3D;
  /** [B * 2] int32: the target ids, for the logit bias. */
  targetIds: tf.Tensor1D;
  /** [B, 2, 2] int32: (last token, target) index pairs into the bigram table, when the model has one. */
  bigramAt: tf.Tensor3D | null;
}

/** Row `id` of the unembedding [V, d] (tied: the token embedding), from the host copy in either representation. */
function unembedRow(ckpt: LoadedCheckpoint, id: number): Float32Array {
  const d = ckpt.config.dModel;
  const key = ckpt.config.tiedUnembed ? 'transformer.wte.weight' : 'lm_head.weight';
  const dense = ckpt.tensors.get(key);
  if (dense) return dense.data.subarray(id * d, (id + 1) * d);
  const sparse = ckpt.sparse?.get(key);
  if (!sparse) throw new Error(`checkpoint lacks ${key}`);
  return Float32Array.from({ length: d }, (_, j) => sparse.get(id, j));
}

export function prepareBatch(model: SparseGpt, prompts: readonly BatchPrompt[]): StagedBatch {
  const ckpt = model.ckpt;
  const c = ckpt.config;
  const B = prompts.length;
  const T = Math.max(...prompts.map((p) => p.tokens.length));
  const d = c.dModel;
  const ids = new Int32Array(B * T);
  const maskRows = new Float32Array(B * T);
  const cols = new Float32Array(B * d * 2);
  prompts.forEach((p, b) => {
    ids.set(p.tokens, b * T);
    // causalMask's row at the last position: keys after it (padding) get the same large negative number.
    for (let j = p.tokens.length; j < T; j++) maskRows[b * T + j] = -1e9;
    [p.correct, p.alternative].forEach((t, k) => unembedRow(ckpt, t).forEach((w, j) => { cols[(b * d + j) * 2 + k] = w; }));
  });
  const last = prompts.map((p) => p.tokens[p.tokens.length - 1]!);
  const tokens = tf.tensor2d(ids, [B, T], 'int32');
  return {
    size: B,
    tokens,
    embedded: tf.tidy(() => embed(model.blockOps([]), tokens)),
    lastAt: tf.tensor2d(prompts.flatMap((p, b) => [b, p.tokens.length - 1]), [B, 2], 'int32'),
    maskRows: tf.tensor4d(maskRows, [B, 1, 1, T]),
    targetCols: tf.tensor3d(cols, [B, d, 2]),
    targetIds: tf.tensor1d(prompts.flatMap((p) => [p.correct, p.alternative]), 'int32'),
    bigramAt: c.bigramTable ? tf.tensor3d(prompts.flatMap((p, b) => [last[b]!, p.correct, last[b]!, p.alternative]), [B, 2, 2], 'int32') : null,
  };
}

/** The tensors a batch holds. */
export function batchTensors(b: StagedBatch): tf.Tensor[] {
  return [b.tokens, b.embedded, b.lastAt, b.maskRows, b.targetCols, b.targetIds, ...(b.bigramAt ? [b.bigramAt] : [])];
}

export function disposeBatch(b: StagedBatch): void {
  for (const t of batchTensors(b)) t.dispose();
}

/** (correct, alternative) logits [B, 2] from the final-normed stream at the last positions [B, 1, d]. */
function targetLogits(ops: BlockOps, h: tf.Tensor3D, batch: StagedBatch): tf.Tensor2D {
  const B = batch.size;
  let logits: tf.Tensor = tf.reshape(tf.matMul(h, batch.targetCols), [B, 2]);
  const bias = ops.weight('final_logits_bias');
  if (bias) logits = tf.add(logits, tf.reshape(tf.gather(bias, batch.targetIds), [B, 2]));
  if (batch.bigramAt) logits = tf.add(logits, tf.gatherND(ops.mustWeight('bigram_table'), batch.bigramAt));
  return logits as tf.Tensor2D;
}

export interface StagedRun {
  /** [B, 2]: (correct, alternative) logit of each prompt. */
  logits: tf.Tensor2D;
  /** The residual stream entering each stage after `from` (the caller owns these): [B, T, d] up to the last layer's
   *  attention, each prompt's last position [B, 1, d] after it. */
  entering: Map<number, tf.Tensor3D>;
}

/**
 * Stages from..2n of one batch under an intervention list, starting from the residual stream entering stage `from`
 * (from an earlier run under a list that agrees on every stage before it; unused when from = 0).
 */
export function runStages(model: SparseGpt, batch: StagedBatch, list: readonly Intervention[], from: number, residualIn?: tf.Tensor3D): StagedRun {
  const c = model.config;
  const final = stageCount(c) - 1;
  if (!(Number.isInteger(from) && from >= 0 && from <= final)) throw new Error(`stage ${from} out of range 0..${final}`);
  if (from > 0 && !residualIn) throw new Error(`starting at stage ${from} needs the residual stream entering it`);
  const ops = model.blockOps(list);
  const mask = model.causalMask(batch.tokens.shape[1]);
  const query = { at: batch.lastAt, maskRows: batch.maskRows };
  const entering = new Map<number, tf.Tensor3D>();
  let x = from === 0 ? batch.embedded : residualIn!;
  try {
    for (let s = from; s < final; s++) {
      const xIn = x;
      const i = s >> 1;
      // One tidy per stage: its intermediates go before the next starts; its output is kept as the next one's input.
      x = tf.tidy(() => (s % 2 === 0 ? attentionBlock(ops, i, xIn, mask, i === c.nLayer - 1 ? query : undefined) : mlpBlock(ops, i, xIn)));
      entering.set(s + 1, x);
    }
    const xLast = x;
    return { logits: tf.tidy(() => targetLogits(ops, finalNorm(ops, xLast), batch)), entering };
  } catch (e) {
    for (const t of entering.values()) t.dispose();
    throw e;
  }
}
