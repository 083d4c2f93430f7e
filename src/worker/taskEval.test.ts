import { describe, expect, it } from 'vitest';
import { SparseGpt } from '../model/forward';
import type { Intervention } from '../model/interventions';
import { useBackend } from '../model/testing/nodeBackends';
import { randomCheckpoint } from '../model/testing/randomCheckpoint';
import { tf } from '../model/tfjs';
import { evalTask } from './taskEval';
import type { TargetPrompt } from './protocol';

// Batched, right-padded evaluation must give each prompt exactly what a lone, unpadded run gives.
const ckpt = randomCheckpoint({ config: { nLayer: 2, dModel: 12, nHead: 2, dHead: 4, dMlp: 16, vocabSize: 30, afrac: 0.5 }, seed: 5 });
const prompts: TargetPrompt[] = Array.from({ length: 21 }, (_, i) => ({
  tokens: Array.from({ length: 2 + (i % 7) }, (_, j) => (i * 7 + j * 3) % 30),
  correct: i % 30,
  alternative: (i * 11 + 1) % 30,
}));
const iv: Intervention[] = [{ kind: 'edge', source: '0.attn.act_in:1', target: '0.attn.v:2', mode: 'mean' }, { kind: 'node', node: '1.mlp.post_act:3', mode: 'zero' }];

describe('evalTask', () => {
  it('matches per-prompt runs, reports progress, frees its tensors and can be cancelled', async () => {
    await useBackend('cpu');
    const model = SparseGpt.fromCheckpoint(ckpt);
    const progress: number[] = [];
    const r = await evalTask(model, prompts, [{ label: 'full', interventions: [] }, { label: 'x', interventions: iv }], (p) => progress.push(p.done), new AbortController().signal, 20);
    for (const [vi, list] of [[0, []], [1, iv]] as const) {
      for (let i = 0; i < prompts.length; i++) {
        const p = prompts[i]!;
        const out = await model.run(p.tokens, { interventions: list });
        const last = (p.tokens.length - 1) * 30;
        expect(r.variants[vi]!.logitDiffs[i]).toBeCloseTo(out.logits[last + p.correct]! - out.logits[last + p.alternative]!, 4);
      }
    }
    expect(progress.at(-1)).toBe(42);
    expect(progress.length).toBeGreaterThan(6); // several batches per variant
    const d = r.variants[0]!.logitDiffs;
    expect(r.variants[0]!.accuracy).toBeCloseTo([...d].filter((x) => x > 0).length / d.length, 9);
    // A second identical evaluation ends with the same cached intervention list: nothing may have been left behind.
    const held = tf.memory().numTensors;
    await evalTask(model, prompts, [{ label: 'full', interventions: [] }, { label: 'x', interventions: iv }], () => {}, new AbortController().signal);
    expect(tf.memory().numTensors).toBe(held);
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(evalTask(model, prompts, [{ label: 'full', interventions: [] }], () => {}, ctrl.signal)).rejects.toThrow();
    model.dispose();
  });
});
