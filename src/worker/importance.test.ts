import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_LOSS_TOLERANCE } from '../circuit/core';
import { SparseGpt } from '../model/forward';
import type { AblationMode, Intervention } from '../model/interventions';
import { useBackend } from '../model/testing/nodeBackends';
import { randomCheckpoint } from '../model/testing/randomCheckpoint';
import { tf } from '../model/tfjs';
import type { HostTensor, LoadedCheckpoint } from '../model/weights';
import { taskMetrics } from '../tasks/taskLoss';
import {
  computeImportance, coreIntervention, ImportanceCache, importanceKey, pairEffects, type EvaluateVariants, type ImportanceRequest, type ImportanceResult,
} from './importance';
import type { TargetPrompt } from './protocol';
import { TaskEvaluator } from './stagedTaskEval';
import { evalTask } from './taskEval';

// A node's (or edge's) importance is the task loss with it also ablated minus the circuit's: checked against two direct
// evaluations by the whole forward pass (evalTask, the reference of the incremental evaluation), against the
// circuit restricted without the node (the definition the CLI used to compute), and per pair against the pair's two
// prompts evaluated alone.
const never = new AbortController().signal;
const quiet = () => {};

/** Contrast pairs (a, b differ in one token part-way) of mixed lengths. */
function pairPrompts(vocab: number, pairs: number): TargetPrompt[] {
  const out: TargetPrompt[] = [];
  for (let i = 0; i < pairs; i++) {
    const tokens = Array.from({ length: 3 + ((i * 5) % 9) }, (_, j) => (i * 7 + j * 3 + 1) % vocab);
    const other = tokens.slice();
    other[Math.floor(other.length / 2)] = (other[Math.floor(other.length / 2)]! + 1) % vocab;
    out.push({ tokens, correct: (i * 3) % vocab, alternative: (i * 11 + 1) % vocab }, { tokens: other, correct: (i * 11 + 1) % vocab, alternative: (i * 3) % vocab });
  }
  return out;
}

/** A nonzero entry of a linear weight (rows within [r0, r1)), as (row, col). */
function nonzero(ckpt: LoadedCheckpoint, key: string, r0: number, r1: number): [number, number] {
  const t = ckpt.tensors.get(key) as HostTensor;
  const cols = t.shape[1]!;
  for (let i = r0 * cols; i < r1 * cols; i++) if (t.data[i] !== 0) return [Math.floor(i / cols), i % cols];
  throw new Error(`no nonzero entry in ${key}`);
}

/** A circuit with nodes in every stage and an edge of each kind between its nodes: two weight edges (a layer-0 v edge, a
 *  layer-1 MLP edge), a residual edge and a q·k edge. */
function smallCircuit(ckpt: LoadedCheckpoint): { nodes: string[]; edges: { source: string; target: string }[] } {
  const Q = ckpt.config.nHead * ckpt.config.dHead;
  const [vr, vc] = nonzero(ckpt, 'transformer.h.0.attn.c_attn.weight', 2 * Q, 3 * Q);
  const [fr, fc] = nonzero(ckpt, 'transformer.h.1.mlp.c_fc.weight', 0, ckpt.config.dMlp);
  const edges = [
    { source: `0.attn.act_in:${vc}`, target: `0.attn.v:${vr - 2 * Q}` },
    { source: `1.mlp.act_in:${fc}`, target: `1.mlp.post_act:${fr}` },
    { source: '0.attn.resid_delta:3', target: '1.attn.act_in:3' }, // residual
    { source: '1.attn.q:0', target: '1.attn.k:0' }, // q·k
  ];
  const nodes = [...new Set([...edges.flatMap((e) => [e.source, e.target]), '0.mlp.post_act:2', 'final_resid:3', 'final_resid:5'])];
  return { nodes, edges };
}

const request = (nodes: string[], edges: ImportanceRequest['edges'], prompts: TargetPrompt[], mode: AblationMode, core = true): ImportanceRequest =>
  ({ task: 'test_task', prompts, nodes, edges, mode, core });

const onEvaluator = (ev: TaskEvaluator, prompts: TargetPrompt[]): EvaluateVariants =>
  async (variants, signal, keep) => (await ev.evaluate(prompts, variants, quiet, signal, keep)).variants;

