import type { SparseGpt } from '../model/forward';
import { nodeId } from '../model/sites';
import type { LoadedCheckpoint } from '../model/weights';
import { applyCalibration, pairPrompts, promptSigns, referenceToken, taskMetrics, type Calibration, type TaskMetrics } from '../tasks/taskLoss';
import type { TaskFile, TaskPrompt } from '../tasks/taskSchema';
import { circuitFileSchema, type CircuitFile } from './circuitSchema';
import { countEdgesByKind, extractEdges } from './edges';
import type { SizeSearchOutcome } from './maskPruning';
import { maskedLogitDiffs, topKMask, type PruneConfig, type PruneHooks, type PruneOutcome } from './prune';

/** k values for the loss-at-k curve: about `count` geometrically spaced sizes from 1 to every node, plus extras. */
export function lossAtKGrid(total: number, count = 12, extra: number[] = []): number[] {
  const ks = new Set<number>(extra.filter((k) => k >= 0 && k <= total));
  for (let i = 0; i < count; i++) ks.add(Math.round(Math.exp((Math.log(total) * i) / (count - 1))));
  ks.add(0);
  ks.add(total);
  return [...ks].sort((a, b) => a - b);
}

/** Thins a curve to at most `max` points (keeping the first and the last). */
function thin(curve: [number, number][], max = 200): [number, number][] {
  if (curve.length <= max) return curve;
  const out: [number, number][] = [];
  for (let i = 0; i < max; i++) out.push(curve[Math.round((i * (curve.length - 1)) / (max - 1))]!);
  return out;
}

export interface CircuitFileMeta {
  modelId: string;
  backend?: string;
  config: PruneConfig;
  lossAtKCount?: number;
}

/** A circuit on the test pairs (docs/circuits.md): (a) the full model, (b) the circuit alone, also after the fitted logit
 *  scale and shift, (c) the full model with the circuit ablated; with the per-prompt logit differences of (a) and (b). */
export interface TestPairMetrics {
  dFull: Float32Array;
  dCircuit: Float32Array;
  full: TaskMetrics;
  circuit: TaskMetrics;
  calibrated: TaskMetrics;
  ablated: TaskMetrics;
}

/** Runs the three evaluations of TestPairMetrics, in that order, on the task's test prompts (pairPrompts(task.test)). */
export async function testPairMetrics(
  task: TaskFile,
  test: readonly TaskPrompt[],
  calibration: Calibration,
  run: Record<'full' | 'circuit' | 'ablated', (test: readonly TaskPrompt[]) => Promise<Float32Array>>,
): Promise<TestPairMetrics> {
  const dFull = await run.full(test);
  const full = taskMetrics(dFull);
  const dCircuit = await run.circuit(test);
  const circuit = taskMetrics(dCircuit);
  const calibrated = taskMetrics(applyCalibration(dCircuit, promptSigns(test, referenceToken(task)), calibration));
  const ablated = taskMetrics(await run.ablated(test));
  return { dFull, dCircuit, full, circuit, calibrated, ablated };
}

/**
 * The loss-at-k curve: test loss of the ranking's top-k circuits over lossAtKGrid, the bisection's k included. That
 * top-k circuit is the circuit itself when the minimality pass removed nothing, and its logit differences are reused;
 * so are the full model's at k = total when given (`full`: only where the top-k circuit of every item is evaluated
 * exactly as the full model was).
 */
export async function lossAtKCurve(
  outcome: Pick<SizeSearchOutcome, 'k' | 'bisectK'>,
  total: number,
  count: number,
  known: { circuit: Float32Array; full?: Float32Array },
  topKLogitDiffs: (k: number) => Promise<Float32Array>,
): Promise<[number, number][]> {
  const isTopK = outcome.k === outcome.bisectK;
  const lossAtK: [number, number][] = [];
  for (const kk of lossAtKGrid(total, count, [outcome.bisectK])) {
    const d = kk === outcome.k && isTopK ? known.circuit : kk >= total && known.full ? known.full : await topKLogitDiffs(kk);
    lossAtK.push([kk, taskMetrics(d).loss]);
  }
  return lossAtK;
}

/** What a granularity adds to the circuit file: its circuit and how many items it was chosen from. */
export type CircuitFileParts = Pick<CircuitFile, 'granularity' | 'nodes' | 'edges' | 'total_nodes' | 'ablated_edges' | 'total_edges' | 'layers'>;

