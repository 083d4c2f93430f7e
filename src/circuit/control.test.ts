import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from '../model/forward';
import { useBackend } from '../model/testing/nodeBackends';
import { tf } from '../model/tfjs';
import { mulberry32 } from '../tasks/seeded';
import type { TaskFile } from '../tasks/taskSchema';
import { buildCircuitFile } from './circuitFile';
import { circuitFileSchema, type CircuitFile } from './circuitSchema';
import { CONTROL_LABEL_RULE, controlSummary, flipLabels, runControl } from './control';
import { installFastMatMulGrad } from './fastMatMulGrad';
import { DEFAULT_PRUNE_CONFIG, pruneTask, type PruneConfig } from './prune';
import { handBuiltCheckpoint, handBuiltTask } from './testing/handBuilt';

/** A task whose prompts and labels are all distinct, so any swap shows. */
function numberedTask(train: number, test: number): TaskFile {
  const pair = (i: number) => ({
    a: { text: `a${i}`, tokens: [i, 1], correct: 2 * i + 10, alternative: 2 * i + 11 },
    b: { text: `b${i}`, tokens: [i, 2], correct: 2 * i + 11, alternative: 2 * i + 10 },
    source: `p${i}`,
  });
  return {
    task: 'numbered', description: 'test', target_tokens: ['x', 'y'],
    train: Array.from({ length: train }, (_, i) => pair(i)), test: Array.from({ length: test }, (_, i) => pair(1000 + i)),
  };
}

describe('control: labels flipped by a seed', () => {
  it('swaps correct and alternative of both prompts of exactly the pairs the seed draws (train, then test)', () => {
    const task = numberedTask(30, 10);
    for (const seed of [1, 7]) {
      const { task: flipped, flipped: which } = flipLabels(task, seed);
      const draw = mulberry32(seed);
      const expected = [...task.train, ...task.test].map(() => draw() < 0.5);
      expect([...which.train, ...which.test]).toEqual(expected);
      [...flipped.train, ...flipped.test].forEach((p, i) => {
        const orig = [...task.train, ...task.test][i]!;
        expect(p.a.tokens).toEqual(orig.a.tokens);
        expect(p.b.tokens).toEqual(orig.b.tokens);
        expect(p.source).toBe(orig.source);
        if (expected[i]) {
          expect([p.a.correct, p.a.alternative, p.b.correct, p.b.alternative]).toEqual([orig.a.alternative, orig.a.correct, orig.b.alternative, orig.b.correct]);
        } else {
          expect(p).toEqual(orig);
        }
      });
    }
    // The same seed always gives the same control, fixed here so a change of generator shows.
    expect(flipLabels(task, 1).flipped.train.slice(0, 10).map(Number)).toEqual(FLIPS_SEED_1);
    expect(flipLabels(task, 1).flipped).not.toEqual(flipLabels(task, 2).flipped);
    expect(task.train[0]!.a.correct).toBe(10); // the input task is left alone
  });

  it('flips about half of many pairs, and refuses a seed that is not a whole number', () => {
    const { flipped } = flipLabels(numberedTask(400, 100), 3);
    const share = [...flipped.train, ...flipped.test].filter(Boolean).length / 500;
    expect(share).toBeGreaterThan(0.44);
    expect(share).toBeLessThan(0.56);
    expect(() => flipLabels(numberedTask(2, 2), 0.5)).toThrow(/whole number/);
  });
});

/** Seed 1's first ten flips (mulberry32(1)'s draws below 1/2), written out: the shipped controls depend on them. */
const FLIPS_SEED_1 = [0, 1, 0, 0, 0, 1, 0, 0, 1, 0];

describe('control: the stored summary', () => {
  const base = {
    task: 't', model: 'm', ablation: 'mean', k: 2, target_loss: 0.15, edge_count: 1,
    nodes: [{ site: '0.attn.q', channel: 1 }, { site: 'final_resid', channel: 0 }],
    edges: [{ source: '0.attn.q:1', target: 'final_resid:0', weight: 1, kind: 'weight' }],
    full_model_loss: 0.7, full_model_accuracy: 0.5, circuit_loss: 0.72, circuit_accuracy: 0.48, ablated_loss: 0.7, ablated_accuracy: 0.5,
    logit_scale: 1, logit_shift: 0, loss_at_k: [], pruning_curve: [], prune_seconds: 12, reached_target: false,
    train_circuit_loss_bound: 0.4, granularity: 'nodes', minimality_removed: 3,
  } as unknown as CircuitFile;

  it('holds the fields the circuit file needs, and validates inside a circuit file', async () => {
    let seen: TaskFile | null = null;
    const task = numberedTask(12, 4);
    const control = await runControl(task, 5, async (t) => {
      seen = t;
      return base;
    });
    expect(seen).toEqual(flipLabels(task, 5).task);
    const { flipped } = flipLabels(task, 5);
    expect(control).toEqual({
      label_rule: 'random flip, p=0.5', seed: 5, flipped_pairs: [...flipped.train, ...flipped.test].filter(Boolean).length,
      granularity: 'nodes', reached_target: false, train_circuit_loss_bound: 0.4, circuit_loss: 0.72, circuit_accuracy: 0.48,
      full_model_loss: 0.7, full_model_accuracy: 0.5, node_count: 2, edge_count: 1, minimality_removed: 3, prune_seconds: 12,
    });
    expect(CONTROL_LABEL_RULE).toBe('random flip, p=0.5');
    const file = circuitFileSchema.parse({ ...base, control });
    expect(file.control).toEqual(control);
    expect(circuitFileSchema.safeParse({ ...base, control: { ...control, reached_target: undefined } }).success).toBe(false);
    expect(circuitFileSchema.safeParse({ ...base, control: { ...control, granularity: 'heads' } }).success).toBe(false);
    // An edge circuit's control says so.
    expect(controlSummary({ ...base, granularity: 'edges' }, 5, 0).granularity).toBe('edges');
    expect(() => controlSummary({ ...base, reached_target: undefined }, 5, 0)).toThrow(/reached the target/);
  });
});

describe('control on the hand-built model (wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    installFastMatMulGrad();
  });
  afterAll(() => tf.disposeVariables());

  it('the real task reaches the target; random labels, which no ablation of a last-token model can fit, do not', async () => {
    const ckpt = handBuiltCheckpoint();
    const model = new SparseGpt(ckpt);
    const task = handBuiltTask(24);
    const cfg: PruneConfig = { ...DEFAULT_PRUNE_CONFIG, steps: 60, batchPairs: 4, kCoef: 1e-4, evalBatchSize: 16 };
    const find = async (t: TaskFile) => buildCircuitFile(model, ckpt, t, await pruneTask(model, t, cfg), { modelId: 'hand', config: cfg });
    const real = await find(task);
    expect(real.reached_target).toBe(true);
    const control = await runControl(task, 1, find);
    expect(control.flipped_pairs).toBeGreaterThan(0);
    expect(control.reached_target).toBe(false);
    expect(control.circuit_loss).toBeGreaterThan(0.5);
    expect(control.minimality_removed).toBe(0); // a control that missed its target is not minimised
    expect(circuitFileSchema.parse({ ...real, control }).control).toEqual(control);
    model.dispose();
  });
});