describe('importance of a circuit\'s nodes and edges', () => {
  let ckpt: LoadedCheckpoint;
  let model: SparseGpt;
  let prompts: TargetPrompt[];
  beforeAll(async () => {
    await useBackend('cpu');
    ckpt = randomCheckpoint({ config: { nLayer: 2, afrac: 0.5 }, seed: 5, density: 0.4 });
    model = new SparseGpt(ckpt);
    prompts = pairPrompts(ckpt.config.vocabSize, 9);
  });
  afterAll(() => model.dispose());

  const direct = async (interventions: Intervention[]) => (await evalTask(model, prompts, [{ label: 'x', interventions }], quiet, never)).variants[0]!;

  it.each<AblationMode>(['mean', 'zero'])('%s: each effect is the difference of two direct evaluations, ranked largest first', async (mode) => {
    const { nodes, edges } = smallCircuit(ckpt);
    const ev = new TaskEvaluator(model, { tokensPerBatch: 48 });
    const r = await computeImportance(onEvaluator(ev, prompts), request(nodes, edges, prompts, mode), quiet, never);
    ev.dispose();
    const restriction: Intervention = { kind: 'circuit', nodes, mode };
    const base = await direct([restriction]);
    expect(r.circuit.loss).toBeCloseTo(base.loss, 5);
    expect(r.nodes.map((n) => n.id).sort()).toEqual([...nodes].sort());
    for (const n of r.nodes) {
      const also = await direct([restriction, { kind: 'node', node: n.id, mode }]);
      const without = await direct([{ kind: 'circuit', nodes: nodes.filter((x) => x !== n.id), mode }]);
      expect(n.effect, n.id).toBeCloseTo(also.loss - base.loss, 5);
      expect(n.effect, `${n.id}: the circuit without it`).toBeCloseTo(without.loss - base.loss, 5);
      expect(n.accuracy, n.id).toBe(also.accuracy);
    }
    expect(r.edges.map((e) => e.id).sort()).toEqual(edges.map((e) => `${e.source}>${e.target}`).sort());
    for (const e of r.edges) {
      const [source, target] = e.id.split('>') as [string, string];
      expect(e.effect, e.id).toBeCloseTo((await direct([restriction, { kind: 'edge', source, target, mode }])).loss - base.loss, 5);
    }
    for (const list of [r.nodes, r.edges]) for (let i = 1; i < list.length; i++) expect(list[i - 1]!.effect).toBeGreaterThanOrEqual(list[i]!.effect);
    // Some node matters: the test would pass vacuously on a model that ignores the circuit.
    expect(Math.max(...r.nodes.map((n) => Math.abs(n.effect)))).toBeGreaterThan(1e-3);
    // A circuit this small is its own default core.
    expect(r.core).toEqual({ size: nodes.length, probes: [] });
  });

  it('a circuit found over a layer range: its restriction (and each core\'s) leaves the other layers whole', async () => {
    const nodes = smallCircuit(ckpt).nodes.filter((id) => id.startsWith('1.') || id.startsWith('final_resid'));
    const ev = new TaskEvaluator(model, { tokensPerBatch: 48 });
    const req = { ...request(nodes, [], prompts, 'mean'), layers: [1, 1] as [number, number] };
    const r = await computeImportance(onEvaluator(ev, prompts), req, quiet, never);
    ev.dispose();
    const ranged: Intervention = { kind: 'circuit', nodes, mode: 'mean', layers: [1, 1] };
    const base = await direct([ranged]);
    expect(r.circuit.loss).toBeCloseTo(base.loss, 5);
    // Not the restriction over every layer (which also ablates all of layer 0).
    expect(Math.abs(base.loss - (await direct([{ kind: 'circuit', nodes, mode: 'mean' }])).loss)).toBeGreaterThan(1e-3);
    for (const n of r.nodes) expect(n.effect, n.id).toBeCloseTo((await direct([ranged, { kind: 'node', node: n.id, mode: 'mean' }])).loss - base.loss, 5);
    expect(coreIntervention(r.nodes, 2, 'mean', req.layers)).toEqual({ kind: 'circuit', nodes: r.nodes.slice(0, 2).map((n) => n.id), mode: 'mean', layers: [1, 1] });
    expect(importanceKey('m', req)).not.toBe(importanceKey('m', request(nodes, [], prompts, 'mean')));
  });

  it('per pair: the loss change on that pair\'s two prompts only', async () => {
    const { nodes } = smallCircuit(ckpt);
    const ev = new TaskEvaluator(model, { tokensPerBatch: 48 });
    const r = await computeImportance(onEvaluator(ev, prompts), request(nodes, [], prompts, 'mean'), quiet, never);
    ev.dispose();
    const pair = 4;
    const two = prompts.slice(2 * pair, 2 * pair + 2);
    const loss = async (interventions: Intervention[]) =>
      taskMetrics((await evalTask(model, two, [{ label: 'x', interventions }], quiet, never)).variants[0]!.logitDiffs).loss;
    const restriction: Intervention = { kind: 'circuit', nodes, mode: 'mean' };
    const base = await loss([restriction]);
    const effects = pairEffects(r, r.nodes, pair);
    for (const e of effects) expect(e.effect, e.id).toBeCloseTo((await loss([restriction, { kind: 'node', node: e.id, mode: 'mean' }])) - base, 5);
    for (let i = 1; i < effects.length; i++) expect(effects[i - 1]!.effect).toBeGreaterThanOrEqual(effects[i]!.effect);
    expect(() => pairEffects(r, r.nodes, prompts.length / 2)).toThrow(/no test pair/);
  });

  it('finds the default core of a large circuit from the ranking, and each probed core\'s loss is the runtime\'s', async () => {
    // 48 nodes: every residual-read channel of layer 0's MLP and every final_resid channel, plus a few more.
    const d = ckpt.config.dModel;
    const nodes = [...Array.from({ length: d }, (_, c) => `0.mlp.act_in:${c}`), ...Array.from({ length: d }, (_, c) => `final_resid:${c}`),
      ...Array.from({ length: d }, (_, c) => `1.attn.act_in:${c}`)];
    expect(nodes.length).toBeGreaterThan(40);
    const ev = new TaskEvaluator(model, { tokensPerBatch: 48 });
    const r = await computeImportance(onEvaluator(ev, prompts), request(nodes, [], prompts, 'mean'), quiet, never);
    ev.dispose();
    const core = r.core!;
    expect(core.probes.length).toBeGreaterThan(0);
    expect(core.probes.length).toBeLessThanOrEqual(Math.ceil(Math.log2(nodes.length)));
    for (const p of core.probes) {
      const m = await direct([coreIntervention(r.nodes, p.n, 'mean')]);
      expect(p.loss, `core of ${p.n}`).toBeCloseTo(m.loss, 5);
      expect(p.accuracy).toBe(m.accuracy);
    }
    // The chosen size passed (or is the whole circuit) and the next smaller probe, if any, did not.
    const limit = r.circuit.loss + CORE_LOSS_TOLERANCE;
    const at = core.probes.find((p) => p.n === core.size);
    if (core.size < nodes.length) expect(at!.loss).toBeLessThanOrEqual(limit);
    const below = core.probes.filter((p) => p.n === core.size - 1);
    for (const p of below) expect(p.loss).toBeGreaterThan(limit);
  });

  it('cancels between evaluations, frees what it computed and caches nothing', async () => {
    const { nodes, edges } = smallCircuit(ckpt);
    const ev = new TaskEvaluator(model, { tokensPerBatch: 48 });
    await ev.evaluate(prompts, [{ label: 'warm', interventions: [] }], quiet, never);
    const held = tf.memory().numTensors - ev.heldTensors;
    const cache = new ImportanceCache();
    const ctrl = new AbortController();
    const seen: number[] = [];
    const req = request(nodes, edges, prompts, 'mean');
    const run = cache.run('k', () => computeImportance(onEvaluator(ev, prompts), req, (p) => {
      seen.push(p.done);
      if (p.done === 3) ctrl.abort();
    }, ctrl.signal));
    await expect(run).rejects.toThrow(/abort/i);
    expect(Math.max(...seen)).toBe(3); // nothing after the cancel
    expect(cache.size).toBe(0);
    expect(tf.memory().numTensors - ev.heldTensors, 'tensors beyond those the evaluator holds').toBe(held);
    // The evaluator still works, and a later run of the same job completes and is cached.
    const done = await cache.run('k', () => computeImportance(onEvaluator(ev, prompts), req, quiet, never));
    expect(done.nodes).toHaveLength(nodes.length);
    expect(cache.size).toBe(1);
    ev.dispose();
  });
});

