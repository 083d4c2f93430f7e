import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from '../model/forward';
import type { AblationMode, Intervention } from '../model/interventions';
import { latestStart } from '../model/stages';
import { disposeBatch, prepareBatch, runStages } from '../model/stagedForward';
import { useBackend, type NodeBackendName } from '../model/testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from '../model/testing/randomCheckpoint';
import { toSparseRepresentation } from '../model/testing/sparseCheckpoint';
import { tf } from '../model/tfjs';
import type { TargetPrompt, Variant } from './protocol';
import { TaskEvaluator } from './stagedTaskEval';
import { evalTask } from './taskEval';

// Residual and q·k edges in the explorer's incremental task evaluation: packed prompts, the last layer at the last
// position only, runs started from cached streams. A residual edge leaves the stream entering its reader's stage as
// it was, but its patch needs the writer's contribution, so a run under it starts no later than the writer's stage
// (stages.ts latestStart), even when a cached stream for a later stage exists. Results equal the whole forward pass.
const never = new AbortController().signal;
const quiet = () => {};

/** Prompts of mixed lengths, pairs sharing a prefix, one prompt the prefix of another (packing is exercised). */
function prompts(vocab: number, n: number): TargetPrompt[] {
  const out: TargetPrompt[] = [];
  for (let i = 0; out.length < n; i++) {
    const tokens = Array.from({ length: 2 + ((i * 5) % 9) }, (_, j) => (i * 7 + j * 3 + 1) % vocab);
    const other = tokens.slice();
    other[other.length >> 1] = (other[other.length >> 1]! + 1) % vocab;
    out.push({ tokens, correct: (i * 3) % vocab, alternative: (i * 11 + 1) % vocab }, { tokens: other, correct: (i * 5 + 2) % vocab, alternative: i % vocab });
  }
  out[n - 1] = { ...out[2]!, tokens: out[2]!.tokens.slice(0, Math.max(1, out[2]!.tokens.length - 2)) };
  return out.slice(0, n);
}

const residual = (writer: string, reader: string, ch: number, mode: AblationMode): Intervention =>
  ({ kind: 'edge', source: `${writer}:${ch}`, target: `${reader}:${ch}`, mode });

/** Lists in evaluation order, each with the stage its run must start at given the lists cached before it. */
function cases(mode: AblationMode): { label: string; list: Intervention[]; from: number }[] {
  const toFinal = residual('0.mlp.resid_delta', 'final_resid', 2, mode);
  return [
    { label: 'full', list: [], from: 0 },
    { label: 'attn 0 -> mlp 1', list: [residual('0.attn.resid_delta', '1.mlp.act_in', 1, mode)], from: 0 },
    { label: 'mlp 0 -> final', list: [toFinal], from: 1 },
    { label: 'attn 1 -> mlp 1', list: [residual('1.attn.resid_delta', '1.mlp.act_in', 3, mode)], from: 2 },
    { label: 'mlp 1 -> final', list: [residual('1.mlp.resid_delta', 'final_resid', 4, mode)], from: 3 },
    { label: 'attn 0 -> attn 1 (all rows)', list: [residual('0.attn.resid_delta', '1.attn.act_in', 5, mode)], from: 0 },
    { label: 'mlp 0 -> mlp 1 (rows to last positions)', list: [residual('0.mlp.resid_delta', '1.mlp.act_in', 6, mode)], from: 1 },
    { label: 'q·k in layer 1', list: [{ kind: 'edge', source: '1.attn.q:2', target: '1.attn.k:2', mode }], from: 2 },
    // "mlp 0 -> final" is cached and agrees on stages 0..2, but its stream entering stage 3 cannot serve: the writer is
    // in stage 1.
    { label: 'mlp 0 -> final, then a node in stage 3', list: [toFinal, { kind: 'node', node: '1.mlp.post_act:3', mode }], from: 1 },
    {
      label: 'every kind at once', from: 0, list: [
        residual('0.attn.resid_delta', '1.attn.act_in', 5, mode), residual('0.mlp.resid_delta', '1.attn.act_in', 5, mode),
        { kind: 'node', node: '0.attn.resid_delta:5', mode: 'zero' }, { kind: 'edge', source: '0.attn.q:1', target: '0.attn.k:1', mode }, toFinal,
      ],
    },
  ];
}

describe.each<NodeBackendName>(['cpu', 'wasm'])('residual and q·k edges in the incremental task evaluation on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  const ckpt = randomCheckpoint({ config: { nLayer: 2, afrac: 0.5, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true, bigramTable: true }, seed: 8, density: 0.4 });
  const ps = prompts(ckpt.config.vocabSize, 21);

  describe.each([['dense', ckpt], ['sparse (CSR)', toSparseRepresentation(ckpt)]] as const)('%s weights', (_rep, weights) => {
    let model: SparseGpt;
    beforeAll(() => { model = new SparseGpt(weights, { sparseKernel: 'csr' }); });
    afterAll(() => model.dispose());

    it.each<AblationMode>(['mean', 'zero'])('%s: runs start no later than the writer and match a full evaluation', async (mode) => {
      const cs = cases(mode);
      const variants: Variant[] = cs.map((c) => ({ label: c.label, interventions: c.list }));
      const ev = new TaskEvaluator(model, { tokensPerBatch: 40 });
      const incremental = await ev.evaluate(ps, variants, quiet, never);
      expect(ev.lastRun.map((r) => r.from)).toEqual(cs.map((c) => c.from));
      ev.dispose();
      const full = await evalTask(model, ps, variants, quiet, never, 40);
      for (let i = 0; i < variants.length; i++) {
        const got = incremental.variants[i]!.logitDiffs;
        const want = full.variants[i]!.logitDiffs;
        const worst = Math.max(...Array.from(got, (g, p) => Math.abs(g - want[p]!)));
        expect(worst, `${variants[i]!.label}: largest difference from the full forward pass`).toBeLessThanOrEqual(1e-5);
        if (i > 0) expect(got.some((d, p) => d !== incremental.variants[0]!.logitDiffs[p]), `${variants[i]!.label} changes something`).toBe(true);
      }
    });
  });

  it('a staged run started after a residual edge\'s writer is refused, and leaves nothing behind', () => {
    const model = new SparseGpt(ckpt);
    const list = [residual('0.mlp.resid_delta', 'final_resid', 2, 'mean')];
    expect(latestStart(ckpt.config, list)).toBe(1);
    const batch = prepareBatch(model, ps.slice(0, 6));
    const base = runStages(model, batch, [], 0);
    const before = tf.memory().numTensors;
    expect(() => runStages(model, batch, list, 3, base.entering.get(3))).toThrow(/0\.mlp\.resid_delta -> final_resid: this run did not compute the writer/);
    expect(tf.memory().numTensors).toBe(before + 2); // the list's compiled mask and fill, cached by the model
    tf.dispose([base.logits, ...base.entering.values()]);
    disposeBatch(batch);
    model.dispose();
  });
});
