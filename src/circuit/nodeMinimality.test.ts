import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from '../model/forward';
import { nodeId } from '../model/sites';
import { useBackend, type NodeBackendName } from '../model/testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from '../model/testing/randomCheckpoint';
import { tf } from '../model/tfjs';
import { pairPrompts } from '../tasks/taskLoss';
import type { TaskPrompt } from '../tasks/taskSchema';
import { buildCircuitFile } from './circuitFile';
import { circuitFileSchema } from './circuitSchema';
import { installFastMatMulGrad } from './fastMatMulGrad';
import { lossUpperBound } from './lossBound';
import { weakestFirst } from './minimality';
import { nodeCircuitMinimiser } from './nodeMinimality';
import { NodeLayout } from './nodeLayout';
import { DEFAULT_PRUNE_CONFIG, maskedLogitDiffs, pruneTask, type PruneConfig } from './prune';
import { handBuiltCheckpoint, handBuiltTask, KNOWN_CIRCUIT } from './testing/handBuilt';

const MEAN_Z1 = { targetLoss: 0.15, selectionZ: 1, maskFill: 'mean' as const };

/** Random prompts of 3-9 tokens labelled by the full model's own preference between tokens 1 and 2. */
async function selfLabelled(model: SparseGpt, n: number): Promise<TaskPrompt[]> {
  let s = 17;
  const rnd = (m: number) => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % m);
  const raw = Array.from({ length: n }, () => Array.from({ length: 3 + rnd(7) }, () => rnd(model.config.vocabSize)));
  const prompts = raw.map((tokens) => ({ text: tokens.join(' '), tokens, correct: 1, alternative: 2 }));
  const d = await maskedLogitDiffs(model, new NodeLayout(model.config), prompts, null, { maskFill: 'mean', batchSize: 16 });
  return prompts.map((p, i) => (d[i]! >= 0 ? p : { ...p, correct: 2, alternative: 1 }));
}

