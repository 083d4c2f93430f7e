import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from '../model/forward';
import { useBackend } from '../model/testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from '../model/testing/randomCheckpoint';
import { tf } from '../model/tfjs';
import { pairPrompts, taskMetrics } from '../tasks/taskLoss';
import type { TaskFile, TaskPair } from '../tasks/taskSchema';
import { circuitInterventions } from './circuitInterventions';
import { circuitFileSchema } from './circuitSchema';
import { pruneTaskByEdges } from './edgePrune';
import { buildEdgeCircuitFile } from './edgePruneFile';
import { installFastMatMulGrad } from './fastMatMulGrad';
import { DEFAULT_PRUNE_CONFIG, type PruneConfig } from './prune';
import { evalLogitDiffs } from './taskBatch';

/** A task on a random model labelled by the model's own preference between tokens 1 and 2 (prune.test.ts). */
async function selfLabelledTask(model: SparseGpt, n: number, seed: number): Promise<TaskFile> {
  let s = seed;
  const rnd = (m: number) => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % m);
  const V = model.config.vocabSize;
  const prompts = Array.from({ length: 2 * n }, () => {
    const tokens = Array.from({ length: 4 + rnd(4) }, () => rnd(V));
    return { text: tokens.join(' '), tokens, correct: 1, alternative: 2 };
  });
  const d = await evalLogitDiffs(model, prompts, { batchSize: 16 });
  const labelled = prompts.map((p, i) => (d[i]! >= 0 ? p : { ...p, correct: 2, alternative: 1 }));
  const pairs: TaskPair[] = Array.from({ length: n }, (_, i) => ({ a: labelled[2 * i]!, b: labelled[2 * i + 1]! }));
  return { task: 'self_labelled', description: 'test', target_tokens: ['1', '2'], train: pairs.slice(0, n - 6), test: pairs.slice(n - 6) };
}

describe('edge pruning run (wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    installFastMatMulGrad();
  });
  afterAll(() => tf.disposeVariables());

  it('reaches the target on its judged pairs, and its circuit file replays through the runtime', async () => {
    const ckpt = randomCheckpoint({ config: { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS }, seed: 9 });
    const model = new SparseGpt(ckpt);
    const task = await selfLabelledTask(model, 30, 5);
    // The target: a little above the full model's own loss on the training pairs (a random model's margins are small, and a few dozen of its edges carry them only roughly).
    const fullTrain = taskMetrics(await evalLogitDiffs(model, pairPrompts(task.train), { batchSize: 32 })).loss;
    const cfg: PruneConfig = { ...DEFAULT_PRUNE_CONFIG, steps: 60, batchPairs: 6, lr: 0.02, evalBatchSize: 32, targetLoss: fullTrain + 0.2, validationFraction: 0 };
    const phases = new Set<string>();
    const byEdges = await pruneTaskByEdges(model, task, { ...cfg, kCoef: 3e-3 }, { onProgress: (p) => phases.add(p.phase) });
    expect([...phases]).toEqual(['optimise', 'bisect', 'minimality', 'calibrate']);
    expect(byEdges.reachedTarget).toBe(true);
    expect(byEdges.trainLossBound).toBeLessThanOrEqual(cfg.targetLoss);
    const edgeFile = circuitFileSchema.parse(JSON.parse(JSON.stringify(await buildEdgeCircuitFile(model, task, byEdges, { modelId: 'random', config: cfg }))));

    expect(edgeFile.granularity).toBe('edges');
    expect(edgeFile.k).toBe(edgeFile.edges.length);
    expect(edgeFile.edge_count).toBe(edgeFile.edges.length);
    // The minimality pass only removes: the stored circuit is at most the bisection's.
    expect(edgeFile.k).toBeLessThanOrEqual(byEdges.bisectK);
    expect(edgeFile.minimality_removed).toBe(byEdges.bisectK - byEdges.k);
    // Every node of the file touches a kept edge, every kept edge joins two of its nodes.
    const ids = new Set(edgeFile.nodes.map((n) => `${n.site}:${n.channel}`));
    const touched = new Set(edgeFile.edges.flatMap((e) => [e.source, e.target]));
    expect([...ids].sort()).toEqual([...touched].sort());
    for (const e of edgeFile.ablated_edges!) expect(ids.has(e.source) && ids.has(e.target)).toBe(true);

    // The runtime's edge circuit reproduces the file's test loss.
    const test = pairPrompts(task.test);
    const replay = await evalLogitDiffs(model, test, { batchSize: 16, interventions: circuitInterventions(edgeFile, edgeFile.ablation) });
    expect(taskMetrics(replay).loss).toBeCloseTo(edgeFile.circuit_loss, 4);
    model.dispose();
  }, 600_000);

  it('stops between steps when aborted', async () => {
    const model = new SparseGpt(randomCheckpoint({ config: {}, seed: 2 }));
    const task = await selfLabelledTask(model, 16, 3);
    const ac = new AbortController();
    const seen: number[] = [];
    await expect(pruneTaskByEdges(model, task, { steps: 50, batchPairs: 2 }, {
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p.done);
        if (p.done === 2) ac.abort(new Error('cancelled'));
      },
    })).rejects.toThrow('cancelled');
    expect(seen).toEqual([1, 2]);
    model.dispose();
  });
});
