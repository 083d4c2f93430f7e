import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from '../model/forward';
import type { AblationMode, Intervention } from '../model/interventions';
import { useBackend, type NodeBackendName } from '../model/testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from '../model/testing/randomCheckpoint';
import { toSparseRepresentation } from '../model/testing/sparseCheckpoint';
import { tf } from '../model/tfjs';
import type { HostTensor, LoadedCheckpoint } from '../model/weights';
import type { TargetPrompt, Variant } from './protocol';
import { TaskEvaluator } from './stagedTaskEval';
import { evalTask } from './taskEval';

// The explorer's incremental task evaluation must give what a full evaluation gives: bit for bit against its own run
// from the tokens (same ops on the same batches, the prefix only read from the cache), and to float rounding against
// the whole forward pass at every position (evalTask), for node and weight-edge ablations in every stage, in mean and
// zero mode, on the dense and the sparse (CSR) weight paths.
const never = new AbortController().signal;
const quiet = () => {};

/** Prompts of mixed lengths like a task's: pairs that differ in one token part-way (sharing the prefix before it),
 *  an exact duplicate and a prompt that is another's prefix, so that packing by shared prefix is exercised. */
function prompts(vocab: number, n: number, maxLen: number): TargetPrompt[] {
  const out: TargetPrompt[] = [];
  for (let i = 0; out.length < n; i++) {
    const tokens = Array.from({ length: 2 + ((i * 5) % (maxLen - 1)) }, (_, j) => (i * 7 + j * 3 + 1) % vocab);
    const other = tokens.slice();
    other[Math.floor(other.length / 2)] = (other[Math.floor(other.length / 2)]! + 1) % vocab;
    out.push({ tokens, correct: (i * 3) % vocab, alternative: (i * 11 + 1) % vocab }, { tokens: other, correct: (i * 5 + 2) % vocab, alternative: i % vocab });
  }
  out[n - 2] = { ...out[0]!, correct: out[1]!.correct };
  out[n - 1] = { ...out[2]!, tokens: out[2]!.tokens.slice(0, Math.max(1, out[2]!.tokens.length - 2)) };
  return out.slice(0, n);
}

/** A nonzero entry of a linear weight (rows within [r0, r1)), as (row, col): ablating it changes something. */
function nonzero(ckpt: LoadedCheckpoint, key: string, r0: number, r1: number, skip = 0): [number, number] {
  const t = ckpt.tensors.get(key) as HostTensor;
  const cols = t.shape[1]!;
  let seen = 0;
  for (let i = r0 * cols; i < r1 * cols; i++) if (t.data[i] !== 0 && seen++ === skip) return [Math.floor(i / cols), i % cols];
  throw new Error(`no nonzero entry in ${key}`);
}

/** One node and one edge ablation in every stage of a 2-layer model (stages.ts), in the given mode. */
function perStage(ckpt: LoadedCheckpoint, mode: AblationMode): { stage: number; iv: Intervention }[] {
  const c = ckpt.config;
  const Q = c.nHead * c.dHead;
  const [vq, vc] = nonzero(ckpt, 'transformer.h.0.attn.c_attn.weight', 2 * Q, 3 * Q);
  const [pr, pc] = nonzero(ckpt, 'transformer.h.0.mlp.c_proj.weight', 0, c.dModel);
  const [ar, ac] = nonzero(ckpt, 'transformer.h.1.attn.c_proj.weight', 0, c.dModel);
  const [fr, fc] = nonzero(ckpt, 'transformer.h.1.mlp.c_fc.weight', 0, c.dMlp, 1);
  return [
    { stage: 0, iv: { kind: 'node', node: '0.attn.k:1', mode } },
    { stage: 0, iv: { kind: 'edge', source: `0.attn.act_in:${vc}`, target: `0.attn.v:${vq - 2 * Q}`, mode } },
    { stage: 1, iv: { kind: 'node', node: '0.mlp.post_act:3', mode } },
    { stage: 1, iv: { kind: 'edge', source: `0.mlp.post_act:${pc}`, target: `0.mlp.resid_delta:${pr}`, mode } },
    { stage: 2, iv: { kind: 'node', node: '1.attn.q:2', mode } },
    { stage: 2, iv: { kind: 'edge', source: `1.attn.v:${ac}`, target: `1.attn.resid_delta:${ar}`, mode } },
    { stage: 3, iv: { kind: 'node', node: '1.mlp.resid_delta:4', mode } },
    { stage: 3, iv: { kind: 'edge', source: `1.mlp.act_in:${fc}`, target: `1.mlp.post_act:${fr}`, mode } },
    { stage: 4, iv: { kind: 'node', node: 'final_resid:5', mode } },
  ];
}

const CONFIGS = [
  ['AbsTopK everywhere, sink, bigram', { afrac: 0.5, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true, bigramTable: true }],
  ['layernorm, tied unembedding, relu, no biases', { rmsNorm: false, tiedUnembed: true, activation: 'relu', bias: false, afrac: 0.25 }],
] as const;

