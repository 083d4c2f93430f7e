import type { SparseGpt } from '../model/forward';
import type { Intervention } from '../model/interventions';
import { batchesByLength } from '../model/promptBatches';
import { disposeBatch, prepareBatch, runStages, type BatchPrompt, type StagedBatch } from '../model/stagedForward';
import { stageCount } from '../model/stages';
import type { tf } from '../model/tfjs';

/** A run of one intervention list: its per-prompt logit differences, and the streams it computed (see adopt). */
export interface StagedTrial {
  /** l_correct - l_alternative per prompt, in the evaluator's prompt order. */
  diffs: Float32Array;
  /** First stage computed. */
  from: number;
  /** Per batch: the residual stream entering each stage after `from`. */
  streams: Map<number, tf.Tensor3D>[];
}

/**
 * A fixed prompt set evaluated under a sequence of intervention lists that each differ from a "current" list in a
 * few stages, through the runtime's own staged forward pass (stagedForward.ts: the evaluation the page's task
 * metrics use, and equal to forwardTensors with the same masks to float rounding). A trial that changes only stage s
 * and later starts from the current list's cached stream entering s, so trying to drop a node of the last layer costs
 * a fraction of a forward pass. Adopting a trial makes it the current list. The caller disposes the evaluator.
 */
export class StagedListEvaluator {
  private readonly batches: number[][];
  private readonly staged: StagedBatch[];
  private current: Map<number, tf.Tensor3D>[] | null = null;

  constructor(readonly model: SparseGpt, readonly prompts: readonly BatchPrompt[], tokensPerBatch = Math.max(64, Math.min(8192, Math.floor(2 ** 22 / model.config.dMlp)))) {
    if (prompts.length === 0) throw new Error('no prompts to evaluate');
    this.batches = batchesByLength(prompts, tokensPerBatch, true);
    this.staged = [];
    try {
      for (const b of this.batches) this.staged.push(prepareBatch(model, b.map((i) => prompts[i]!)));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /**
   * Runs `list` from stage `from`, reading the current list's stream entering `from`: the caller guarantees that
   * `list` changes nothing before `from` with respect to the current list (stages.ts). The first run (no current list
   * yet) must start at 0. The trial's streams are the caller's until it adopts or discards the trial.
   */
  async run(list: readonly Intervention[], from: number, signal?: AbortSignal): Promise<StagedTrial> {
    if (from > 0 && !this.current) throw new Error('a run from a later stage needs a current list to start from');
    const final = stageCount(this.model.config) - 1;
    if (!(Number.isInteger(from) && from >= 0 && from <= final)) throw new Error(`stage ${from} out of range 0..${final}`);
    const trial: StagedTrial = { diffs: new Float32Array(this.prompts.length), from, streams: [] };
    try {
      for (let b = 0; b < this.batches.length; b++) {
        signal?.throwIfAborted();
        const r = runStages(this.model, this.staged[b]!, list, from, from > 0 ? this.current![b]!.get(from) : undefined);
        trial.streams.push(r.entering);
        let values: Float32Array;
        try {
          values = (await r.logits.data()) as Float32Array;
        } finally {
          r.logits.dispose();
        }
        this.batches[b]!.forEach((p, j) => { trial.diffs[p] = values[2 * j]! - values[2 * j + 1]!; });
      }
    } catch (e) {
      this.discard(trial);
      throw e;
    }
    return trial;
  }

  /** Makes the trial's list the current one: its streams replace the current streams from its first stage on. */
  adopt(trial: StagedTrial): void {
    if (!this.current) {
      this.current = trial.streams;
    } else {
      this.current.forEach((streams, b) => {
        for (const [s, t] of [...streams]) if (s > trial.from) { t.dispose(); streams.delete(s); }
        for (const [s, t] of trial.streams[b]!) streams.set(s, t);
      });
    }
    trial.streams = [];
  }

  discard(trial: StagedTrial): void {
    for (const m of trial.streams) for (const t of m.values()) t.dispose();
    trial.streams = [];
  }

  dispose(): void {
    for (const m of this.current ?? []) for (const t of m.values()) t.dispose();
    this.current = null;
    for (const b of this.staged) disposeBatch(b);
    this.staged.length = 0;
  }
}
