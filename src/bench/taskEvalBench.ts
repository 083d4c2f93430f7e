// The task metrics' engine side, for `explorer_click_to_metrics` (scripts/bench.mjs): on the bench page, the same task
// prompts and edges the explorer benchmark clicks, timed as a full re-evaluation (the whole forward pass at every
// position, what every click cost before the incremental evaluation) and as the explorer's incremental evaluation
// from a cached full-model run. The page's click-to-metrics figure is divided by the first.
import type { SparseGpt } from '../model/forward';
import { setHostTopK } from '../model/hostTopK';
import type { Intervention } from '../model/interventions';
import { TaskEvaluator } from '../worker/stagedTaskEval';
import { evalTask } from '../worker/taskEval';
import type { TargetPrompt } from '../worker/protocol';
import { median, timeMedian } from './stats';

interface TaskFileLike { test: { a: TargetPrompt; b: TargetPrompt }[] }
interface CircuitLike { edges: { source: string; target: string; weight: number; kind: string }[] }

async function json<T>(url: string): Promise<T | null> {
  const r = await fetch(url);
  return r.ok && (r.headers.get('content-type') ?? '').includes('json') ? ((await r.json()) as T) : null;
}

export async function taskEvalBench(model: SparseGpt, baseUrl: string, task: string, runs: number) {
  const file = await json<TaskFileLike>(`${baseUrl}tasks/${task}.json`);
  const circuit = await json<CircuitLike>(`${baseUrl}circuits/${task}.json`);
  if (!file || !circuit) return { task, skipped: 'the model folder has no such task or circuit' };
  const prompts = file.test.flatMap((p) => [p.a, p.b]).map((q) => ({ tokens: q.tokens, correct: q.correct, alternative: q.alternative }));
  // The strongest weight edges, as the explorer benchmark clicks them (scripts/lib/benchClickToMetrics.mjs).
  const edges: Intervention[] = circuit.edges.filter((e) => e.kind === 'weight').sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))
    .map((e) => ({ kind: 'edge', source: e.source, target: e.target, mode: 'mean' }));
  if (edges.length === 0) return { task, skipped: 'the circuit has no weight edges' };
  const never = new AbortController().signal;
  const quiet = () => {};
  const one = (i: number) => [{ label: 'current', interventions: [edges[i % edges.length]!] }];

  let i = 0;
  const full = async () => void (await evalTask(model, prompts, one(i++), quiet, never));
  const fullMs = await timeMedian(full, Math.max(3, runs >> 1));
  // The same with AbsTopK through TF.js's topk, as every forward pass ran before hostTopK.ts: closer to what a click cost.
  setHostTopK(false);
  let fullTfTopkMs: number;
  try {
    fullTfTopkMs = await timeMedian(full, 3, 1);
  } finally {
    setHostTopK(true);
  }

  const ev = new TaskEvaluator(model);
  try {
    await ev.evaluate(prompts, [{ label: 'full', interventions: [] }], quiet, never);
    const times: number[] = [];
    const stages: (number | null)[] = [];
    for (let k = 0; k < runs; k++) {
      const t0 = performance.now();
      await ev.evaluate(prompts, one(k), quiet, never);
      times.push(performance.now() - t0);
      stages.push(ev.lastRun[0]!.from);
    }
    const incrementalMs = median(times);
    return {
      task,
      prompts: prompts.length,
      full_reevaluation_ms_median: fullMs,
      full_reevaluation_tf_topk_ms_median: fullTfTopkMs,
      incremental_ms_median: incrementalMs,
      incremental_ms: times.map((t) => Math.round(t * 10) / 10),
      incremental_start_stages: stages,
      incremental_over_full_ratio: incrementalMs / fullMs,
    };
  } finally {
    ev.dispose();
  }
}
