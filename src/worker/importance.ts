import { coreIds, defaultCoreSize, rankByEffect } from '../circuit/core';
import type { CircuitFile } from '../circuit/circuitSchema';
import { pairEdgeKind } from '../model/registry';
import type { AblationMode, Intervention } from '../model/interventions';
import type { LayerRange } from '../model/layerRange';
import { taskMetrics } from '../tasks/taskLoss';
import type { TaskPair } from '../tasks/taskSchema';
import type { ProgressOf, TargetPrompt, TaskVariantMetrics, Variant } from './protocol';

/**
 * How much a circuit relies on each of its nodes and edges: the task loss over the test prompts with the node (or
 * edge) also ablated, on top of the circuit restriction, minus the circuit's own loss. Uncalibrated (raw logits) and in
 * the given ablation mode. One implementation for the page's importance list (the engine's `importance` job) and
 * `npm run prune -- --describe --importance` (scripts/lib/pruneCli.ts).
 *
 * "Also ablated" is written as the circuit restriction followed by a node (or edge) intervention: the same values as
 * the restriction to the circuit without that node, but the two lists agree on every stage before the node's, so the
 * incremental evaluation (stagedTaskEval.ts) recomputes only from there on.
 */
export interface ImportanceRequest {
  /** The task the prompts are from (part of the cache key). */
  task: string;
  /** The task's test prompts (see `targetPrompts`). */
  prompts: TargetPrompt[];
  /** The circuit's node ids. */
  nodes: string[];
  /** A circuit found over a layer range (the file's `layers`): the restriction, and each core's, ablate only that
   *  range's nodes. */
  layers?: LayerRange;
  /** Edges to rank: each is ablated alone, `{kind: 'edge', source, target, mode}`, on top of the restriction. */
  edges: { source: string; target: string }[];
  mode: AblationMode;
  /** Also find the default core (src/circuit/core.ts; a few evaluations of top-n cores). */
  core: boolean;
}

export interface ImportanceEntry {
  /** Node id, or `source>target` for an edge (the graph's edge id). */
  id: string;
  kind: 'node' | 'edge';
  /** loss - circuit loss. */
  effect: number;
  loss: number;
  accuracy: number;
  /** Per prompt, correct minus alternative logit with this entry also ablated (per-pair effects are read from it). */
  diffs: Float32Array;
}

/** Loss and accuracy of a core: the circuit restriction to the n highest-ranked nodes. */
export interface CoreMetrics {
  n: number;
  loss: number;
  accuracy: number;
}

export interface ImportanceResult {
  /** The circuit itself (uncalibrated), the baseline of every effect. */
  circuit: { loss: number; accuracy: number; diffs: Float32Array };
  /** Ranked, largest effect first (src/circuit/core.ts rankByEffect). */
  nodes: ImportanceEntry[];
  edges: ImportanceEntry[];
  /** The default core size and the cores evaluated to find it; null when not asked for. */
  core: { size: number; probes: CoreMetrics[] } | null;
  millis: number;
}

/**
 * Evaluates variants over the request's prompts (uncalibrated metrics, logit differences per prompt). `keep`: whether
 * the variant's residual streams are worth keeping for later evaluations (the circuit's are: every other variant
 * starts from them; a single node's are not, and would push the page's own out of the cache).
 */
export type EvaluateVariants = (variants: Variant[], signal: AbortSignal, keep: boolean) => Promise<TaskVariantMetrics[]>;

/** A task's test pairs as the prompts the page evaluates: both prompts of every pair, a then b. */
export function targetPrompts(pairs: readonly TaskPair[]): TargetPrompt[] {
  return pairs.flatMap((p) => [p.a, p.b]).map((q) => ({ tokens: q.tokens, correct: q.correct, alternative: q.alternative }));
}

export const edgeId = (e: { source: string; target: string }) => `${e.source}>${e.target}`;

/**
 * The edges ranked with a circuit's nodes: all of its edges the runtime can ablate alone (weight entries, residual
 * paths and q·k pairs: docs/circuits.md, "Ablating an edge"), each once.
 */
export function rankedEdges(circuit: Pick<CircuitFile, 'edges'>): { source: string; target: string }[] {
  const seen = new Set<string>();
  return circuit.edges.filter((e) => {
    if (pairEdgeKind(e.source, e.target) === null || seen.has(edgeId(e))) return false;
    seen.add(edgeId(e));
    return true;
  }).map((e) => ({ source: e.source, target: e.target }));
}

/** The core of size n as an intervention list: every node outside the n highest-ranked ablated. */
export function coreIntervention(ranking: readonly { id: string; effect: number }[], n: number, mode: AblationMode, layers?: LayerRange): Intervention {
  return { kind: 'circuit', nodes: coreIds(ranking, n), mode, ...(layers ? { layers } : {}) };
}

