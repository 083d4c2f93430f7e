import { finalNorm, mlpBlock, packedAttentionBlock, type BlockOps, type PackedLayout } from './blocks';
import type { SparseGpt } from './forward';
import type { Intervention } from './interventions';
import { rowIndex } from './hostRows';
import { causalMask } from './layers';
import { packPrompts } from './promptTrie';
import { stageCount } from './stages';
import { tf } from './tfjs';
import type { LoadedCheckpoint } from './weights';

/**
 * The forward pass cut to what a task metric needs, stage by stage (stages.ts): the (correct, alternative) logits
 * at each prompt's last position. Savings against forwardTensors: position-wise work runs once per distinct prefix
 * (promptTrie.ts), with no padding; the last layer computes keys and values everywhere but its query, attention
 * output and MLP only at the last position; the unembedding is two rows per prompt instead of the whole vocabulary
 * at every position; and a run may start at any stage from a cached residual stream. The block code is
 * forwardTensors' own (blocks.ts).
 */

export interface BatchPrompt {
  tokens: number[];
  correct: number;
  alternative: number;
}

/** One batch of prompts packed by shared prefix (promptTrie.ts), prepared once for every evaluation of them; the
 *  caller disposes it. */
export interface StagedBatch {
  size: number;
  /** Distinct prefixes: the rows that position-wise work runs over. */
  rows: number;
  layout: PackedLayout;
  /** The embedded rows [1, rows, d], i.e. the residual stream entering stage 0: no intervention changes it. */
  embedded: tf.Tensor3D;
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
  const d = c.dModel;
  const packed = packPrompts(prompts.map((p) => p.tokens));
  const { prompts: B, length: T } = packed;
  // causalMask's row at each last position: keys after it (padding) get the same large negative number.
  const maskRows = new Float32Array(B * T);
  const cols = new Float32Array(B * d * 2);
  prompts.forEach((p, b) => {
    for (let j = p.tokens.length; j < T; j++) maskRows[b * T + j] = -1e9;
    [p.correct, p.alternative].forEach((t, k) => unembedRow(ckpt, t).forEach((w, j) => { cols[(b * d + j) * 2 + k] = w; }));
  });
  const last = prompts.map((p) => p.tokens[p.tokens.length - 1]!);
  const ops = model.blockOps([]);
  return {
    size: B,
    rows: packed.rows,
    layout: {
      prompts: B, length: T,
      spread: rowIndex(packed.spread), slotOf: rowIndex(packed.slotOf), lastRow: rowIndex(packed.lastRow),
      mask: causalMask(T), lastMaskRows: tf.tensor4d(maskRows, [B, 1, 1, T]),
    },
    embedded: tf.tidy(() => tf.reshape(tf.add(
      tf.gather(ops.mustWeight('transformer.wte.weight'), tf.tensor1d(packed.rowToken, 'int32')),
      tf.gather(ops.mustWeight('transformer.wpe.weight'), tf.tensor1d(packed.rowPos, 'int32')),
    ), [1, packed.rows, d]) as tf.Tensor3D),
    targetCols: tf.tensor3d(cols, [B, d, 2]),
    targetIds: tf.tensor1d(prompts.flatMap((p) => [p.correct, p.alternative]), 'int32'),
    bigramAt: c.bigramTable ? tf.tensor3d(prompts.flatMap((p, b) => [last[b]!, p.correct, last[b]!, p.alternative]), [B, 2, 2], 'int32') : null,
  };
}

/** The tensors a batch holds. */
export function batchTensors(b: StagedBatch): tf.Tensor[] {
  const l = b.layout;
  return [l.spread.tensor, l.slotOf.tensor, l.lastRow.tensor, l.mask, l.lastMaskRows, b.embedded, b.targetCols, b.targetIds, ...(b.bigramAt ? [b.bigramAt] : [])];
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
  /** The residual stream entering each stage after `from` (the caller owns these): packed rows [1, rows, d] up to the
   *  last layer's attention, each prompt's last position [B, 1, d] after it. */
  entering: Map<number, tf.Tensor3D>;
}

/**
 * Stages from..2n of one batch under an intervention list, starting from the residual stream entering stage `from`
 * (from an earlier run under a list that agrees on every stage before it; unused when from = 0). `from` may not pass
 * latestStart(list) (stages.ts): a residual edge needs its writer computed in the same run.
 */
export function runStages(model: SparseGpt, batch: StagedBatch, list: readonly Intervention[], from: number, residualIn?: tf.Tensor3D): StagedRun {
  const c = model.config;
  const final = stageCount(c) - 1;
  if (!(Number.isInteger(from) && from >= 0 && from <= final)) throw new Error(`stage ${from} out of range 0..${final}`);
  if (from > 0 && !residualIn) throw new Error(`starting at stage ${from} needs the residual stream entering it`);
  const ops = model.blockOps(list);
  const entering = new Map<number, tf.Tensor3D>();
  let x = from === 0 ? batch.embedded : residualIn!;
  try {
    for (let s = from; s < final; s++) {
      const xIn = x;
      const i = s >> 1;
      // One tidy per stage: its intermediates go before the next starts; its output is kept as the next one's input.
      x = tf.tidy(() => (s % 2 === 0 ? packedAttentionBlock(ops, i, xIn, batch.layout, i === c.nLayer - 1) : mlpBlock(ops, i, xIn)));
      entering.set(s + 1, x);
    }
    const xLast = x;
    return { logits: tf.tidy(() => targetLogits(ops, finalNorm(ops, xLast), batch)), entering };
  } catch (e) {
    for (const t of entering.values()) t.dispose();
    throw e;
  } finally {
    ops.release();
  }
}
