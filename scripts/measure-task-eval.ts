/**
 * What each optimisation of the explorer's task metrics buys, measured side by side in one Node process on one backend
 * (docs/explorer.md, "Engine"). Prints JSON: median milliseconds per step over the task's test prompts.
 *
 *   npx tsx scripts/measure-task-eval.ts [--model sparse-py-2l] [--task single_double_quote] [--backend wasm] [--runs 5]
 *
 * Steps: the full re-evaluation as it was (whole forward pass at every position, AbsTopK through TF.js's topk); the
 * same with AbsTopK's mask built in JS; the staged evaluation from the tokens (last position only after the last
 * layer's keys and values, two unembedding rows per prompt); a toggle that starts at the changed stage from a cached
 * residual stream, per stage; the same on CSR weights; and a switch of the ablation mode in the circuit view.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installTfjsNodeHook } from './lib/tfjsNodeHook';

installTfjsNodeHook();
const { parseArgs } = await import('./lib/args');
const { MODELS_DIR, folderFiles } = await import('./lib/models');
const { loadModelFolder, mapSource } = await import('../src/model/checkpoint');
const { SparseGpt } = await import('../src/model/forward');
const { setHostTopK } = await import('../src/model/hostTopK');
const { toSparseRepresentation } = await import('../src/model/testing/sparseCheckpoint');
const { siteStage } = await import('../src/model/stages');
const { parseNodeId } = await import('../src/model/sites');
const { useBackend } = await import('../src/model/testing/nodeBackends');
const { tf } = await import('../src/model/tfjs');
const { TaskEvaluator } = await import('../src/worker/stagedTaskEval');
const { evalTask } = await import('../src/worker/taskEval');
type Intervention = import('../src/model/interventions').Intervention;
type Variant = import('../src/worker/protocol').Variant;

const args = parseArgs(process.argv.slice(2), ['model', 'task', 'backend', 'runs'], []);
const arg = (key: string, fallback: string) => args.values.get(key)?.at(-1) ?? fallback;
const id = arg('model', 'sparse-py-2l');
const taskName = arg('task', 'single_double_quote');
const backend = arg('backend', 'wasm') as 'wasm' | 'cpu';
const runs = Number(arg('runs', '5'));

await useBackend(backend);
tf.env().set('IS_TEST', false); // the per-kernel leak checks that tests turn on would be timed too
const { checkpoint } = await loadModelFolder(mapSource(folderFiles(id), id));
const dir = join(MODELS_DIR, id);
const task = JSON.parse(readFileSync(join(dir, 'tasks', `${taskName}.json`), 'utf8'));
const circuit = JSON.parse(readFileSync(join(dir, 'circuits', `${taskName}.json`), 'utf8'));
const prompts = task.test.flatMap((p: { a: unknown; b: unknown }) => [p.a, p.b]).map((q: { tokens: number[]; correct: number; alternative: number }) => ({ tokens: q.tokens, correct: q.correct, alternative: q.alternative }));
const c = checkpoint.config;
const never = new AbortController().signal;
const quiet = () => {};

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const round = (x: number) => Math.round(x * 10) / 10;
/** Wall and CPU time of one call: on a shared machine the process's CPU time is the steadier figure. */
async function once(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}
const medians = (xs: { wall: number; cpu: number }[]) => ({ wall_ms: round(median(xs.map((x) => x.wall))), cpu_ms: round(median(xs.map((x) => x.cpu))) });
async function time(fn: () => Promise<unknown>, n = runs): Promise<{ wall_ms: number; cpu_ms: number }> {
  await fn(); // warm-up: kernels compiled, batches prepared
  const ts = [];
  for (let i = 0; i < n; i++) ts.push(await once(fn));
  return medians(ts);
}

// The circuit's strongest weight edge in each stage: what a user clicks.
type Edge = { source: string; target: string; weight: number; kind: string };
const edges = (circuit.edges as Edge[]).filter((e) => e.kind === 'weight').sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
const byStage = new Map<number, Edge[]>();
for (const e of edges) {
  const s = siteStage(c, parseNodeId(e.target).site);
  byStage.set(s, [...(byStage.get(s) ?? []), e]);
}
const edgeIv = (e: Edge, mode: 'mean' | 'zero'): Intervention => ({ kind: 'edge', source: e.source, target: e.target, mode });
const circuitIv = (mode: 'mean' | 'zero'): Intervention => ({ kind: 'circuit', nodes: circuit.nodes.map((n: { site: string; channel: number }) => `${n.site}:${n.channel}`), mode });
const firstEdge = edges[0]!;
const current: Variant = { label: 'current', interventions: [edgeIv(firstEdge, 'mean')] };

