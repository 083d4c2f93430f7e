import type { SparseGpt } from '../model/forward';
import { nodeId } from '../model/sites';
import type { LoadedCheckpoint } from '../model/weights';
import { applyCalibration, pairPrompts, promptSigns, referenceToken, taskMetrics } from '../tasks/taskLoss';
import type { TaskFile } from '../tasks/taskSchema';
import { circuitFileSchema, type CircuitFile } from './circuitSchema';
import { countEdgesByKind, extractEdges } from './edges';
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

/**
 * Evaluates a pruning outcome on the task's held-out test pairs and assembles the circuit file:
 * (a) the full model, (b) the circuit alone (every other node ablated: what the `circuit` intervention does),
 * (c) the full model with the circuit's nodes ablated; a loss-at-k curve over the same ranking.
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
  const test = pairPrompts(task.test);
  const signs = promptSigns(test, referenceToken(task));
  const circuitIdx = ranking.slice(0, k);
  const dFull = await maskedLogitDiffs(model, layout, test, null, evalOpts);
  const full = taskMetrics(dFull);
  const dCircuit = await maskedLogitDiffs(model, layout, test, topKMask(layout, ranking, k), evalOpts);
  const circuit = taskMetrics(dCircuit);
  const calibrated = taskMetrics(applyCalibration(dCircuit, signs, outcome.calibration));
  const ablated = taskMetrics(await maskedLogitDiffs(model, layout, test, layout.maskOf(circuitIdx, 0), evalOpts));

  const lossAtK: [number, number][] = [];
  for (const kk of lossAtKGrid(layout.total, meta.lossAtKCount ?? 9, [k])) {
    const d = kk === k ? dCircuit : kk >= layout.total ? dFull : await maskedLogitDiffs(model, layout, test, topKMask(layout, ranking, kk), evalOpts);
    lossAtK.push([kk, taskMetrics(d).loss]);
  }

  // Nodes in forward order (layout order), each with its mask parameter.
  const nodes = circuitIdx.slice().sort((a, b) => a - b).map((i) => {
    const n = layout.node(i);
    return { site: n.site, channel: n.channel, score: tau[i]! };
  });
  const edges = extractEdges(ckpt, nodes.map((n) => ({ site: n.site, channel: n.channel })));
  const file: CircuitFile = {
    task: task.task,
    model: meta.modelId,
    ablation: cfg.maskFill,
    k,
    nodes,
    edges,
    edge_count: edges.length,
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
    total_nodes: layout.total,
    edge_counts: countEdgesByKind(edges),
    circuit_loss_calibrated: calibrated.loss,
    circuit_accuracy_calibrated: calibrated.accuracy,
    train_circuit_loss: outcome.trainLoss,
    train_circuit_loss_bound: outcome.trainLossBound,
    reached_target: outcome.reachedTarget,
    pruning_kept: thin(outcome.keptCurve),
    bisect_probes: outcome.probes,
    bisect_probe_bounds: outcome.probeBounds,
    test_pairs: task.test.length,
    train_pairs: task.train.length,
    ...(meta.backend ? { backend: meta.backend } : {}),
    created: new Date().toISOString(),
  };
  return circuitFileSchema.parse(file);
}

/** Node ids of a circuit file, as the `circuit` intervention takes them. */
export function circuitNodeIds(file: Pick<CircuitFile, 'nodes'>): string[] {
  return file.nodes.map((n) => nodeId({ site: n.site as never, channel: n.channel }));
}