describe.each<NodeBackendName>(['cpu', 'wasm'])('node minimality on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
    installFastMatMulGrad();
  });
  afterAll(() => tf.disposeVariables());

  it('strips the hand-built circuit down to exactly its known nodes, even when those are tried first', async () => {
    const model = new SparseGpt(handBuiltCheckpoint());
    const layout = new NodeLayout(model.config);
    // Nodes that carry nothing: attention (all its weights are zero), an MLP neuron whose input weights are zero, a
    // constant residual channel, and the other channels of the MLP's input.
    const extra = ['0.attn.q:0', '0.attn.k:1', '0.attn.v:2', '0.attn.act_in:3', '0.mlp.post_act:0', '0.mlp.act_in:2', 'final_resid:1'];
    const known = KNOWN_CIRCUIT.map((id) => layout.index(id));
    const junk = extra.map((id) => layout.index(id));
    // The needed nodes get the lowest tau, so every one of them is tried while all the junk is still in.
    const tau = new Float32Array(layout.total).fill(-1);
    known.forEach((i, j) => (tau[i] = 0.1 + 0.01 * j));
    junk.forEach((i, j) => (tau[i] = 0.5 + 0.01 * j));
    const circuit = [...junk.slice().reverse(), ...known.slice().reverse()]; // strongest first
    const prompts = pairPrompts(handBuiltTask().train);
    const r = await nodeCircuitMinimiser(model, layout, MEAN_Z1)(circuit, tau, prompts);
    expect(r.ran).toBe(true);
    expect(r.tries.map((t) => t.item)).toEqual(weakestFirst(circuit, (i) => tau[i]!));
    expect(r.tries.slice(0, known.length).map((t) => t.removed)).toEqual(known.map(() => false));
    expect(r.kept.map((i) => nodeId(layout.node(i))).sort()).toEqual(KNOWN_CIRCUIT.slice().sort());
    expect(r.removed.map((i) => nodeId(layout.node(i))).sort()).toEqual(extra.slice().sort());
    expect(r.bound).toBeLessThanOrEqual(0.15);
    for (const t of r.tries) expect(t.removed).toBe(t.bound <= 0.15);
    model.dispose();
  });

  it('judges each try exactly as the final evaluation does (masked forward pass), through the staged cache', async () => {
    const ckpt = randomCheckpoint({ config: { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true }, seed: 9 });
    const model = new SparseGpt(ckpt);
    const layout = new NodeLayout(model.config);
    const prompts = await selfLabelled(model, 32);
    // One node in three, over every site and stage; tau from a fixed pattern with ties.
    const circuit = Array.from({ length: layout.total }, (_, i) => i).filter((i) => i % 3 === 1);
    const tau = new Float32Array(layout.total);
    for (const i of circuit) tau[i] = ((i * 37) % 11) / 10;
    const ranked = circuit.slice().sort((a, b) => tau[b]! - tau[a]! || a - b);
    const reference = async (nodes: number[]) =>
      lossUpperBound(await maskedLogitDiffs(model, layout, prompts, layout.maskOf(nodes, 1), { maskFill: 'mean', batchSize: 16 }), 1);
    const start = await reference(ranked);
    const cfg = { ...MEAN_Z1, targetLoss: start.bound + 0.01 };
    const minimise = nodeCircuitMinimiser(model, layout, cfg);
    const r = await minimise(ranked, tau, prompts);
    const again = await minimise(ranked, tau, prompts);
    expect(again).toEqual(r);
    // Both verdicts occur, so both the kept and the discarded streams are exercised.
    expect(r.removed.length).toBeGreaterThan(0);
    expect(r.kept.length).toBeGreaterThan(0);
    let kept = new Set(ranked);
    for (const t of r.tries) {
      const without = [...kept].filter((i) => i !== t.item);
      expect(t.bound).toBeCloseTo((await reference(without)).bound, 4);
      if (t.removed) kept = new Set(without);
    }
    expect([...kept].sort((a, b) => a - b)).toEqual(r.kept.slice().sort((a, b) => a - b));
    expect(r.bound).toBeCloseTo((await reference([...kept])).bound, 4);
    expect(r.bound).toBeLessThanOrEqual(cfg.targetLoss);
    model.dispose();
  });

  it('in pruneTask: the circuit is the bisection\'s top k less the removed nodes, on by default, off on request', async () => {
    const ckpt = randomCheckpoint({ config: { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true }, seed: 9 });
    const model = new SparseGpt(ckpt);
    const prompts = await selfLabelled(model, 48);
    const pairs = Array.from({ length: 24 }, (_, i) => ({ a: prompts[2 * i]!, b: prompts[2 * i + 1]! }));
    const task = { task: 'self_labelled', description: 'test', target_tokens: ['1', '2'] as [string, string], train: pairs.slice(0, 20), test: pairs.slice(20) };
    const cfg: PruneConfig = { ...DEFAULT_PRUNE_CONFIG, steps: 30, batchPairs: 4, kCoef: 1e-4, evalBatchSize: 16, targetLoss: 0.5, validationFraction: 0 };
    expect(DEFAULT_PRUNE_CONFIG.minimality).toBe(true);
    const phases: string[] = [];
    const on = await pruneTask(model, task, cfg, { onProgress: (p) => phases.push(p.phase) });
    const off = await pruneTask(model, task, { ...cfg, minimality: false });
    expect(on.ranking).toEqual(off.ranking);
    expect(on.bisectK).toBe(off.k);
    expect(off.minimalityRemoved).toBeNull();
    expect(off.nodes).toEqual(off.ranking.slice(0, off.k));
    expect(on.reachedTarget).toBe(true);
    expect(on.minimalityRemoved).toBeGreaterThan(0);
    expect(on.k).toBe(on.bisectK - on.minimalityRemoved!);
    expect(on.nodes.length).toBe(on.k);
    const top = new Set(on.ranking.slice(0, on.bisectK));
    for (const i of on.nodes) expect(top.has(i)).toBe(true);
    expect(on.trainLossBound).toBeLessThanOrEqual(cfg.targetLoss);
    expect(phases).toContain('minimality');
    expect(phases.indexOf('minimality')).toBeGreaterThan(phases.lastIndexOf('bisect'));
    expect(phases.indexOf('minimality')).toBeLessThan(phases.indexOf('calibrate'));

    const file = circuitFileSchema.parse(JSON.parse(JSON.stringify(await buildCircuitFile(model, ckpt, task, on, { modelId: 'random', config: cfg }))));
    expect(file).toMatchObject({ granularity: 'nodes', minimality_removed: on.minimalityRemoved, k: on.k });
    const layout = new NodeLayout(model.config);
    expect(file.nodes.map((n) => layout.index(`${n.site}:${n.channel}`))).toEqual(on.nodes.slice().sort((a, b) => a - b));
    // loss_at_k stays a curve over the ranking's top-k circuits, through the bisection's k.
    expect(file.loss_at_k.map((p) => p[0])).toContain(on.bisectK);
    const offFile = await buildCircuitFile(model, ckpt, task, off, { modelId: 'random', config: { ...cfg, minimality: false } });
    expect(offFile.minimality_removed).toBeUndefined();
    model.dispose();
  });
});