describe('the importance cache', () => {
  const fake = (loss: number): ImportanceResult => ({ circuit: { loss, accuracy: 1, diffs: new Float32Array(2) }, nodes: [], edges: [], core: null, millis: 0 });
  const base: ImportanceRequest = {
    task: 'single_double_quote', prompts: [{ tokens: [1, 2], correct: 3, alternative: 4 }], nodes: ['0.attn.q:1', '1.mlp.post_act:2'],
    edges: [{ source: '0.attn.q:1', target: '1.mlp.post_act:2' }], mode: 'mean', core: true,
  };

  it('is keyed on model, task, circuit (nodes and edges), ablation mode and prompts', () => {
    const key = importanceKey('m', base);
    expect(importanceKey('m', { ...base, nodes: [...base.nodes] })).toBe(key);
    const variants = [
      importanceKey('other-model', base),
      importanceKey('m', { ...base, task: 'other_task' }),
      importanceKey('m', { ...base, mode: 'zero' }),
      importanceKey('m', { ...base, nodes: ['0.attn.q:1'] }),
      importanceKey('m', { ...base, edges: [] }),
      importanceKey('m', { ...base, prompts: [{ tokens: [1, 2], correct: 4, alternative: 3 }] }),
      importanceKey('m', { ...base, core: false }),
    ];
    expect(new Set([key, ...variants]).size).toBe(variants.length + 1);
  });

  it('answers a repeated job without computing and computes a job with another key', async () => {
    const cache = new ImportanceCache(2);
    let computed = 0;
    const job = (loss: number) => async () => { computed++; return fake(loss); };
    const a = await cache.run(importanceKey('m', base), job(1));
    expect(await cache.run(importanceKey('m', base), job(2))).toBe(a);
    expect(computed).toBe(1);
    const z = await cache.run(importanceKey('m', { ...base, mode: 'zero' }), job(3));
    expect(z.circuit.loss).toBe(3);
    expect(computed).toBe(2);
    // Least recently used goes first beyond the capacity: `a` was used last before this third key.
    await cache.run(importanceKey('m', base), job(9));
    await cache.run(importanceKey('m', { ...base, task: 't2' }), job(4));
    expect(computed).toBe(3);
    expect((await cache.run(importanceKey('m', base), job(5))).circuit.loss).toBe(1);
    expect((await cache.run(importanceKey('m', { ...base, mode: 'zero' }), job(6))).circuit.loss).toBe(6);
  });
});