const report: Record<string, unknown> = { model: id, task: taskName, backend, prompts: prompts.length, runs, edge: `${firstEdge.source} -> ${firstEdge.target}` };

// 1. The full re-evaluation of "current" with AbsTopK through TF.js's topk (as before this work) and in JS, alternating
//    run by run so that the machine's drift falls on both alike.
const dense = new SparseGpt(checkpoint);
const full = () => evalTask(dense, prompts, [current], quiet, never);
await full();
const byTopk: Record<string, { wall: number; cpu: number }[]> = { tf: [], js: [] };
for (let i = 0; i < runs; i++) {
  for (const which of ['tf', 'js'] as const) {
    setHostTopK(which === 'js');
    byTopk[which]!.push(await once(full));
  }
}
setHostTopK(true);
report.full_reevaluation_tf_topk = medians(byTopk.tf!);
report.full_reevaluation = medians(byTopk.js!);

// 2. Staged from the tokens (no cache: a fresh evaluator per run), dense and CSR weights, several batch sizes.
const csr = new SparseGpt(toSparseRepresentation(checkpoint), { sparseKernel: 'csr' });
for (const [name, model, sizes] of [['dense', dense, [2048, 8192]], ['csr', csr, [8192]]] as const) {
  for (const tokensPerBatch of sizes) {
    report[`staged_from_tokens_${name}_${tokensPerBatch}`] = await time(async () => {
      const ev = new TaskEvaluator(model, { tokensPerBatch });
      await ev.evaluate(prompts, [current], quiet, never);
      ev.dispose();
    });
  }
}

// 3. A toggle from the cached full-model run: per stage of the edited edge, the median over that stage's edges.
for (const [name, model] of [['dense', dense], ['csr', csr]] as const) {
  const ev = new TaskEvaluator(model);
  await ev.evaluate(prompts, [{ label: 'full', interventions: [] }], quiet, never);
  const perStage: Record<string, unknown> = {};
  const all = [];
  for (const [stage, list] of [...byStage].sort((a, b) => a[0] - b[0])) {
    const ts = [];
    for (const e of list.slice(0, runs)) ts.push(await once(() => ev.evaluate(prompts, [{ label: 'current', interventions: [edgeIv(e, 'mean')] }], quiet, never)));
    perStage[`stage_${stage}`] = medians(ts);
    all.push(...ts);
  }
  // The explorer's bench clicks the strongest edges: the median over the first `runs` of them.
  const strongest = [];
  for (const e of edges.slice(0, runs)) strongest.push(await once(() => ev.evaluate(prompts, [{ label: 'current', interventions: [edgeIv(e, 'zero')] }], quiet, never)));
  report[`toggle_from_cache_${name}`] = { ...perStage, all_edges: medians(all), strongest_edges: medians(strongest), cached_mib: round(ev.cachedBytes / 2 ** 20) };
  // 4. Switching mean -> zero in the circuit view: the circuit row and "current" (circuit + one edge) under zero,
  //    with the mean-mode rows cached (the full model's row is reused across modes by the page).
  const ms = [];
  for (let i = 0; i < Math.min(runs, 3); i++) {
    const fresh = new TaskEvaluator(model);
    await fresh.evaluate(prompts, [{ label: 'circuit', interventions: [circuitIv('mean')] }, { label: 'current', interventions: [circuitIv('mean'), edgeIv(firstEdge, 'mean')] }], quiet, never);
    ms.push(await once(() => fresh.evaluate(prompts, [{ label: 'circuit', interventions: [circuitIv('zero')] }, { label: 'current', interventions: [circuitIv('zero'), edgeIv(firstEdge, 'zero')] }], quiet, never)));
    fresh.dispose();
  }
  report[`mode_switch_circuit_view_${name}`] = medians(ms);
  ev.dispose();
}
console.log(JSON.stringify(report, null, 2));
