import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from '../model/forward';
import type { Intervention } from '../model/interventions';
import { parseSite, siteWidth, allSites, type SiteName } from '../model/sites';
import { stageKeys } from '../model/stages';
import { useBackend, type NodeBackendName } from '../model/testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from '../model/testing/randomCheckpoint';
import { toSparseRepresentation } from '../model/testing/sparseCheckpoint';
import { tf } from '../model/tfjs';
import { pairPrompts } from '../tasks/taskLoss';
import type { TaskFile, TaskPair } from '../tasks/taskSchema';
import { buildCircuitFile } from './circuitFile';
import { circuitInterventions } from './circuitInterventions';
import { circuitFileSchema } from './circuitSchema';
import { installFastMatMulGrad } from './fastMatMulGrad';
import { NodeLayout } from './nodeLayout';
import { DEFAULT_PRUNE_CONFIG, maskedLogitDiffs, pruneTask, type PruneConfig } from './prune';
import { StagedListEvaluator } from './stagedListEval';

// Node pruning limited to a layer range, on the dense and on the sparse (CSR) representation of the same model: only
// the range's nodes are candidates, nodes of other layers are never ablated (in pruning and in the restriction the
// circuit file turns into), and both representations learn the same masks and find the same circuit.

const ckpt = randomCheckpoint({
  config: { nLayer: 3, afrac: 0.5, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true },
  seed: 21,
  density: 0.5,
});
const c = ckpt.config;
/** The two representations differ by float32 rounding only: measured max tau difference 1.9e-7 (cpu) and 1.2e-7 (wasm)
 *  after 25 steps, loss curves within 1.2e-7; the bound leaves room for other summation orders. */
const TAU_TOL = 1e-4;

/** Sites of layers a..b, written out from the site names (not through the code under test). */
const sitesOfLayers = (a: number, b: number, withFinal: boolean): SiteName[] =>
  allSites(c).filter((s) => {
    const l = parseSite(s).layer;
    return l === null ? withFinal : l >= a && l <= b;
  });

/** A task on the model whose labels are its own preference between tokens 1 and 2, on random 4-7 token prompts. */
async function selfLabelledTask(model: SparseGpt, n = 24, seed = 3): Promise<TaskFile> {
  let s = seed;
  const rnd = (m: number) => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % m);
  const raw = Array.from({ length: 2 * n }, () => Array.from({ length: 4 + rnd(4) }, () => rnd(c.vocabSize)));
  const prompts = raw.map((tokens) => ({ text: tokens.join(' '), tokens, correct: 1, alternative: 2 }));
  const d = await maskedLogitDiffs(model, new NodeLayout(c), prompts, null, { maskFill: 'mean', batchSize: 16 });
  const labelled = prompts.map((p, i) => (d[i]! >= 0 ? p : { ...p, correct: 2, alternative: 1 }));
  const pairs: TaskPair[] = [];
  for (let i = 0; i < n; i++) pairs.push({ a: labelled[2 * i]!, b: labelled[2 * i + 1]! });
  return { task: 'self_labelled', description: 'test', target_tokens: ['1', '2'], train: pairs.slice(0, n - 6), test: pairs.slice(n - 6) };
}

