import { beforeAll, describe, expect, it } from 'vitest';
import { circuitFileSchema } from '../circuit/circuitSchema';
import { DEFAULT_EDGE_PRUNE_CONFIG } from '../circuit/edgePrune';
import { DEFAULT_PRUNE_CONFIG } from '../circuit/prune';
import { DENSE_EDGE_K_COEF } from '../circuit/suggestedKCoef';
import { randomTask } from '../circuit/testing/randomTask';
import { testFolder } from '../model/testing/testFolder';
import { useBackend } from '../model/testing/nodeBackends';
import { tf } from '../model/tfjs';
import type { TaskFile } from '../tasks/taskSchema';
import { Engine } from './engine';
import type { ProgressOf } from './protocol';

// The worker's 'prune' request, through the engine on a tiny random model: progress arrives, an abort stops it,
// and what it returns is a valid circuit file for the loaded model.
const config = { dModel: 16, nHead: 2, dHead: 4, nLayer: 2 };

function asFiles(files: Record<string, Uint8Array>): File[] {
  return Object.entries(files).map(([path, bytes]) => new File([bytes.slice()], path.split('/').pop()!));
}

let engine: Engine;
let task: TaskFile;

beforeAll(async () => {
  await useBackend('cpu');
  engine = new Engine();
  const summary = await engine.load({ kind: 'files', files: asFiles(testFolder({ config, seed: 3 }).files) }, () => {}, new AbortController().signal);
  task = randomTask(16, Math.min(summary.vocabSize, 50));
});

describe('engine prune request', () => {
  it('reports progress and returns a valid circuit file', async () => {
    const progress: ProgressOf<'prune'>[] = [];
    const r = await engine.prune(task, { steps: 6, ablation: 'mean' }, (p) => progress.push(p), new AbortController().signal);
    expect(circuitFileSchema.safeParse(r.circuit).success).toBe(true);
    expect(r.circuit.task).toBe('tiny');
    expect(r.circuit.nodes.length).toBe(r.circuit.k);
    expect(r.circuit.edge_count).toBe(r.circuit.edges.length);
    expect(r.circuit.prune_config?.steps).toBe(6);
    expect(r.circuit.prune_config?.found_in).toBe('browser');
    expect(r.seconds).toBeGreaterThan(0);
    const optimise = progress.filter((p) => p.stage.startsWith('optimising'));
    expect(optimise.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(optimise.every((p) => p.total === 6)).toBe(true);
    expect(progress.some((p) => p.stage.startsWith('bisecting'))).toBe(true);
    expect(progress.at(-1)?.stage).toBe('done');
    // The first run may leave the model's cached mean tensors behind; a second one must leave nothing.
    const held = tf.memory().numTensors;
    await engine.prune(task, { steps: 2, ablation: 'mean' }, () => {}, new AbortController().signal);
    expect(tf.memory().numTensors).toBe(held);
  }, 60_000);

  it('prunes with the given k_coef, the default otherwise, and names an unusable one', async () => {
    const never = new AbortController().signal;
    const given = await engine.prune(task, { steps: 2, ablation: 'mean', minimality: false, kCoef: 7e-4 }, () => {}, never);
    expect(given.circuit.prune_config?.kCoef).toBe(7e-4);
    const byDefault = await engine.prune(task, { steps: 2, ablation: 'mean', minimality: false }, () => {}, never);
    expect(byDefault.circuit.prune_config?.kCoef).toBe(DEFAULT_PRUNE_CONFIG.kCoef);
    for (const bad of [0, -1e-3, Number.NaN, Infinity]) {
      await expect(engine.prune(task, { steps: 2, ablation: 'mean', kCoef: bad }, () => {}, never)).rejects.toThrow(`k_coef must be a number above 0 (got ${bad})`);
    }
  }, 60_000);

  it("edge pruning defaults to the method's k_coef for the model: lower on a dense one", async () => {
    const never = new AbortController().signal;
    const sparseRun = await engine.prune(task, { steps: 2, ablation: 'mean', minimality: false, granularity: 'edges' }, () => {}, never);
    expect(sparseRun.circuit.prune_config?.kCoef).toBe(DEFAULT_EDGE_PRUNE_CONFIG.kCoef);
    const denseEngine = new Engine();
    const dense = await denseEngine.load({ kind: 'files', files: asFiles(testFolder({ config, seed: 3, density: 1 }).files) }, () => {}, never);
    expect(dense.nonzeroWeights / dense.totalWeights).toBeGreaterThan(0.5);
    const denseRun = await denseEngine.prune(task, { steps: 2, ablation: 'mean', minimality: false, granularity: 'edges' }, () => {}, never);
    expect(denseRun.circuit.prune_config?.kCoef).toBe(DENSE_EDGE_K_COEF);
    expect(DENSE_EDGE_K_COEF).not.toBe(DEFAULT_EDGE_PRUNE_CONFIG.kCoef);
  }, 60_000);

  it('stops when its AbortSignal fires', async () => {
    const ctrl = new AbortController();
    const progress: ProgressOf<'prune'>[] = [];
    const run = engine.prune(task, { steps: 1000, ablation: 'mean' }, (p) => {
      progress.push(p);
      if (p.done === 3) ctrl.abort();
    }, ctrl.signal);
    await expect(run).rejects.toThrow();
    expect(progress.length).toBe(3);
    expect(progress.every((p) => p.stage.startsWith('optimising'))).toBe(true);
    // Aborted before it started: nothing runs.
    const pre = new AbortController();
    pre.abort();
    const none: ProgressOf<'prune'>[] = [];
    await expect(engine.prune(task, { steps: 5, ablation: 'mean' }, (p) => none.push(p), pre.signal)).rejects.toThrow();
    expect(none).toEqual([]);
  }, 60_000);

  it('runs the minimality pass unless told not to, and the control on request', async () => {
    const never = new AbortController().signal;
    const plain = await engine.prune(task, { steps: 6, ablation: 'mean' }, () => {}, never);
    expect(plain.circuit.minimality_removed).toBeGreaterThanOrEqual(0);
    expect(plain.circuit.prune_config?.minimality).toBe(true);
    expect(plain.circuit.control).toBeUndefined();
    const progress: ProgressOf<'prune'>[] = [];
    const r = await engine.prune(task, { steps: 6, ablation: 'mean', minimality: false, control: true }, (p) => progress.push(p), never);
    expect(r.circuit.minimality_removed).toBeUndefined();
    expect(r.circuit.prune_config?.minimality).toBe(false);
    expect(r.circuit.granularity).toBe('nodes');
    expect(r.circuit.control).toMatchObject({ label_rule: 'random flip, p=0.5', seed: 1, granularity: 'nodes' });
    expect(r.circuit.control!.node_count).toBeGreaterThan(0);
    // The control's own progress is labelled, after the circuit's and before "done".
    const first = progress.findIndex((p) => p.stage.startsWith('control (random labels): optimising'));
    expect(first).toBeGreaterThan(progress.findIndex((p) => p.stage === 'evaluating on test pairs'));
    expect(progress.at(-1)?.stage).toBe('done');
  }, 120_000);

  it('refuses a bad step count', async () => {
    await expect(engine.prune(task, { steps: 0, ablation: 'mean' }, () => {}, new AbortController().signal)).rejects.toThrow(/steps/);
  });
});