function checkRequest(req: ImportanceRequest): void {
  if (req.prompts.length === 0) throw new Error(`task ${req.task} has no test prompts to rank the circuit on`);
  if (req.nodes.length === 0) throw new Error('the circuit has no nodes to rank');
  const nodes = new Set(req.nodes);
  if (nodes.size !== req.nodes.length) throw new Error('the circuit lists a node twice');
  for (const e of req.edges) {
    if (!nodes.has(e.source) || !nodes.has(e.target)) throw new Error(`edge ${edgeId(e)} names a node outside the circuit`);
  }
}

export async function computeImportance(
  evaluate: EvaluateVariants,
  req: ImportanceRequest,
  onProgress: (p: ProgressOf<'importance'>) => void,
  signal: AbortSignal,
): Promise<ImportanceResult> {
  const t0 = performance.now();
  checkRequest(req);
  const restriction: Intervention = { kind: 'circuit', nodes: req.nodes, mode: req.mode, ...(req.layers ? { layers: req.layers } : {}) };
  // Bisection over [1, n] probes at most ceil(log2 n) cores; the count only sizes the progress bar.
  const coreSteps = req.core ? Math.ceil(Math.log2(req.nodes.length + 1)) : 0;
  const total = 1 + req.nodes.length + req.edges.length + coreSteps;
  let done = 0;
  const step = (stage: string) => onProgress({ kind: 'importance', stage, done, total: Math.max(total, done) });
  const one = async (label: string, interventions: Intervention[], keep = false) => {
    const [m] = await evaluate([{ label, interventions }], signal, keep);
    done++;
    return m!;
  };

  step('evaluating the circuit');
  const base = await one('circuit', [restriction], true);
  const entry = (id: string, kind: 'node' | 'edge', m: TaskVariantMetrics): ImportanceEntry =>
    ({ id, kind, effect: m.loss - base.loss, loss: m.loss, accuracy: m.accuracy, diffs: m.logitDiffs });
  const nodes: ImportanceEntry[] = [];
  for (const [i, node] of req.nodes.entries()) {
    step(`node ${i + 1} of ${req.nodes.length}: ${node}`);
    nodes.push(entry(node, 'node', await one(node, [restriction, { kind: 'node', node, mode: req.mode }])));
  }
  const edges: ImportanceEntry[] = [];
  for (const [i, e] of req.edges.entries()) {
    step(`edge ${i + 1} of ${req.edges.length}: ${edgeId(e)}`);
    edges.push(entry(edgeId(e), 'edge', await one(edgeId(e), [restriction, { kind: 'edge', source: e.source, target: e.target, mode: req.mode }])));
  }
  const ranked = rankByEffect(nodes);
  let core: ImportanceResult['core'] = null;
  if (req.core) {
    const probes: CoreMetrics[] = [];
    const size = await defaultCoreSize(ranked.length, base.loss, async (n) => {
      step(`finding the smallest core · ${n} nodes`);
      const m = await one(`core ${n}`, [coreIntervention(ranked, n, req.mode, req.layers)]);
      probes.push({ n, loss: m.loss, accuracy: m.accuracy });
      return m.loss;
    }, { signal });
    core = { size, probes };
  }
  onProgress({ kind: 'importance', stage: 'done', done, total: done });
  return {
    circuit: { loss: base.loss, accuracy: base.accuracy, diffs: base.logitDiffs },
    nodes: ranked, edges: rankByEffect(edges), core, millis: performance.now() - t0,
  };
}

/**
 * Effects on one test pair only (both of its prompts, `pair` indexes the task's test pairs in the order of
 * `targetPrompts`): which nodes matter for this prompt. Ranked, largest first.
 */
export function pairEffects(result: Pick<ImportanceResult, 'circuit'>, entries: readonly ImportanceEntry[], pair: number): { id: string; effect: number }[] {
  const at = (d: Float32Array) => taskMetrics([d[2 * pair]!, d[2 * pair + 1]!]).loss;
  if (!(Number.isInteger(pair) && pair >= 0 && 2 * pair + 1 < result.circuit.diffs.length)) throw new Error(`no test pair ${pair}`);
  const base = at(result.circuit.diffs);
  return rankByEffect(entries.map((e) => ({ id: e.id, effect: at(e.diffs) - base })));
}

/** The cache key of an importance job: the model, task, circuit (nodes and ranked edges), ablation mode and prompts. */
export function importanceKey(modelId: string, req: ImportanceRequest): string {
  return JSON.stringify([modelId, req.task, req.mode, req.nodes, req.layers ?? null, req.edges.map(edgeId), req.core, req.prompts]);
}

/**
 * Finished importance jobs of the loaded model, newest last: asking again for the same model, task, circuit and mode
 * answers at once. A cancelled or failed job stores nothing.
 */
export class ImportanceCache {
  private readonly entries = new Map<string, ImportanceResult>();

  constructor(private readonly capacity = 8) {}

  async run(key: string, compute: () => Promise<ImportanceResult>): Promise<ImportanceResult> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const result = await compute();
    this.entries.set(key, result);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return result;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
