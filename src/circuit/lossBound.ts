import { promptLoss } from '../tasks/taskLoss';

/**
 * The bisection's acceptance test for a circuit: mean task loss over the judged prompts plus z standard errors of that
 * mean. With z = 0 this is the paper's rule (mean loss at most the target). Judged on a sample of prompts, a circuit
 * right at the target passes about half the time and then misses it on other prompts about half the time; asking
 * that the one-sided bound clear the target (z = 1: about 84% confidence) makes the chosen k hold on new prompts.
 */
export function lossUpperBound(logitDiffs: ArrayLike<number>, z: number): { mean: number; bound: number } {
  const n = logitDiffs.length;
  if (n === 0) return { mean: NaN, bound: NaN };
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const l = promptLoss(logitDiffs[i]!);
    sum += l;
    sumSq += l * l;
  }
  const mean = sum / n;
  if (z === 0 || n < 2) return { mean, bound: mean };
  const variance = Math.max(0, (sumSq - n * mean * mean) / (n - 1));
  return { mean, bound: mean + z * Math.sqrt(variance / n) };
}
