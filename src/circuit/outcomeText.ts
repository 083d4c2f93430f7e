import type { CircuitControl, CircuitFile } from './circuitSchema';

/**
 * The plain words the page and `npm run prune` use for how a pruning run came out: whether the circuit met its target,
 * what the minimality pass removed, and how the control on random labels came out. One wording for both.
 */

const f3 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(3) : '?');

/** Null when the circuit reached its target (or the file predates the field); else what that means for the reader. */
export function missedTargetText(c: Pick<CircuitFile, 'reached_target' | 'target_loss' | 'train_circuit_loss_bound'>): string | null {
  if (c.reached_target !== false) return null;
  const bound = c.train_circuit_loss_bound !== undefined ? `its loss bound on the held-back training pairs is ${f3(c.train_circuit_loss_bound)}, above` : 'it misses';
  return `target not reached: ${bound} the target ${f3(c.target_loss)}. This is the best circuit pruning found, not one that does the task to the target.`;
}

/** "minimality pass removed 41 of 81 nodes", or null when the pass did not run. */
export function minimalityText(c: Pick<CircuitFile, 'minimality_removed' | 'nodes' | 'granularity' | 'edge_count'>): string | null {
  if (c.minimality_removed === undefined) return null;
  const edges = c.granularity === 'edges';
  const before = (edges ? c.edge_count : c.nodes.length) + c.minimality_removed;
  return `minimality pass removed ${c.minimality_removed} of ${before} ${edges ? 'edges' : 'nodes'}`;
}

/**
 * Null for mean ablation (the paper's, and the page's default); for a circuit pruned with zero ablation, what that
 * changes: everything outside it is 0 rather than its pretraining mean, so its numbers hold in zero mode only. (The
 * page opens such a circuit in zero mode unless a link names another mode, so the text does not promise a switch.)
 */
export function ablationText(c: Pick<CircuitFile, 'ablation'>): string | null {
  if (c.ablation !== 'zero') return null;
  return 'pruned with zero ablation: everything outside the circuit is set to 0, not to its mean over pretraining text, ' +
    'so its loss and accuracy are those of zero mode';
}

/** "control with random labels: target not reached, loss 0.720, accuracy 52%, 35 nodes, 40 edges". */
export function controlText(c: CircuitControl): string {
  return `control with random labels: ${c.reached_target ? 'target reached' : 'target not reached'}, loss ${f3(c.circuit_loss)}, ` +
    `accuracy ${(c.circuit_accuracy * 100).toFixed(0)}%, ${c.node_count} nodes, ${c.edge_count} edges`;
}
