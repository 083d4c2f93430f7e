import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from '../model/forward';
import { useBackend } from '../model/testing/nodeBackends';
import { tf } from '../model/tfjs';
import { buildCircuitFile, circuitNodeIds } from './circuitFile';
import type { CircuitFile } from './circuitSchema';
import { pruneTaskByEdges } from './edgePrune';
import { buildEdgeCircuitFile } from './edgePruneFile';
import { installFastMatMulGrad } from './fastMatMulGrad';
import { findCircuit } from './findCircuit';
import { DEFAULT_PRUNE_CONFIG, pruneTask, type PruneConfig } from './prune';
import { handBuiltCheckpoint, handBuiltTask, KNOWN_CIRCUIT } from './testing/handBuilt';

/** A circuit file without the fields that record when and how long: the rest is fixed by model, task and settings. */
function untimed(file: CircuitFile): Partial<CircuitFile> {
  const { prune_seconds: _seconds, created: _created, ...rest } = file;
  return rest;
}

describe('findCircuit on the hand-built model (wasm)', () => {
  const ckpt = handBuiltCheckpoint();
  let model: SparseGpt;
  const task = handBuiltTask(16);
  const cfg: PruneConfig = { ...DEFAULT_PRUNE_CONFIG, steps: 60, batchPairs: 4, kCoef: 1e-4, evalBatchSize: 16 };
  const meta = { modelId: 'hand', config: cfg };

  beforeAll(async () => {
    await useBackend('wasm');
    installFastMatMulGrad();
    model = new SparseGpt(ckpt);
  });
  afterAll(() => {
    model.dispose();
    tf.disposeVariables();
  });

  it('by nodes: the known circuit, the same file as node pruning then its evaluation, evaluation announced once after pruning', async () => {
    const events: string[] = [];
    const file = await findCircuit('nodes', model, task, meta, {
      onProgress: (p) => events.push(p.phase),
      onEvaluating: () => events.push('evaluating'),
    });
    expect(file.granularity).toBe('nodes');
    expect(circuitNodeIds(file).sort()).toEqual([...KNOWN_CIRCUIT].sort());
    expect(events.filter((e) => e === 'evaluating')).toHaveLength(1);
    expect(events.indexOf('evaluating')).toBe(events.lastIndexOf('calibrate') + 1);
    const direct = await buildCircuitFile(model, ckpt, task, await pruneTask(model, task, cfg), meta);
    expect(untimed(file)).toEqual(untimed(direct));
  }, 120_000);

  it('by edges: the same file as edge pruning then its evaluation', async () => {
    let evaluating = 0;
    const file = await findCircuit('edges', model, task, meta, { onEvaluating: () => evaluating++ });
    expect(file.granularity).toBe('edges');
    expect(file.k).toBe(file.edges.length);
    expect(evaluating).toBe(1);
    const direct = await buildEdgeCircuitFile(model, task, await pruneTaskByEdges(model, task, cfg), meta);
    expect(untimed(file)).toEqual(untimed(direct));
  }, 120_000);

  it('cancelled at the end of pruning: rejects with the reason and never starts the evaluation', async () => {
    for (const granularity of ['nodes', 'edges'] as const) {
      const ac = new AbortController();
      const events: string[] = [];
      await expect(findCircuit(granularity, model, task, meta, {
        signal: ac.signal,
        onProgress: (p) => {
          events.push(p.phase);
          if (p.phase === 'calibrate') ac.abort(new Error('cancelled'));
        },
        onEvaluating: () => events.push('evaluating'),
      })).rejects.toThrow('cancelled');
      expect(events).toContain('calibrate');
      expect(events).not.toContain('evaluating');
    }
  }, 120_000);
});
