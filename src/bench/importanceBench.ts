// The importance job (src/worker/importance.ts) on the bench page, for `importance` in `npm run bench`: every node and
// edge of a circuit of about 100 nodes also ablated over the task's test pairs, then the default core, as the
// explorer's importance list computes it. Each run starts from a fresh evaluator (nothing cached, the circuit's own
// evaluation included), so the median is what opening the list costs.
import type { SparseGpt } from '../model/forward';
import { computeImportance, rankedEdges, targetPrompts } from '../worker/importance';
import { TaskEvaluator } from '../worker/stagedTaskEval';
import type { TaskPair } from '../tasks/taskSchema';
import { median } from './stats';

interface CircuitLike { ablation: 'mean' | 'zero'; nodes: { site: string; channel: number }[]; edges: { source: string; target: string; weight: number; kind: 'weight' | 'residual' | 'qk' }[] }

async function json<T>(url: string): Promise<T | null> {
  const r = await fetch(url);
  return r.ok && (r.headers.get('content-type') ?? '').includes('json') ? ((await r.json()) as T) : null;
}

export async function importanceBench(model: SparseGpt, baseUrl: string, task: string, runs: number) {
  const file = await json<{ test: TaskPair[] }>(`${baseUrl}tasks/${task}.json`);
  const circuit = await json<CircuitLike>(`${baseUrl}circuits/${task}.json`);
  if (!file || !circuit) return { task, skipped: 'the model folder has no such task or circuit' };
  const request = {
    task, prompts: targetPrompts(file.test), nodes: circuit.nodes.map((n) => `${n.site}:${n.channel}`), edges: rankedEdges(circuit),
    mode: circuit.ablation, core: true,
  };
  const never = new AbortController().signal;
  const times: number[] = [];
  let evaluations = 0;
  let last: Awaited<ReturnType<typeof computeImportance>> | null = null;
  for (let r = 0; r < runs; r++) {
    const ev = new TaskEvaluator(model);
    try {
      const t0 = performance.now();
      last = await computeImportance(async (variants, signal, keep) => (await ev.evaluate(request.prompts, variants, () => {}, signal, keep)).variants,
        request, (p) => { evaluations = p.done; }, never);
      times.push(performance.now() - t0);
    } finally {
      ev.dispose();
    }
  }
  const ms = median(times);
  return {
    task,
    nodes: request.nodes.length,
    edges: request.edges.length,
    prompts: request.prompts.length,
    evaluations,
    importance_ms_median: ms,
    importance_ms: times.map((t) => Math.round(t)),
    ms_per_evaluation_median: ms / Math.max(1, evaluations),
    default_core: last?.core?.size ?? null,
    circuit_loss: last?.circuit.loss ?? null,
    top_nodes: last?.nodes.slice(0, 3).map((n) => ({ id: n.id, effect: n.effect })) ?? [],
  };
}