/** The circuit file of a node or edge pruning outcome and its test-pair evaluation (fields: circuitSchema.ts). */
export function assembleCircuitFile(
  task: TaskFile,
  outcome: SizeSearchOutcome,
  meta: CircuitFileMeta,
  parts: CircuitFileParts,
  metrics: TestPairMetrics,
  lossAtK: [number, number][],
): CircuitFile {
  const cfg = meta.config;
  const { full, circuit, calibrated, ablated } = metrics;
  const file: CircuitFile = {
    ...parts,
    task: task.task,
    model: meta.modelId,
    ablation: cfg.maskFill,
    k: outcome.k,
    edge_count: parts.edges.length,
    target_loss: cfg.targetLoss,
    full_model_loss: full.loss,
    full_model_accuracy: full.accuracy,
    circuit_loss: circuit.loss,
    circuit_accuracy: circuit.accuracy,
    ablated_loss: ablated.loss,
    ablated_accuracy: ablated.accuracy,
    logit_scale: outcome.calibration.scale,
    logit_shift: outcome.calibration.shift,
    loss_at_k: lossAtK,
    pruning_curve: thin(outcome.curve),
    prune_seconds: outcome.seconds,
    prune_config: { ...cfg },
    edge_counts: countEdgesByKind(parts.edges),
    circuit_loss_calibrated: calibrated.loss,
    circuit_accuracy_calibrated: calibrated.accuracy,
    train_circuit_loss: outcome.trainLoss,
    train_circuit_loss_bound: outcome.trainLossBound,
    reached_target: outcome.reachedTarget,
    pruning_kept: thin(outcome.keptCurve),
    bisect_probes: outcome.probes,
    bisect_probe_bounds: outcome.probeBounds,
    ...(outcome.minimalityRemoved !== null ? { minimality_removed: outcome.minimalityRemoved } : {}),
    test_pairs: task.test.length,
    train_pairs: task.train.length,
    ...(meta.backend ? { backend: meta.backend } : {}),
    created: new Date().toISOString(),
  };
  return circuitFileSchema.parse(file);
}

/**
 * Evaluates a node pruning outcome on the task's held-out test pairs and assembles the circuit file: the circuit alone
 * is every other node ablated (what the `circuit` intervention does; over a layer range, every other node of the
 * range: the layout's candidates), the ablated circuit its nodes ablated; the loss-at-k curve runs over the same ranking.
 */
export async function buildCircuitFile(
  model: SparseGpt,
  ckpt: LoadedCheckpoint,
  task: TaskFile,
  outcome: PruneOutcome,
  meta: CircuitFileMeta,
  hooks: PruneHooks = {},
): Promise<CircuitFile> {
  const { layout, ranking, k, tau } = outcome;
  const cfg = meta.config;
  const evalOpts = { maskFill: cfg.maskFill, batchSize: cfg.evalBatchSize, signal: hooks.signal };
  const circuitIdx = outcome.nodes;
  const test = pairPrompts(task.test);
  const metrics = await testPairMetrics(task, test, outcome.calibration, {
    full: (test) => maskedLogitDiffs(model, layout, test, null, evalOpts),
    circuit: (test) => maskedLogitDiffs(model, layout, test, k >= layout.total ? null : layout.maskOf(circuitIdx, 1), evalOpts),
    ablated: (test) => maskedLogitDiffs(model, layout, test, layout.maskOf(circuitIdx, 0), evalOpts),
  });
  const lossAtK = await lossAtKCurve(outcome, layout.total, meta.lossAtKCount ?? 9, { circuit: metrics.dCircuit, full: metrics.dFull }, (kk) =>
    maskedLogitDiffs(model, layout, test, topKMask(layout, ranking, kk), evalOpts),
  );

  // Nodes in forward order (layout order), each with its mask parameter.
  const nodes = circuitIdx.slice().sort((a, b) => a - b).map((i) => {
    const n = layout.node(i);
    return { site: n.site, channel: n.channel, score: tau[i]! };
  });
  const edges = extractEdges(ckpt, nodes.map((n) => ({ site: n.site, channel: n.channel })));
  const range = layout.layers ? { layers: layout.layers } : {};
  return assembleCircuitFile(task, outcome, meta, { granularity: 'nodes', nodes, edges, total_nodes: layout.total, ...range }, metrics, lossAtK);
}

/** Node ids of a circuit file, as the `circuit` intervention takes them. */
export function circuitNodeIds(file: Pick<CircuitFile, 'nodes'>): string[] {
  return file.nodes.map((n) => nodeId({ site: n.site as never, channel: n.channel }));
}
