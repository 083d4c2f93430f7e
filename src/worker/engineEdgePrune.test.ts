import { beforeAll, describe, expect, it } from 'vitest';
import { circuitFileSchema } from '../circuit/circuitSchema';
import { randomTask } from '../circuit/testing/randomTask';
import { testFolder } from '../model/testing/testFolder';
import { useBackend } from '../model/testing/nodeBackends';
import { tf } from '../model/tfjs';
import type { TaskFile } from '../tasks/taskSchema';
import { Engine } from './engine';
import type { ProgressOf } from './protocol';

// The worker's 'prune' request with granularity 'edges', through the engine on a tiny random model.
const config = { dModel: 16, nHead: 2, dHead: 4, nLayer: 2 };

let engine: Engine;
let task: TaskFile;

beforeAll(async () => {
  await useBackend('cpu');
  engine = new Engine();
  const files = Object.entries(testFolder({ config, seed: 3 }).files).map(([path, bytes]) => new File([bytes.slice()], path.split('/').pop()!));
  const summary = await engine.load({ kind: 'files', files }, () => {}, new AbortController().signal);
  task = randomTask(16, Math.min(summary.vocabSize, 50));
});

describe('engine prune request by edges', () => {
  it('reports progress, returns an edge circuit file and leaves no tensors behind', async () => {
    const progress: ProgressOf<'prune'>[] = [];
    const r = await engine.prune(task, { steps: 4, ablation: 'mean', granularity: 'edges', minimality: false }, (p) => progress.push(p), new AbortController().signal);
    const file = circuitFileSchema.parse(r.circuit);
    expect(file.granularity).toBe('edges');
    expect(file.k).toBe(file.edges.length);
    expect(file.total_edges).toBeGreaterThanOrEqual(file.k);
    expect(file.ablated_edges).toBeDefined();
    expect(progress.filter((p) => p.stage.startsWith('optimising')).map((p) => p.done)).toEqual([1, 2, 3, 4]);
    expect(progress.at(-1)?.stage).toBe('done');
    // The model keeps the device form of the last intervention list it ran (a cache), so compare two equal runs.
    const again = () => engine.prune(task, { steps: 2, ablation: 'zero', granularity: 'edges', minimality: false }, () => {}, new AbortController().signal);
    await again();
    const held = tf.memory().numTensors;
    await again();
    expect(tf.memory().numTensors).toBe(held);
  }, 120_000);
});
