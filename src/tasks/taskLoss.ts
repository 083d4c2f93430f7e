import type { TaskFile, TaskPair, TaskPrompt } from './taskSchema';

/**
 * The paper's task loss, on the per-prompt scale: at the prompt's last position, a binary cross-entropy over just the
 * two candidate tokens, -log softmax([l_correct, l_alternative])[0] = softplus(-(l_correct - l_alternative)).
 * The released code sums this over the two prompts of a contrast pair; we report the mean over prompts (half that
 * sum), which is the scale on which the 0.15 pruning target is stated here. Accuracy is the share of prompts whose
 * correct token's logit beats the alternative's.
 */
export function promptLoss(logitDiff: number): number {
  // softplus(-d), stable for large |d|.
  const x = -logitDiff;
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export interface TaskMetrics {
  loss: number;
  accuracy: number;
  prompts: number;
}

/** Loss and accuracy from per-prompt logit differences d = l_correct - l_alternative. */
export function taskMetrics(logitDiffs: ArrayLike<number>): TaskMetrics {
  const n = logitDiffs.length;
  if (n === 0) return { loss: NaN, accuracy: NaN, prompts: 0 };
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const d = logitDiffs[i]!;
    loss += promptLoss(d);
    if (d > 0) correct++;
  }
  return { loss: loss / n, accuracy: correct / n, prompts: n };
}

/** Both prompts of every pair, a then b. */
export function pairPrompts(pairs: readonly TaskPair[]): TaskPrompt[] {
  const out: TaskPrompt[] = [];
  for (const p of pairs) out.push(p.a, p.b);
  return out;
}

/**
 * The sign of each prompt with respect to the task's first target token: +1 when its correct token is the one
 * named first in the task (`reference`), else -1. Calibration's shift is a bias towards that token.
 */
export function promptSigns(prompts: readonly TaskPrompt[], reference: number): Int8Array {
  return Int8Array.from(prompts, (p) => (p.correct === reference ? 1 : -1));
}

/** The id of the token that plays "target 0" for calibration: the a-prompt's correct token of the first pair. */
export function referenceToken(task: Pick<TaskFile, 'train'>): number {
  return task.train[0]!.a.correct;
}

/**
 * Calibration (the paper fits a scalar scale and shift of the circuit's final logits after pruning). Only the
 * difference of the two candidate logits enters the loss, so a shift common to all logits would do nothing; we fit
 * an affine map of the logit difference measured towards the reference token, u = l_ref - l_other:
 *   u' = scale * u + shift,
 * i.e. scale multiplies both candidate logits and shift is added to the reference token's logit. For a prompt with
 * sign s (+1 if its correct token is the reference), d' = s * u' = scale * d + s * shift.
 * Fit: exact minimisation of the mean per-prompt loss (a 2-parameter logistic regression) by damped Newton steps.
 */
export interface Calibration {
  scale: number;
  shift: number;
}

export const IDENTITY_CALIBRATION: Calibration = { scale: 1, shift: 0 };

export function applyCalibration(logitDiffs: ArrayLike<number>, signs: ArrayLike<number>, cal: Calibration): Float64Array {
  return Float64Array.from({ length: logitDiffs.length }, (_, i) => cal.scale * logitDiffs[i]! + signs[i]! * cal.shift);
}

export function fitCalibration(logitDiffs: ArrayLike<number>, signs: ArrayLike<number>, iterations = 50): Calibration {
  const n = logitDiffs.length;
  if (n === 0) return { ...IDENTITY_CALIBRATION };
  let a = 1;
  let b = 0;
  const objective = (sa: number, sb: number) => {
    let l = 0;
    for (let i = 0; i < n; i++) l += promptLoss(sa * logitDiffs[i]! + signs[i]! * sb);
    return l / n;
  };
  let f = objective(a, b);
  const ridge = 1e-6;
  for (let it = 0; it < iterations; it++) {
    // loss_i = softplus(-z_i), z_i = a d_i + b s_i; dloss/dz = -sigmoid(-z) = p - 1 with p = sigmoid(z).
    let ga = 0, gb = 0, haa = ridge, hab = 0, hbb = ridge;
    for (let i = 0; i < n; i++) {
      const d = logitDiffs[i]!;
      const s = signs[i]!;
      const z = a * d + b * s;
      const p = 1 / (1 + Math.exp(-z));
      const g = p - 1;
      const h = p * (1 - p);
      ga += g * d; gb += g * s;
      haa += h * d * d; hab += h * d * s; hbb += h * s * s;
    }
    ga /= n; gb /= n; haa /= n; hab /= n; hbb /= n;
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-18)) break;
    const da = -(hbb * ga - hab * gb) / det;
    const db = -(haa * gb - hab * ga) / det;
    // Backtracking: separable data drives the scale to infinity, so cap the step and stop when nothing improves.
    let step = 1;
    let improved = false;
    for (let bt = 0; bt < 30; bt++) {
      const na = a + step * da;
      const nb = b + step * db;
      const nf = objective(na, nb);
      if (nf < f - 1e-12) {
        a = na; b = nb; f = nf; improved = true;
        break;
      }
      step /= 2;
    }
    if (!improved || Math.hypot(step * da, step * db) < 1e-9) break;
    // Keep the scale bounded: a perfectly separating circuit would otherwise grow it without limit.
    if (Math.abs(a) > 1e3) { a = Math.sign(a) * 1e3; f = objective(a, b); break; }
  }
  return { scale: a, shift: b };
}
