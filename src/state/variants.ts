import { circuitInterventions } from '../circuit/circuitInterventions';
import type { CircuitFile } from '../circuit/circuitSchema';
import type { AblationMode, Intervention } from '../model/interventions';
import { referenceToken } from '../tasks/taskLoss';
import type { TaskFile } from '../tasks/taskSchema';
import type { Variant, VariantCalibration } from '../worker/protocol';
import type { ViewMode } from './explorerStore';

/** Node ids of a circuit, `site:channel`. */
export function circuitNodeIds(c: CircuitFile): string[] {
  return c.nodes.map((n) => `${n.site}:${n.channel}`);
}

/** "Restrict to circuit" as interventions with the global mode: every node outside the circuit ablated, and for an
 *  edge circuit also every candidate edge between its nodes that pruning did not keep (circuitInterventions). */
export function circuitRestriction(c: CircuitFile, mode: AblationMode): Intervention[] {
  return circuitInterventions(c, mode);
}

/** The model with nothing changed by the user, in the chosen view: the baseline that node changes are shown against. */
export function referenceVariant(view: ViewMode, circuit: CircuitFile | null, mode: AblationMode): Variant {
  if (view === 'circuit' && circuit) {
    return { label: 'circuit', interventions: circuitRestriction(circuit, mode) };
  }
  return { label: 'full', interventions: [] };
}

/** The reference plus the user's interventions. */
export function currentVariant(view: ViewMode, circuit: CircuitFile | null, mode: AblationMode, iv: readonly Intervention[]): Variant {
  const ref = referenceVariant(view, circuit, mode);
  return { ...ref, label: 'current', interventions: [...ref.interventions, ...iv] };
}

/**
 * The circuit file's fitted logit scale and shift (docs/circuits.md: the paper's scalar calibration of the circuit's
 * logits, fitted on the training pairs after pruning), for the task metrics of the circuit. Null when there is no
 * circuit, when it belongs to another task, when it is studied under another ablation than it was fitted with, or when
 * the calibration is the identity.
 */
export function circuitCalibration(circuit: CircuitFile | null, mode: AblationMode, task: Pick<TaskFile, 'task' | 'train'> | null): VariantCalibration | null {
  if (!circuit || !task || circuit.task !== task.task || circuit.ablation !== mode) return null;
  if (circuit.logit_scale === 1 && circuit.logit_shift === 0) return null;
  return { scale: circuit.logit_scale, shift: circuit.logit_shift, reference: referenceToken(task) };
}

/**
 * The comparison variants for task metrics: the circuit, and "current" in the circuit view, carry the circuit's
 * calibration (so the unmodified circuit reproduces the file's calibrated test loss); the full model is never calibrated.
 */
export function taskMetricVariants(
  view: ViewMode, circuit: CircuitFile | null, mode: AblationMode, iv: readonly Intervention[], task: Pick<TaskFile, 'task' | 'train'> | null,
): Variant[] {
  const cal = circuitCalibration(circuit, mode, task);
  return comparisonVariants(view, circuit, mode, iv).map((v) =>
    cal && (v.label === 'circuit' || (v.label === 'current' && view === 'circuit' && circuit)) ? { ...v, calibration: cal } : v);
}

/** Full model, circuit (when there is one) and current: the three columns every comparison shows. */
export function comparisonVariants(view: ViewMode, circuit: CircuitFile | null, mode: AblationMode, iv: readonly Intervention[]): Variant[] {
  const out: Variant[] = [referenceVariant('full', null, mode)];
  if (circuit) out.push(referenceVariant('circuit', circuit, mode));
  out.push(currentVariant(view, circuit, mode, iv));
  return out;
}
