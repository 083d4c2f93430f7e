import type { ModelConfig } from '../model/config';
import type { SparseGpt } from '../model/forward';
import { tf } from '../model/tfjs';
import type { ProgressOf, TargetPrompt, TaskEvalResult, TaskVariantMetrics, Variant, VariantCalibration } from './protocol';
import { applyCalibration, taskMetrics } from '../tasks/taskLoss';
import { yieldToMessages } from './yieldToMessages';
import { batchesByLength } from '../model/promptBatches';

/** Tokens per forward pass (batch * padded length): large batches amortise per-op overhead; the bound keeps the
 *  logits (tokens * vocab floats) to a few tens of MB. */
const TOKENS_PER_BATCH = 2048;

/**
 * Task loss and accuracy of each variant over a task's prompts, every variant computed in full (the whole forward pass
 * at every position): the reference that the explorer's incremental evaluation (stagedTaskEval.ts) is tested and
 * benchmarked against. Prompts are right-padded into batches: the model is
 * causal and AbsTopK acts per position, so padding after a prompt never changes its last position. Only the two
 * target logits per prompt are read back. Variants run one after another so the model's intervention cache is
 * rebuilt once per variant, not once per batch. Cancellable between batches.
 */
export async function evalTask(
  model: SparseGpt,
  prompts: TargetPrompt[],
  variants: Variant[],
  onProgress: (p: ProgressOf<'eval'>) => void,
  signal: AbortSignal,
  tokensPerBatch = TOKENS_PER_BATCH,
): Promise<TaskEvalResult> {
  const t0 = performance.now();
  checkPrompts(model.config, prompts);
  const batches = batchesByLength(prompts, tokensPerBatch);
  const total = variants.length * prompts.length;
  let done = 0;
  const out: TaskVariantMetrics[] = [];
  for (const v of variants) {
    const diffs = new Float32Array(prompts.length);
    for (const batch of batches) {
      await yieldToMessages();
      signal.throwIfAborted();
      const picked = gatherTargets(model, batch.map((i) => prompts[i]!), v);
      let values: Float32Array;
      try {
        values = (await picked.data()) as Float32Array;
      } finally {
        picked.dispose();
      }
      batch.forEach((p, j) => { diffs[p] = values[2 * j]! - values[2 * j + 1]!; });
      done += batch.length;
      onProgress({ kind: 'eval', stage: `evaluating ${v.label}`, done, total });
    }
    out.push(variantMetrics(prompts, v, diffs));
  }
  return { prompts: prompts.length, variants: out, millis: performance.now() - t0 };
}

/** Refuses prompts the model cannot run: empty, longer than its context, or tokens outside its vocabulary. */
export function checkPrompts(c: ModelConfig, prompts: readonly TargetPrompt[]): void {
  for (const p of prompts) {
    if (p.tokens.length === 0 || p.tokens.length > c.blockSize) throw new Error(`a task prompt has ${p.tokens.length} tokens; this model holds 1..${c.blockSize}`);
    for (const t of [...p.tokens, p.correct, p.alternative]) if (!(t >= 0 && t < c.vocabSize)) throw new Error(`task token ${t} is outside this model's vocabulary (${c.vocabSize})`);
  }
}

/** Batching is shared with the circuit room's staged evaluation (src/model/promptBatches.ts). */
export { batchesByLength };

/** Loss and accuracy of one variant from its per-prompt logit differences (calibrated when the variant says so). */
export function variantMetrics(prompts: readonly TargetPrompt[], v: Variant, diffs: Float32Array): TaskVariantMetrics {
  const raw = taskMetrics(diffs);
  const cal = v.calibration ?? null;
  const calibrated = cal ? calibrateDiffs(prompts, diffs, cal) : null;
  const m = calibrated ? taskMetrics(calibrated) : raw;
  return {
    label: v.label, loss: m.loss, accuracy: m.accuracy, logitDiffs: calibrated ? Float32Array.from(calibrated) : diffs,
    calibration: cal, uncalibrated: { loss: raw.loss, accuracy: raw.accuracy },
  };
}

/** The circuit file's calibration applied to per-prompt logit differences (taskLoss.applyCalibration). */
export function calibrateDiffs(prompts: readonly TargetPrompt[], diffs: ArrayLike<number>, cal: VariantCalibration): Float64Array {
  const signs = prompts.map((p) => (p.correct === cal.reference ? 1 : -1));
  return applyCalibration(diffs, signs, cal);
}

/** [2 * B] device tensor: (correct, alternative) logit at each prompt's last position. */
function gatherTargets(model: SparseGpt, chunk: TargetPrompt[], v: Variant): tf.Tensor {
  const T = Math.max(...chunk.map((p) => p.tokens.length));
  const ids = new Int32Array(chunk.length * T);
  const where: number[][] = [];
  chunk.forEach((p, b) => {
    ids.set(p.tokens, b * T);
    where.push([b, p.tokens.length - 1, p.correct], [b, p.tokens.length - 1, p.alternative]);
  });
  const tok = tf.tensor2d(ids, [chunk.length, T], 'int32');
  try {
    return tf.tidy(() => {
      const { logits } = model.forwardTensors(tok, { interventions: v.interventions });
      return tf.gatherND(logits, tf.tensor2d(where, [where.length, 3], 'int32'));
    });
  } finally {
    tok.dispose();
  }
}