describe.each<NodeBackendName>(['cpu', 'wasm'])('node pruning over a layer range on %s', (backend) => {
  let dense: SparseGpt;
  let sparse: SparseGpt;
  beforeAll(async () => {
    await useBackend(backend);
    installFastMatMulGrad();
    dense = new SparseGpt(ckpt);
    sparse = new SparseGpt(toSparseRepresentation(ckpt));
    return () => {
      dense.dispose();
      sparse.dispose();
    };
  });
  afterAll(() => tf.disposeVariables());

  it('lays out only the range: final_resid only when the range ends at the last layer', () => {
    const mid = new NodeLayout(c, [1, 1]);
    expect(mid.sites).toEqual(sitesOfLayers(1, 1, false));
    expect(new NodeLayout(c, [1, 2]).sites).toEqual(sitesOfLayers(1, 2, true));
    expect(mid.total).toBe(mid.sites.reduce((n, s) => n + siteWidth(c, s), 0));
    expect(() => mid.index('0.attn.q:0')).toThrow('node 0.attn.q:0 is not in this model or not in layers 1-1');
    expect(() => new NodeLayout(c, [2, 3])).toThrow('layer range 2-3 does not fit this model: layers are 0-2');
  });

  it('dense and sparse weights give the same masks, circuit and file; nodes outside the range are never ablated', async () => {
    const task = await selfLabelledTask(dense);
    const cfg: PruneConfig = { ...DEFAULT_PRUNE_CONFIG, steps: 25, batchPairs: 4, lr: 0.02, kCoef: 1e-3, evalBatchSize: 16, targetLoss: 0.5, layers: [1, 1] };
    const a = await pruneTask(dense, task, cfg);
    const b = await pruneTask(sparse, task, cfg);
    expect(a.layout.total).toBe(sitesOfLayers(1, 1, false).reduce((n, s) => n + siteWidth(c, s), 0));
    expect(a.tau).toHaveLength(a.layout.total);
    let maxTau = 0;
    for (let i = 0; i < a.tau.length; i++) maxTau = Math.max(maxTau, Math.abs(a.tau[i]! - b.tau[i]!));
    expect(maxTau).toBeLessThan(TAU_TOL);
    a.curve.forEach(([, l], i) => expect(Math.abs(l - b.curve[i]![1])).toBeLessThan(TAU_TOL));
    expect(b.keptCurve).toEqual(a.keptCurve);
    expect(b.nodes).toEqual(a.nodes);
    expect(b.k).toBe(a.k);
    expect(a.k).toBeGreaterThan(0);
    expect(a.k).toBeLessThan(a.layout.total); // something in the range was ablated

    const meta = { modelId: 'random', config: cfg };
    const fa = circuitFileSchema.parse(JSON.parse(JSON.stringify(await buildCircuitFile(dense, ckpt, task, a, meta))));
    const fb = await buildCircuitFile(sparse, sparse.ckpt, task, b, meta);
    expect(fa.layers).toEqual([1, 1]);
    expect(fa.prune_config?.layers).toEqual([1, 1]);
    expect(fa.total_nodes).toBe(a.layout.total);
    expect(fa.nodes.every((n) => parseSite(n.site).layer === 1)).toBe(true);
    expect(fb.nodes.map((n) => `${n.site}:${n.channel}`)).toEqual(fa.nodes.map((n) => `${n.site}:${n.channel}`));
    expect(fb.edges).toEqual(fa.edges); // edges read from the sparse weights
    expect(Math.abs(fb.circuit_loss - fa.circuit_loss)).toBeLessThan(1e-4);

    // The restriction the file turns into ablates exactly the range's nodes outside the circuit, bit for bit.
    const kept = new Set(fa.nodes.map((n) => `${n.site}:${n.channel}`));
    const inRangeAblations: Intervention[] = sitesOfLayers(1, 1, false).flatMap((s) =>
      [...Array(siteWidth(c, s)).keys()].filter((ch) => !kept.has(`${s}:${ch}`)).map((ch) => ({ kind: 'node' as const, node: `${s}:${ch}`, mode: fa.ablation })));
    const restriction = circuitInterventions(fa, fa.ablation);
    expect(restriction).toEqual([{ kind: 'circuit', nodes: [...kept], mode: 'mean', layers: [1, 1] }]);
    for (const model of [dense, sparse]) {
      for (const p of pairPrompts(task.test).slice(0, 3)) {
        const viaCircuit = await model.run(p.tokens, { interventions: restriction, record: 'all' });
        const viaNodes = await model.run(p.tokens, { interventions: inRangeAblations, record: 'all' });
        expect(viaCircuit.logits).toEqual(viaNodes.logits);
        for (const s of allSites(c)) expect(viaCircuit.sites.get(s)).toEqual(viaNodes.sites.get(s));
      }
    }

    // The staged evaluation (minimality pass, page metrics) agrees with the pruning masks and changes no stage before layer 1.
    const test = pairPrompts(task.test);
    const evaluator = new StagedListEvaluator(dense, test);
    try {
      const staged = await evaluator.run(restriction, 0);
      const masked = await maskedLogitDiffs(dense, a.layout, test, a.layout.maskOf(a.nodes, 1), { maskFill: 'mean', batchSize: 16 });
      staged.diffs.forEach((d, i) => expect(Math.abs(d - masked[i]!)).toBeLessThan(1e-4));
      evaluator.discard(staged);
    } finally {
      evaluator.dispose();
    }
    const keys = stageKeys(c, restriction);
    const none = stageKeys(c, []);
    expect(keys.map((k, s) => k !== none[s])).toEqual([false, false, true, true, false, false, false]);
  });
});
