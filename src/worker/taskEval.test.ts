import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { circuitFileSchema } from '../circuit/circuitSchema';
import { SparseGpt } from '../model/forward';
import { MODELS_DIR, readModelFolder } from '../model/testing/publicModelFolders';
import { taskMetricVariants } from '../state/variants';
import { applyCalibration, pairPrompts, taskMetrics } from '../tasks/taskLoss';
import { taskFileSchema } from '../tasks/taskSchema';
import { Engine } from './engine';
import type { Intervention } from '../model/interventions';
import { useBackend } from '../model/testing/nodeBackends';
import { randomCheckpoint } from '../model/testing/randomCheckpoint';
import { tf } from '../model/tfjs';
import { calibrateDiffs, evalTask } from './taskEval';
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

describe('evalTask with a circuit calibration', () => {
  it('applies scale to the logit difference and the shift towards the reference token; reports the raw metrics too', async () => {
    await useBackend('cpu');
    const model = SparseGpt.fromCheckpoint(ckpt);
    const cal = { scale: 1.7, shift: -0.4, reference: prompts[0]!.correct };
    const r = await evalTask(model, prompts, [{ label: 'full', interventions: iv }, { label: 'circuit', interventions: iv, calibration: cal }], () => {}, new AbortController().signal);
    const [raw, calibrated] = r.variants;
    expect(raw!.calibration).toBeNull();
    expect(raw!.uncalibrated).toEqual({ loss: raw!.loss, accuracy: raw!.accuracy });
    expect(calibrated!.calibration).toEqual(cal);
    expect(calibrated!.uncalibrated.loss).toBeCloseTo(raw!.loss, 9);
    const signs = prompts.map((p) => (p.correct === cal.reference ? 1 : -1));
    expect(signs.filter((x) => x === 1).length).toBeGreaterThan(0);
    expect(signs.filter((x) => x === -1).length).toBeGreaterThan(0);
    const want = applyCalibration(raw!.logitDiffs, signs, cal);
    prompts.forEach((_, i) => expect(calibrated!.logitDiffs[i]).toBeCloseTo(want[i]!, 5));
    expect(calibrated!.loss).toBeCloseTo(taskMetrics(want).loss, 9);
    expect(calibrateDiffs(prompts, [1, 1], cal)[0]).toBeCloseTo(1.7 * 1 + (prompts[0]!.correct === cal.reference ? -0.4 : 0.4), 9);
    model.dispose();
  });
});

/**
 * The explorer's task metrics for a shipped circuit, computed the way the page does (the engine's evalTask with the
 * variants of taskMetricVariants: "restrict to circuit" calibrated with the file's logit_scale/logit_shift), reproduce
 * the circuit file's stored test-pair figures: full_model_loss, circuit_loss (uncalibrated) and circuit_loss_calibrated.
 */
const SHIPPED = 'sparse-py-2l';
const shippedDir = join(MODELS_DIR, SHIPPED);
describe.skipIf(!existsSync(join(shippedDir, 'circuits')))(`shipped circuits of ${SHIPPED} replayed through the engine`, () => {
  it.each(['single_double_quote', 'bracket_brace', 'while_return_true', 'set_or_string'])('%s', async (name) => {
    await useBackend('wasm');
    const engine = new Engine();
    const files = [...readModelFolder(shippedDir)].map(([path, bytes]) => new File([bytes.slice()], path.split('/').pop()!));
    await engine.load({ kind: 'files', files }, () => {}, new AbortController().signal);
    const circuit = circuitFileSchema.parse(JSON.parse(readFileSync(join(shippedDir, 'circuits', `${name}.json`), 'utf8')));
    const task = taskFileSchema.parse(JSON.parse(readFileSync(join(shippedDir, 'tasks', `${name}.json`), 'utf8')));
    const test = pairPrompts(task.test.slice(0, circuit.test_pairs ?? 100));
    const variants = taskMetricVariants('circuit', circuit, circuit.ablation, [], task);
    expect(variants.map((v) => [v.label, !!v.calibration])).toEqual([['full', false], ['circuit', true], ['current', true]]);
    const r = await engine.evalTask(test.map((p) => ({ tokens: p.tokens, correct: p.correct, alternative: p.alternative })), variants, () => {}, new AbortController().signal);
    const [full, shown, current] = r.variants;
    expect(full!.loss).toBeCloseTo(circuit.full_model_loss, 4);
    expect(full!.accuracy).toBeCloseTo(circuit.full_model_accuracy, 6);
    expect(shown!.uncalibrated.loss).toBeCloseTo(circuit.circuit_loss, 4);
    expect(shown!.uncalibrated.accuracy).toBeCloseTo(circuit.circuit_accuracy, 6);
    expect(circuit.circuit_loss_calibrated).toBeDefined();
    expect(shown!.loss).toBeCloseTo(circuit.circuit_loss_calibrated!, 4);
    expect(shown!.accuracy).toBeCloseTo(circuit.circuit_accuracy_calibrated!, 6);
    expect(current!.loss).toBe(shown!.loss); // the unmodified circuit in "restrict to circuit" view
  }, 120_000);
});
