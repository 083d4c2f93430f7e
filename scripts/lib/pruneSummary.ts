import type { CircuitFile } from '../../src/circuit/circuitSchema';
import { controlText, minimalityText } from '../../src/circuit/outcomeText';
import { fmt } from './format';

/**
 * The one line `npm run prune` prints per task once its circuit file is written. A missed target leads the line, so a
 * circuit that does not do the task is never read as one that does; the control (when run) closes it.
 */
export function pruneSummaryLine(file: CircuitFile, seconds: { prune: number; eval: number; control?: number }): string {
  const parts: string[] = [];
  if (file.reached_target === false) parts.push(`TARGET NOT REACHED (bound ${fmt(file.train_circuit_loss_bound ?? NaN)} > ${fmt(file.target_loss)})`);
  parts.push(
    `k ${file.k}/${file.total_nodes ?? '?'}, ${file.edge_count} edges, circuit loss ${fmt(file.circuit_loss)} acc ${fmt(file.circuit_accuracy, 2)}, ` +
      `full ${fmt(file.full_model_loss)} / ${fmt(file.full_model_accuracy, 2)}, ablated acc ${fmt(file.ablated_accuracy, 2)}`,
  );
  const minimality = minimalityText(file);
  if (minimality) parts.push(minimality);
  if (file.control) parts.push(controlText(file.control));
  parts.push(`${fmt(seconds.prune, 0)} s prune + ${fmt(seconds.eval, 0)} s eval${seconds.control !== undefined ? ` + ${fmt(seconds.control, 0)} s control` : ''}`);
  return parts.join('; ');
}
