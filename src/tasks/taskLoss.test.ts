import { describe, expect, it } from 'vitest';
import { applyCalibration, fitCalibration, promptLoss, promptSigns, taskMetrics } from './taskLoss';

describe('task loss', () => {
  it('is the binary cross-entropy over the two candidate logits', () => {
    for (const d of [-30, -2, -0.1, 0, 0.5, 3, 40]) {
      const pCorrect = Math.exp(d) / (Math.exp(d) + 1);
      expect(promptLoss(d)).toBeCloseTo(-Math.log(pCorrect), 10);
    }
    expect(promptLoss(0)).toBeCloseTo(Math.LN2, 12);
    expect(Number.isFinite(promptLoss(-1e4))).toBe(true);
  });

  it('averages over prompts and counts accuracy as correct logit > alternative', () => {
    const m = taskMetrics([2, -1, 0, 5]);
    expect(m.prompts).toBe(4);
    expect(m.accuracy).toBe(0.5); // a tie is not correct
    expect(m.loss).toBeCloseTo((promptLoss(2) + promptLoss(-1) + promptLoss(0) + promptLoss(5)) / 4, 12);
  });

  it('calibration recovers the scale and shift of a logistic model', () => {
    // Data generated from d_true = 2 * d + 0.7 * sign: labels are "correct" with probability sigmoid(d_true);
    // an incorrect label flips the prompt's sign and its difference.
    let s = 12345;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
    const d: number[] = [];
    const signs: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const u = (rand() - 0.5) * 6; // logit difference towards the reference token
      const pRef = 1 / (1 + Math.exp(-(2 * u + 0.7)));
      const refIsCorrect = rand() < pRef;
      signs.push(refIsCorrect ? 1 : -1);
      d.push(refIsCorrect ? u : -u);
    }
    const cal = fitCalibration(d, signs);
    expect(cal.scale).toBeCloseTo(2, 1);
    expect(cal.shift).toBeCloseTo(0.7, 1);
    expect(taskMetrics(applyCalibration(d, signs, cal)).loss).toBeLessThan(taskMetrics(d).loss);
  });

  it('calibration never makes the loss worse, also on separable data', () => {
    const d = [3, 4, 5, 2];
    const cal = fitCalibration(d, [1, -1, 1, -1]);
    expect(Number.isFinite(cal.scale) && Number.isFinite(cal.shift)).toBe(true);
    expect(taskMetrics(applyCalibration(d, [1, -1, 1, -1], cal)).loss).toBeLessThanOrEqual(taskMetrics(d).loss);
  });

  it('signs are +1 for prompts whose correct token is the reference', () => {
    const p = (correct: number, alternative: number) => ({ text: 'x', tokens: [1], correct, alternative });
    expect([...promptSigns([p(5, 6), p(6, 5)], 5)]).toEqual([1, -1]);
  });
});
