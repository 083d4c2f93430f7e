import type { PruneConfig, PruneOutcome } from './prune';

/** One configuration of a per-task sweep and what its pruning run found. */
export interface SweepRun<C = Partial<PruneConfig>> {
  config: C;
  outcome: Pick<PruneOutcome, 'k' | 'reachedTarget' | 'trainLossBound'>;
}

/**
 * The run a per-task sweep keeps (the paper tunes pruning per task, with CARBS): judged only on training data, the
 * smallest circuit among the runs whose bisection reached the target on the held-back training pairs; when none did,
 * the run with the lowest loss bound there. Ties go to the earlier run.
 */
export function pickSweepRun<R extends SweepRun<unknown>>(runs: readonly R[]): R {
  if (runs.length === 0) throw new Error('pickSweepRun: no runs');
  const reached = runs.filter((r) => r.outcome.reachedTarget);
  if (reached.length > 0) return reached.reduce((best, r) => (r.outcome.k < best.outcome.k ? r : best));
  return runs.reduce((best, r) => (r.outcome.trainLossBound < best.outcome.trainLossBound ? r : best));
}
