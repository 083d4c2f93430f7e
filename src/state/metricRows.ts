import type { TaskFile } from '../tasks/taskSchema';
import type { TaskVariantMetrics, Variant } from '../worker/protocol';

/**
 * Task-metric rows by what they were computed from: the task file, the variant's interventions and calibration. The
 * page's row cache is keyed by label and ablation mode; this one lets a row whose variant is the same under both
 * modes (the full model has no interventions) be taken over after a switch of mode instead of evaluated again.
 */
const rows = new WeakMap<TaskFile, Map<string, TaskVariantMetrics>>();

const contentKey = (v: Variant) => JSON.stringify([v.interventions, v.calibration ?? null]);

export function rememberRow(task: TaskFile, v: Variant, m: TaskVariantMetrics): void {
  let byContent = rows.get(task);
  if (!byContent) rows.set(task, (byContent = new Map()));
  byContent.set(contentKey(v), m);
}

/** The row already computed for a variant with the same content, relabelled for this one. */
export function knownRow(task: TaskFile, v: Variant): TaskVariantMetrics | undefined {
  const m = rows.get(task)?.get(contentKey(v));
  return m && { ...m, label: v.label };
}
