import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from '../model/forward';
import { nodeId } from '../model/sites';
import { useBackend, type NodeBackendName } from '../model/testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from '../model/testing/randomCheckpoint';
import { tf } from '../model/tfjs';
import { taskMetricVariants } from '../state/variants';
import { pairPrompts, taskMetrics } from '../tasks/taskLoss';
import { evalTask } from '../worker/taskEval';
import type { TaskFile, TaskPair } from '../tasks/taskSchema';
import { buildCircuitFile, circuitNodeIds } from './circuitFile';
import { circuitFileSchema } from './circuitSchema';
import { extractEdges } from './edges';
import { installFastMatMulGrad } from './fastMatMulGrad';
import { NodeLayout } from './nodeLayout';
import { DEFAULT_PRUNE_CONFIG, maskedLogitDiffs, pruneTask, type PruneConfig } from './prune';
import { handBuiltCheckpoint, handBuiltTask, KNOWN_CIRCUIT } from './testing/handBuilt';

const FAST: Partial<PruneConfig> = { steps: 60, batchPairs: 4, lr: 0.01, kCoef: 1e-4, evalBatchSize: 16 };

/** A task on a random model whose labels are the model's own preference between tokens 1 and 2 (so the full model
 *  gets every prompt right), on random prompts of 4-7 tokens. */
async function selfLabelledTask(model: SparseGpt, n = 16, seed = 5): Promise<TaskFile> {
  let s = seed;
  const rnd = (m: number) => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % m);
  const V = model.config.vocabSize;
  const raw = Array.from({ length: 2 * n }, () => Array.from({ length: 4 + rnd(4) }, () => rnd(V)));
  const prompts = raw.map((tokens) => ({ text: tokens.join(' '), tokens, correct: 1, alternative: 2 }));
  const d = await maskedLogitDiffs(model, new NodeLayout(model.config), prompts, null, { maskFill: 'mean', batchSize: 16 });
  const labelled = prompts.map((p, i) => (d[i]! >= 0 ? p : { ...p, correct: 2, alternative: 1 }));
  const pairs: TaskPair[] = [];
  for (let i = 0; i < n; i++) pairs.push({ a: labelled[2 * i]!, b: labelled[2 * i + 1]! });
  return { task: 'self_labelled', description: 'test', target_tokens: ['1', '2'], train: pairs.slice(0, n - 4), test: pairs.slice(n - 4) };
}

