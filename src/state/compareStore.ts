import { create } from 'zustand';
import type { CircuitFile } from '../circuit/circuitSchema';
import type { ModelSummary, ProgressOf, TaskVariantMetrics } from '../worker/protocol';

/**
 * The compare view's second model (explorerStore.compare names it): what its own engine has loaded, the circuit it
 * has for the explorer's task, and its full-model and circuit metrics over its test pairs of that task. The loaded
 * model's side is the explorer's own (appStore, liveStore). Data only; compareRunner.ts fills it.
 */
export interface CompareSide {
  /** The model id this describes (models/<id>/). */
  id: string;
  /** Loaded summary, or null while loading or after a failed load. */
  model: ModelSummary | null;
  loading: boolean;
  /** Why the model, its task or its circuit could not be shown. */
  error: string | null;
  /** The task these belong to. */
  task: string | null;
  circuit: CircuitFile | null;
  /** The explorer's pair index on this model's copy of the task (null: a free prompt, or the task has fewer pairs). */
  pair: number | null;
  /** Full model and circuit (restricted and calibrated as the explorer does it) under the explorer's ablation mode. */
  metrics: { full: TaskVariantMetrics | null; circuit: TaskVariantMetrics | null } | null;
  evalProgress: ProgressOf<'eval'> | null;
}

export const useCompareStore = create<{ other: CompareSide | null }>(() => ({ other: null }));
