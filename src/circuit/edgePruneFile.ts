import type { SparseGpt } from '../model/forward';
import type { Intervention } from '../model/interventions';
import { pairPrompts } from '../tasks/taskLoss';
import type { TaskFile, TaskPrompt } from '../tasks/taskSchema';
import { assembleCircuitFile, lossAtKCurve, testPairMetrics, type CircuitFileMeta } from './circuitFile';
import { circuitInterventions } from './circuitInterventions';
import type { CircuitFile } from './circuitSchema';
import type { EdgeCandidates } from './edgePruneCandidates';
import { EdgePruneForward } from './edgePruneForward';
import { appliedMasks } from './edgePruneMasks';
import { edgeMask, topKEdgeMask, type EdgePruneOutcome } from './edgePrune';
import type { CircuitEdge } from './edges';
import { evalLogitDiffs } from './taskBatch';
import type { PruneHooks } from './prune';

/** The kept edges of a 0/1 edge mask, the nodes they touch (layout order) and the unkept candidates between those. */
export function edgeCircuitParts(c: EdgeCandidates, m: Float32Array) {
  const a = appliedMasks(c, m);
  const kept: CircuitEdge[] = [];
  const ablated: CircuitEdge[] = [];
  c.edges.forEach((e, i) => {
    if (m[i] === 1) kept.push(e);
    else if (a.eff[i] === 0) ablated.push(e);
  });
  const nodes: number[] = [];
  a.node.forEach((n, v) => n === 1 && nodes.push(v));
  return { kept, ablated, nodes };
}

/**
 * Evaluates an edge-pruning outcome on the task's held-out test pairs with the runtime's own forward pass and
 * interventions (edgeCircuitInterventions) and assembles the circuit file (granularity "edges"): (a) the full model,
 * (b) the edge circuit, (c) the full model with the kept edges ablated; the loss-at-k curve over the edge ranking uses
 * the pruning forward pass, which equals the runtime's (src/circuit/edgePrune.test.ts).
 */
export async function buildEdgeCircuitFile(model: SparseGpt, task: TaskFile, outcome: EdgePruneOutcome, meta: CircuitFileMeta, hooks: PruneHooks = {}): Promise<CircuitFile> {
  const { candidates: c, ranking, tau } = outcome;
  const cfg = meta.config;
  const mode = cfg.maskFill;
  const E = c.edges.length;
  const test = pairPrompts(task.test);
  const opts = { batchSize: cfg.evalBatchSize, signal: hooks.signal };
  const runtime = (prompts: readonly TaskPrompt[], interventions: Intervention[]) => evalLogitDiffs(model, prompts, { ...opts, interventions });

  const mask = edgeMask(E, outcome.edges);
  const parts = edgeCircuitParts(c, mask);
  const scoreOf = new Map<number, number>();
  for (const e of outcome.edges) {
    for (const v of [c.sourceNode[e]!, c.targetNode[e]!]) scoreOf.set(v, Math.max(scoreOf.get(v) ?? -Infinity, tau[e]!));
  }
  const nodes = parts.nodes.map((v) => ({ ...c.layout.node(v), score: scoreOf.get(v)! }));
  const edgeRef = (e: CircuitEdge) => ({ source: e.source, target: e.target, kind: e.kind });
  const circuitList = circuitInterventions({ nodes, granularity: 'edges', ablated_edges: parts.ablated }, mode);

  const metrics = await testPairMetrics(task, test, outcome.calibration, {
    full: (prompts) => runtime(prompts, []),
    circuit: (prompts) => runtime(prompts, circuitList),
    ablated: (prompts) => runtime(prompts, parts.kept.map((e) => ({ kind: 'edge' as const, source: e.source, target: e.target, mode }))),
  });

  const fwd = new EdgePruneForward(model, c, mode);
  let lossAtK: [number, number][];
  try {
    lossAtK = await lossAtKCurve(outcome, E, meta.lossAtKCount ?? 9, { circuit: metrics.dCircuit }, (kk) =>
      fwd.evalLogitDiffs(test, appliedMasks(c, topKEdgeMask(E, ranking, kk)), opts),
    );
  } finally {
    fwd.dispose();
  }
  return assembleCircuitFile(task, outcome, meta, {
    granularity: 'edges', nodes, edges: parts.kept, ablated_edges: parts.ablated.map(edgeRef), total_edges: E, total_nodes: c.layout.total,
  }, metrics, lossAtK);
}
