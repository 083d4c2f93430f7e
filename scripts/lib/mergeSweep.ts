/**
 * --merge-sweep: a sweep whose runs were made by separate `npm run prune` processes (e.g. one k_coef per process,
 * each into its own model folder that links the same model files) is finished by picking among their circuit files
 * with the same rule as --sweep-k-coef (pickSweepRun: runs are deterministic, so the result is the one a single
 * --sweep-k-coef run would write). With one source the file is taken as it is. The output names the target model.
 */
import type { CircuitFile } from '../../src/circuit/circuitSchema';
import { pickSweepRun } from '../../src/circuit/sweep';

/** One line of prune_config.sweep: what a run of the sweep found. */
export interface SweepEntry {
  kCoef: unknown;
  k: number;
  reached_target: boolean | undefined;
  train_loss_bound: number | undefined;
  seconds: number;
}

/** The sweep line of one run, from what its pruning found (a PruneOutcome, or a circuit file's fields). */
export function sweepEntry(kCoef: unknown, run: { k: number; reachedTarget?: boolean; trainLossBound?: number; seconds: number }): SweepEntry {
  return { kCoef, k: run.k, reached_target: run.reachedTarget, train_loss_bound: run.trainLossBound, seconds: run.seconds };
}

export function mergeSweepRuns(files: readonly CircuitFile[], model: string): CircuitFile {
  if (files.length === 0) throw new Error('merge-sweep: no circuit files');
  if (new Set(files.map((f) => f.task)).size !== 1) throw new Error(`merge-sweep: the files are of different tasks (${files.map((f) => f.task).join(', ')})`);
  if (files.length === 1) return { ...files[0]!, model };
  for (const f of files) {
    if (f.train_circuit_loss_bound === undefined || f.reached_target === undefined) throw new Error(`merge-sweep: a ${f.task} file from ${f.model} lacks reached_target or train_circuit_loss_bound`);
    if (f.prune_config?.sweep !== undefined) throw new Error(`merge-sweep: a ${f.task} file from ${f.model} is already a sweep's pick`);
  }
  const runOf = (f: CircuitFile) => ({ k: f.k, reachedTarget: f.reached_target!, trainLossBound: f.train_circuit_loss_bound! });
  const runs = files.map((f) => ({ config: f, outcome: runOf(f) }));
  const picked = pickSweepRun(runs).config;
  const sweep = files.map((f) => sweepEntry(f.prune_config?.kCoef, { ...runOf(f), seconds: f.prune_seconds }));
  return { ...picked, model, prune_config: { ...picked.prune_config, sweep } };
}