describe.each<NodeBackendName>(['cpu', 'wasm'])('pruning on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
    installFastMatMulGrad();
  });
  afterAll(() => tf.disposeVariables());

  it('masks: 0 = mean ablation (or zero ablation), matching the node interventions', async () => {
    const ckpt = randomCheckpoint({ config: { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS }, seed: 4 });
    const model = new SparseGpt(ckpt);
    const layout = new NodeLayout(model.config);
    const prompts = [{ text: 'x', tokens: [3, 9, 17, 4, 22], correct: 1, alternative: 2 }];
    const ablate = [3, 40, 90, layout.total - 1];
    const ids = ablate.map((i) => nodeId(layout.node(i)));
    const results: Record<string, number> = {};
    for (const mode of ['mean', 'zero'] as const) {
      const viaMask = await maskedLogitDiffs(model, layout, prompts, layout.maskOf(ablate, 0), { maskFill: mode, batchSize: 4 });
      const run = await model.run(prompts[0]!.tokens, { interventions: ids.map((node) => ({ kind: 'node' as const, node, mode })) });
      const V = model.config.vocabSize;
      const last = run.logits.subarray(4 * V, 5 * V);
      expect(viaMask[0]).toBeCloseTo(last[1]! - last[2]!, 4);
      results[mode] = viaMask[0]!;
    }
    expect(results.mean).not.toBeCloseTo(results.zero!, 3);
    model.dispose();
  });

  it('finds the known circuit of the hand-built model, and its edges exactly', async () => {
    const ckpt = handBuiltCheckpoint();
    const model = new SparseGpt(ckpt);
    const task = handBuiltTask();
    const full = taskMetrics(await maskedLogitDiffs(model, new NodeLayout(model.config), pairPrompts(task.train), null, { maskFill: 'mean', batchSize: 16 }));
    expect(full.accuracy).toBe(1);
    expect(full.loss).toBeLessThan(0.05);
    const out = await pruneTask(model, task, { ...FAST, steps: 80 });
    expect(out.reachedTarget).toBe(true);
    const kept = out.ranking.slice(0, out.k).map((i) => nodeId(out.layout.node(i)));
    for (const id of KNOWN_CIRCUIT) expect(kept).toContain(id);
    expect(out.k).toBe(KNOWN_CIRCUIT.length);

    const edges = extractEdges(ckpt, KNOWN_CIRCUIT.map((id) => out.layout.node(out.layout.index(id))));
    expect(edges.map((e) => `${e.source}->${e.target}:${e.kind}:${e.weight}`).sort()).toEqual([
      '0.mlp.act_in:0->0.mlp.post_act:3:weight:1',
      '0.mlp.post_act:3->0.mlp.resid_delta:2:weight:1',
      '0.mlp.resid_delta:2->final_resid:2:residual:1',
    ]);
    model.dispose();
  });

  it('the selection margin: the chosen circuit\'s bound clears the target, and a larger z never picks a smaller k', async () => {
    const ckpt = randomCheckpoint({ config: { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true }, seed: 9 });
    const model = new SparseGpt(ckpt);
    const task = await selfLabelledTask(model, 24);
    const cfg = { ...FAST, steps: 30, targetLoss: 0.5, validationFraction: 0 };
    // Same seed: identical masks and ranking, so only the acceptance test differs.
    const plain = await pruneTask(model, task, { ...cfg, selectionZ: 0 });
    const strict = await pruneTask(model, task, { ...cfg, selectionZ: 2 });
    expect(strict.ranking).toEqual(plain.ranking);
    expect(plain.trainLossBound).toBe(plain.trainLoss);
    for (const out of [plain, strict]) {
      expect(out.reachedTarget).toBe(true);
      expect(out.trainLossBound).toBeLessThanOrEqual(0.5);
      expect(out.probeBounds.map((p) => p[0])).toEqual(out.probes.map((p) => p[0]));
    }
    expect(strict.trainLossBound).toBeGreaterThan(strict.trainLoss);
    expect(strict.k).toBeGreaterThanOrEqual(plain.k);
    model.dispose();
  });

  it('stops between steps when aborted, and reports progress', async () => {
    const model = new SparseGpt(handBuiltCheckpoint());
    const ac = new AbortController();
    const seen: string[] = [];
    await expect(
      pruneTask(model, handBuiltTask(), { ...FAST, steps: 50 }, {
        signal: ac.signal,
        onProgress: (p) => {
          seen.push(p.phase);
          if (p.done === 3) ac.abort(new Error('cancelled'));
        },
      }),
    ).rejects.toThrow('cancelled');
    expect(seen).toEqual(['optimise', 'optimise', 'optimise']);
    model.dispose();
  });

  it('a circuit file replayed through the runtime (circuit intervention) reproduces its circuit_loss', async () => {
    const ckpt = randomCheckpoint({ config: { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true }, seed: 9 });
    const model = new SparseGpt(ckpt);
    const task = await selfLabelledTask(model);
    const cfg: PruneConfig = { ...DEFAULT_PRUNE_CONFIG, ...FAST, steps: 30, targetLoss: 0.5 };
    const outcome = await pruneTask(model, task, cfg);
    const file = circuitFileSchema.parse(JSON.parse(JSON.stringify(await buildCircuitFile(model, ckpt, task, outcome, { modelId: 'random', config: cfg }))));
    expect(file.k).toBe(file.nodes.length);
    expect(file.loss_at_k.length).toBeGreaterThanOrEqual(8);
    expect(file.edge_count).toBe(file.edges.length);
    expect(file.full_model_accuracy).toBe(1);

    const intervention = { kind: 'circuit' as const, nodes: circuitNodeIds(file), mode: file.ablation };
    const V = model.config.vocabSize;
    const diffs: number[] = [];
    for (const p of pairPrompts(task.test)) {
      const run = await model.run(p.tokens, { interventions: [intervention] });
      const last = run.logits.subarray((p.tokens.length - 1) * V, p.tokens.length * V);
      diffs.push(last[p.correct]! - last[p.alternative]!);
    }
    expect(taskMetrics(diffs).loss).toBeCloseTo(file.circuit_loss, 4);
    // The explorer's task metrics ("restrict to circuit", calibrated with the file's logit_scale/shift) give the
    // file's calibrated loss.
    const variants = taskMetricVariants('circuit', file, file.ablation, [], task);
    const r = await evalTask(model, pairPrompts(task.test), variants.slice(1, 2), () => {}, new AbortController().signal);
    expect(r.variants[0]!.calibration).not.toBeNull();
    expect(r.variants[0]!.uncalibrated.loss).toBeCloseTo(file.circuit_loss, 4);
    expect(r.variants[0]!.loss).toBeCloseTo(file.circuit_loss_calibrated!, 4);
    model.dispose();
  });
});
