// In-browser benchmark page (bench.html), driven by scripts/bench.mjs in headless Chromium. For each backend:
// forward latency on a 64-token prompt, "edge toggled -> new logits read back" latency, and incremental
// recompute from a cached residual (only the layers from the edited one on) vs the full forward pass; on wasm also the
// task metrics over a task's test pairs, fully re-evaluated and incrementally (taskEvalBench.ts), and the importance job
// of a ~100-node circuit (importanceBench.ts).
import '../model/zodNoEval'; // first: before any module builds a zod schema (CSP: no eval)
import { tf } from '../model/tfjs';
import { registerBrowserBackends } from '../model/backends/registerBrowserBackends';
import { probeWebGpu, probeWebGl } from '../model/backends/selectBackend';
import { isBackendName, type BackendName } from '../model/backends/types';
import { loadModelFolder } from '../model/checkpoint/loadModelFolder';
import { urlSource } from '../model/checkpoint/sources';
import { SparseGpt } from '../model/forward';
import type { Intervention } from '../model/interventions';
import { bigModelBench } from './bigModelBench';
import { strongestMlpOutEdge } from './pickEdge';
import { timeMedian } from './stats';
import { importanceBench } from './importanceBench';
import { taskEvalBench } from './taskEvalBench';

/** The task whose metrics are timed (the explorer benchmark's task, scripts/lib/benchClickToMetrics.mjs). */
const TASK = new URLSearchParams(location.search).get('task') ?? 'single_double_quote';
/** The circuit the importance job is timed on: sparse-py-2l's from_import circuit has 100 nodes. */
const IMPORTANCE_TASK = new URLSearchParams(location.search).get('importanceTask') ?? 'from_import';

const SNIPPET = 'def parse(items):\n    result = []\n    for key, value in items:\n        if key == "name":\n            result.append([key, value])\n    return result\n';

async function benchBackend(name: BackendName, baseUrl: string, runs: number) {
  const adapter = name === 'webgpu' ? (await probeWebGpu()).detail : name === 'webgl' ? probeWebGl().detail : name;
  if (!(await tf.setBackend(name).catch(() => false))) return { backend: name, adapter, error: 'failed to start' };
  await tf.ready();
  const { checkpoint, tokenizer } = await loadModelFolder(urlSource(baseUrl));
  const c = checkpoint.config;
  let ids = tokenizer.encode(SNIPPET.repeat(8));
  ids = ids.slice(0, Math.min(64, c.blockSize));
  const model = SparseGpt.fromCheckpoint(checkpoint);
  try {
    const forwardMs = await timeMedian(async () => void (await model.run(ids)), runs);

    const last = c.nLayer - 1;
    const edge = strongestMlpOutEdge(checkpoint, last);
    let on = false;
    const toggleMs = await timeMedian(async () => {
      on = !on;
      await model.run(ids, { interventions: on ? [edge] : [] });
    }, runs);

    // Incremental: the residual entering the edited layer is cached from the unedited run.
    const tok = tf.tensor2d(ids, [1, ids.length], 'int32');
    const base = model.forwardTensors(tok, { recordResidual: true });
    const cached = base.residuals.get(last)!;
    for (const [l, r] of base.residuals) if (l !== last) r.dispose();
    base.logits.dispose();
    const run = async (opts: { startLayer?: number; interventions: Intervention[] }) => {
      const out = model.forwardTensors(tok, { ...opts, residualIn: opts.startLayer ? cached : undefined });
      await out.logits.data();
      out.logits.dispose();
    };
    on = false;
    const fullToggleMs = await timeMedian(async () => { on = !on; await run({ interventions: on ? [edge] : [] }); }, runs);
    on = false;
    const incrementalToggleMs = await timeMedian(async () => { on = !on; await run({ startLayer: last, interventions: on ? [edge] : [] }); }, runs);
    tok.dispose();
    cached.dispose();
    // Task metrics over a task's test pairs (explorer_click_to_metrics divides the page's figure by this full one).
    const taskMetrics = name === 'wasm' ? await taskEvalBench(model, baseUrl, TASK, runs) : undefined;
    // The importance job of a ~100-node circuit (a minute or more per run here): median of three runs.
    const importance = name === 'wasm' ? await importanceBench(model, baseUrl, IMPORTANCE_TASK, Math.min(3, runs)) : undefined;
    return {
      backend: name,
      adapter,
      prompt_tokens: ids.length,
      forward_ms_median: forwardMs,
      edge_toggle_to_logits_ms_median: toggleMs,
      edge_layer: last,
      full_recompute_ms_median: fullToggleMs,
      incremental_recompute_ms_median: incrementalToggleMs,
      incremental_over_full_ratio: incrementalToggleMs / fullToggleMs,
      ...(taskMetrics ? { task_metrics: taskMetrics } : {}),
      ...(importance ? { importance } : {}),
    };
  } finally {
    model.dispose();
  }
}

async function defaultModelId(): Promise<string> {
  const res = await fetch(`${import.meta.env.BASE_URL}models/index.json`);
  if (!res.ok) throw new Error(`models/index.json: HTTP ${res.status}`);
  const index = (await res.json()) as { models: { id: string; default?: boolean }[] };
  const pick = index.models.find((m) => m.default) ?? index.models[0];
  if (!pick) throw new Error('models/index.json lists no model');
  return pick.id;
}

function status(text: string): void {
  document.getElementById('out')!.textContent = text;
}

async function main() {
  const params = new URLSearchParams(location.search);
  registerBrowserBackends(import.meta.env.BASE_URL);
  if (params.get('big')) {
    status(`large model ${params.get('big')}…`);
    const report = await bigModelBench(params);
    (window as unknown as { __bench: unknown }).__bench = report;
    document.getElementById('out')!.textContent = JSON.stringify(report, null, 2);
    return;
  }
  const id = params.get('model') ?? (await defaultModelId());
  const baseUrl = `${import.meta.env.BASE_URL}models/${id}/`;
  const runs = Number(params.get('runs') ?? 10);
  const backends = (params.get('backends') ?? 'cpu,wasm,webgl,webgpu').split(',').filter(isBackendName);
  const results = [];
  for (const b of backends) {
    status(`benchmarking ${b} on ${id}…`);
    try {
      results.push(await benchBackend(b, baseUrl, b === 'cpu' || b === 'webgpu' ? Math.max(3, runs >> 1) : runs));
    } catch (e) {
      results.push({ backend: b, error: (e as Error).message });
    }
  }
  const report = { model: id, runs, userAgent: navigator.userAgent, results };
  (window as unknown as { __bench: unknown }).__bench = report;
  document.getElementById('out')!.textContent = JSON.stringify(report, null, 2);
}

main().catch((e) => {
  (window as unknown as { __bench: unknown }).__bench = { error: (e as Error).message };
});
