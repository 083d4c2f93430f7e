import { SeededRng } from '../tasks/seeded';
import type { TaskFile, TaskPair } from '../tasks/taskSchema';
import { circuitControlSchema, circuitGranularity, type CircuitControl, type CircuitFile } from './circuitSchema';

/**
 * A control for a circuit: the same pruning run on the same prompts, with labels that mean nothing. Each pair's
 * correct and alternative tokens are swapped with probability 1/2 (both prompts of the pair, so the pair stays a
 * contrast pair), by one seeded generator over the training pairs and then the test pairs in file order. If pruning
 * finds a small circuit that reaches the target on such labels too, the ablations are fitting the labels rather than
 * exposing a mechanism of the model (the criticism of node pruning in docs/circuits.md, "Reading these numbers").
 */
export const CONTROL_LABEL_RULE = 'random flip, p=0.5';
/** The seed `npm run prune -- --control` uses unless --control-seed says otherwise. */
export const DEFAULT_CONTROL_SEED = 1;

function flipPair(p: TaskPair): TaskPair {
  return {
    ...p,
    a: { ...p.a, correct: p.a.alternative, alternative: p.a.correct },
    b: { ...p.b, correct: p.b.alternative, alternative: p.b.correct },
  };
}

/** The task with its labels flipped by `seed`, and which pairs were flipped (train, then test). */
export function flipLabels(task: TaskFile, seed: number): { task: TaskFile; flipped: { train: boolean[]; test: boolean[] } } {
  if (!Number.isInteger(seed)) throw new Error(`the control's seed must be a whole number (got ${seed})`);
  const rng = new SeededRng(seed);
  const draw = (pairs: readonly TaskPair[]) => pairs.map(() => rng.uniform() < 0.5);
  const train = draw(task.train);
  const test = draw(task.test);
  return {
    task: {
      ...task,
      train: task.train.map((p, i) => (train[i] ? flipPair(p) : p)),
      test: task.test.map((p, i) => (test[i] ? flipPair(p) : p)),
    },
    flipped: { train, test },
  };
}

/** What a circuit file stores about its control: the control's own circuit file, summed up. */
export function controlSummary(control: CircuitFile, seed: number, flippedPairs: number): CircuitControl {
  if (control.reached_target === undefined) throw new Error('the control\'s circuit file does not say whether it reached the target');
  return circuitControlSchema.parse({
    label_rule: CONTROL_LABEL_RULE,
    seed,
    flipped_pairs: flippedPairs,
    granularity: circuitGranularity(control),
    reached_target: control.reached_target,
    ...(control.train_circuit_loss_bound !== undefined ? { train_circuit_loss_bound: control.train_circuit_loss_bound } : {}),
    circuit_loss: control.circuit_loss,
    circuit_accuracy: control.circuit_accuracy,
    full_model_loss: control.full_model_loss,
    full_model_accuracy: control.full_model_accuracy,
    node_count: control.nodes.length,
    edge_count: control.edge_count,
    ...(control.minimality_removed !== undefined ? { minimality_removed: control.minimality_removed } : {}),
    prune_seconds: control.prune_seconds,
  });
}

/**
 * Runs the control of a circuit: `findCircuit` is whatever produced the circuit (node or edge pruning, with the same
 * settings), given the task with flipped labels; the result goes into the circuit file as `control`.
 */
export async function runControl(
  task: TaskFile,
  seed: number,
  findCircuit: (flipped: TaskFile) => Promise<CircuitFile>,
): Promise<CircuitControl> {
  const { task: flipped, flipped: which } = flipLabels(task, seed);
  const count = [...which.train, ...which.test].filter(Boolean).length;
  return controlSummary(await findCircuit(flipped), seed, count);
}