describe.each<NodeBackendName>(['cpu', 'wasm'])('incremental task evaluation on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  describe.each(CONFIGS)('%s', (_name, config) => {
    const ckpt = randomCheckpoint({ config: { nLayer: 2, ...config }, seed: 8, density: 0.4 });
    const ps = prompts(ckpt.config.vocabSize, 23, 12);

    describe.each([['dense', ckpt], ['sparse (CSR)', toSparseRepresentation(ckpt)]] as const)('%s weights', (_rep, weights) => {
      let model: SparseGpt;
      beforeAll(() => { model = new SparseGpt(weights, { sparseKernel: 'csr' }); });
      afterAll(() => model.dispose());

      it.each<AblationMode>(['mean', 'zero'])('%s ablation: each stage starts where its change is, and matches a full evaluation', async (mode) => {
        const cases = perStage(ckpt, mode);
        const circuit: Intervention = { kind: 'circuit', nodes: ['0.attn.v:1', '0.mlp.post_act:2', '1.attn.k:0', 'final_resid:3'], mode };
        const variants: Variant[] = [
          { label: 'full', interventions: [] },
          ...cases.map((c, i) => ({ label: `${c.stage}.${i}`, interventions: [c.iv] })),
          { label: 'two stages', interventions: [cases[6]!.iv, cases[3]!.iv] },
          { label: 'circuit', interventions: [circuit] },
          { label: 'circuit + edge', interventions: [circuit, cases[5]!.iv] },
        ];
        const ev = new TaskEvaluator(model, { tokensPerBatch: 40 }); // several batches of mixed lengths
        const incremental = await ev.evaluate(ps, variants, quiet, never);
        expect(ev.lastRun.map((r) => r.from)).toEqual([0, ...cases.map((c) => c.stage), 3, 0, 2]);
        for (let i = 0; i < variants.length; i++) {
          const fresh = new TaskEvaluator(model, { tokensPerBatch: 40 });
          const alone = await fresh.evaluate(ps, [variants[i]!], quiet, never);
          fresh.dispose();
          expect(alone.variants[0]!.logitDiffs, variants[i]!.label).toEqual(incremental.variants[i]!.logitDiffs);
        }
        const full = await evalTask(model, ps, variants, quiet, never, 40);
        for (let i = 0; i < variants.length; i++) {
          const got = incremental.variants[i]!.logitDiffs;
          const want = full.variants[i]!.logitDiffs;
          const worst = Math.max(...Array.from(got, (g, p) => Math.abs(g - want[p]!)));
          if (process.env.SHOW_DIFFS) console.log(backend, _name, _rep, mode, variants[i]!.label, worst);
          expect(worst, `${variants[i]!.label}: largest difference from the full forward pass`).toBeLessThanOrEqual(1e-5);
          expect(incremental.variants[i]!.loss).toBeCloseTo(full.variants[i]!.loss, 5);
        }
        // In every stage some ablation changes the result, so starting there is really exercised.
        for (let stage = 0; stage <= 4; stage++) {
          const changed = cases.some((c, i) => c.stage === stage && incremental.variants[i + 1]!.logitDiffs.some((d, p) => d !== incremental.variants[0]!.logitDiffs[p]));
          expect(changed, `an ablation in stage ${stage} changes something`).toBe(true);
        }
        // A list evaluated before is answered from the cache, without running anything.
        await ev.evaluate(ps, [variants[3]!], quiet, never);
        expect(ev.lastRun[0]!.from).toBeNull();
        ev.dispose();
      });
    });
  });

  it('frees what it no longer needs, keeps within its byte budget and leaves nothing after a cancel', async () => {
    const ckpt = randomCheckpoint({ config: { nLayer: 2, afrac: 0.5 }, seed: 3 });
    const held = tf.memory().numTensors;
    const model = new SparseGpt(ckpt);
    const ps = prompts(ckpt.config.vocabSize, 17, 10);
    const ev = new TaskEvaluator(model, { tokensPerBatch: 30, cacheBytes: 40_000 });
    const lists: Intervention[][] = [[], ...[0, 1, 2, 3, 4, 5].map((ch): Intervention[] => [{ kind: 'node', node: `0.mlp.post_act:${ch}`, mode: 'zero' }])];
    await ev.evaluate(ps, [{ label: 'x', interventions: lists[1]! }], quiet, never);
    // The model's weights, causal masks per length and compiled intervention list (one site's keep and fill).
    const outside = tf.memory().numTensors - ev.heldTensors;
    for (const l of lists) await ev.evaluate(ps, [{ label: 'x', interventions: l }], quiet, never);
    expect(ev.cachedBytes).toBeLessThanOrEqual(40_000);
    expect(tf.memory().numTensors - ev.heldTensors, 'tensors beyond those the evaluator reports holding').toBe(outside);
    const ctrl = new AbortController();
    const pending = ev.evaluate(ps, [{ label: 'y', interventions: [{ kind: 'node', node: '0.attn.q:1', mode: 'mean' }] }], (p) => { if (p.done > 0) ctrl.abort(); }, ctrl.signal);
    await expect(pending).rejects.toThrow();
    ev.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(held);
  });
});
