import type { CircuitFile } from '../circuit/circuitSchema';
import type { TaskVariantMetrics } from '../worker/protocol';

/**
 * The full model's test accuracy on the open task, and the plain warning the task panel and the graph show when it is
 * too low for the task to mean anything: below this, the model does not do the task, and a circuit "for" it (pruned
 * and calibrated to a target loss the full model never reached) shows what ablation makes of the model, not how the
 * model does the task.
 */
export const FULL_MODEL_MIN_ACCURACY = 0.7;

export interface FullModelAccuracy {
  accuracy: number;
  /** 'live': the full-model row of the task metrics, evaluated here; 'circuit file': its full_model_accuracy, shown
   *  until the live row lands. */
  source: 'live' | 'circuit file';
}

/**
 * The full model's test accuracy on `task`: the live full-model row (any ablation mode: the full model has no
 * interventions), else the task's circuit file's figure; null when neither is known.
 */
export function fullModelAccuracy(
  reference: Readonly<Record<string, TaskVariantMetrics>>, circuit: Pick<CircuitFile, 'task' | 'full_model_accuracy'> | null, task: string | null,
): FullModelAccuracy | null {
  const live = Object.entries(reference).find(([key]) => key.startsWith('full|'))?.[1];
  if (live) return { accuracy: live.accuracy, source: 'live' };
  if (circuit && task && circuit.task === task) return { accuracy: circuit.full_model_accuracy, source: 'circuit file' };
  return null;
}

/** A percentage that never rounds up to the threshold (69.5% is not "70%"). */
export function accuracyPercent(accuracy: number): string {
  const whole = Math.round(accuracy * 100);
  return accuracy < FULL_MODEL_MIN_ACCURACY && whole >= FULL_MODEL_MIN_ACCURACY * 100
    ? `${(Math.floor(accuracy * 1000 + 1e-9) / 10).toFixed(1)}%`
    : `${whole}%`;
}

/** The warning, or null when the full model does the task (or its accuracy is not known yet). */
export function fullModelWarning(acc: FullModelAccuracy | null): string | null {
  if (!acc || !(acc.accuracy < FULL_MODEL_MIN_ACCURACY)) return null;
  return `The full model does not do this task (test accuracy ${accuracyPercent(acc.accuracy)}); what you see is what ablation makes of it.`;
}
