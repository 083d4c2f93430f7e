import type { SparseGpt } from '../model/forward';
import { hostResidentBackend } from '../model/hostRows';
import { batchTensors, disposeBatch, prepareBatch, runStages, type StagedBatch } from '../model/stagedForward';
import { latestStart, stageKeys } from '../model/stages';
import { tf } from '../model/tfjs';
import type { ProgressOf, TargetPrompt, TaskEvalResult, Variant } from './protocol';
import { ResidualCache, type CacheEntry } from './residualCache';
import { batchesByLength, checkPrompts, variantMetrics } from './taskEval';
import { yieldToMessages } from './yieldToMessages';

export interface TaskEvaluatorOptions {
  /** Bytes of cached residual streams (default 96 MiB; sparse-py-2l's 200 quote-task prompts take under 4 MB per list). */
  cacheBytes?: number;
  /** Padded tokens per batch. Only two logits per prompt are materialised, so batches can be large, and the larger
   *  the batch, the more shared prefixes are computed once: by default 8192 on cpu and wasm, fewer for wide MLPs (the
   *  neuron activations of a batch stay within 16 MiB); 2048 on GPU backends, whose batches take long enough on a
   *  software adapter that progress should move between them. */
  tokensPerBatch?: number;
}

/** How one variant of the last evaluation was computed (tests and the benchmark read it). */
export interface VariantRunInfo {
  label: string;
  /** First stage computed (stages.ts), or null when the same list's result was reused whole. */
  from: number | null;
  millis: number;
}

/**
 * The explorer's task metrics: task loss and accuracy of each variant over a task's test prompts, computed
 * incrementally. Batches are prepared once per prompt set; each variant's run starts at the first stage its
 * intervention list changes with respect to a cached run (the full model or circuit run, or an earlier "current"),
 * computes only the last position after the last layer's keys and values (stagedForward.ts), and is cached in turn.
 * Results equal a full evaluation of the same variant to float rounding (stagedTaskEval.test.ts). Calls run one at a
 * time, so a cancelled evaluation never frees streams a newer one is reading.
 */
export class TaskEvaluator {
  private prepared: { key: string; batches: number[][]; staged: StagedBatch[] } | null = null;
  private readonly cache: ResidualCache;
  private readonly tokensPerBatch: number;
  private queue: Promise<unknown> = Promise.resolve();
  lastRun: VariantRunInfo[] = [];

  constructor(readonly model: SparseGpt, opts: TaskEvaluatorOptions = {}) {
    this.cache = new ResidualCache(opts.cacheBytes ?? 96 * 2 ** 20);
    const most = hostResidentBackend(tf.getBackend()) ? 8192 : 2048;
    this.tokensPerBatch = opts.tokensPerBatch ?? Math.max(64, Math.min(most, Math.floor(2 ** 22 / model.config.dMlp)));
  }

  /** `keep: false`: the variants' residual streams are dropped after use instead of cached (a one-off variant, such as
   *  the importance job's single ablations, would otherwise push out the ones later clicks start from). */
  evaluate(prompts: TargetPrompt[], variants: Variant[], onProgress: (p: ProgressOf<'eval'>) => void, signal: AbortSignal, keep = true): Promise<TaskEvalResult> {
    const run = this.queue.then(() => this.evaluateNow(prompts, variants, onProgress, signal, keep));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Bytes of residual streams held. */
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  /** Tensors held between calls (prepared batches and cached streams): not a leak, and reported apart from one. */
  get heldTensors(): number {
    return this.cache.tensors + (this.prepared?.staged.reduce((n, b) => n + batchTensors(b).length, 0) ?? 0);
  }

  dispose(): void {
    this.cache.clear();
    for (const b of this.prepared?.staged ?? []) disposeBatch(b);
    this.prepared = null;
  }

  private prepare(prompts: TargetPrompt[]): { batches: number[][]; staged: StagedBatch[] } {
    const key = JSON.stringify(prompts);
    if (this.prepared?.key === key) return this.prepared;
    this.dispose(); // streams cached for other prompts mean nothing for these
    checkPrompts(this.model.config, prompts);
    const batches = batchesByLength(prompts, this.tokensPerBatch, true);
    const staged = batches.map((b) => prepareBatch(this.model, b.map((i) => prompts[i]!)));
    this.prepared = { key, batches, staged };
    return this.prepared;
  }

  private async evaluateNow(prompts: TargetPrompt[], variants: Variant[], onProgress: (p: ProgressOf<'eval'>) => void, signal: AbortSignal, keep: boolean): Promise<TaskEvalResult> {
    const t0 = performance.now();
    signal.throwIfAborted();
    const { batches, staged } = this.prepare(prompts);
    const total = variants.length * prompts.length;
    let done = 0;
    this.lastRun = [];
    const out = [];
    for (const v of variants) {
      const tv = performance.now();
      const keys = stageKeys(this.model.config, v.interventions);
      const start = this.cache.start(keys, latestStart(this.model.config, v.interventions));
      let diffs: Float32Array;
      if (start.same) {
        diffs = start.same.diffs;
        done += prompts.length;
        onProgress({ kind: 'eval', stage: `evaluating ${v.label}`, done, total });
      } else {
        const entry: CacheEntry = { keys, stages: new Map(), diffs: new Float32Array(prompts.length) };
        try {
          for (let b = 0; b < batches.length; b++) {
            await yieldToMessages();
            signal.throwIfAborted();
            await this.runBatch(entry, staged[b]!, batches[b]!, b, v, start.from, start.source);
            done += batches[b]!.length;
            onProgress({ kind: 'eval', stage: `evaluating ${v.label}`, done, total });
          }
        } catch (e) {
          for (const perBatch of entry.stages.values()) for (const t of perBatch) t.dispose();
          throw e;
        }
        if (keep) this.cache.add(entry);
        else for (const perBatch of entry.stages.values()) for (const t of perBatch) t.dispose();
        diffs = entry.diffs;
      }
      this.lastRun.push({ label: v.label, from: start.same ? null : start.from, millis: performance.now() - tv });
      out.push(variantMetrics(prompts, v, Float32Array.from(diffs)));
    }
    return { prompts: prompts.length, variants: out, millis: performance.now() - t0 };
  }

  private async runBatch(entry: CacheEntry, batch: StagedBatch, members: number[], b: number, v: Variant, from: number, source: CacheEntry | null): Promise<void> {
    const residualIn = source?.stages.get(from)?.[b];
    const run = runStages(this.model, batch, v.interventions, from, residualIn);
    for (const [s, t] of run.entering) {
      let perBatch = entry.stages.get(s);
      if (!perBatch) entry.stages.set(s, (perBatch = []));
      perBatch[b] = t;
    }
    let values: Float32Array;
    try {
      values = (await run.logits.data()) as Float32Array;
    } finally {
      run.logits.dispose();
    }
    members.forEach((p, j) => { entry.diffs[p] = values[2 * j]! - values[2 * j + 1]!; });
  }
}
