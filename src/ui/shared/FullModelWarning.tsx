import { fullModelAccuracy, fullModelWarning } from '../../state/fullModelWarning';
import { useLiveStore } from '../../state/liveStore';

/**
 * Says plainly when the full model does not do the open task (test accuracy below 70%): the task panel shows it
 * under the task, the graph over the circuit. Circuit-level notes (a circuit that missed its target) are the circuit
 * panel's.
 */
export function FullModelWarning({ where }: { where: 'task' | 'graph' }) {
  const reference = useLiveStore((s) => s.reference);
  const circuit = useLiveStore((s) => s.circuit);
  const task = useLiveStore((s) => s.taskFile?.task ?? null);
  const acc = fullModelAccuracy(reference, circuit, task);
  const text = fullModelWarning(acc);
  if (!text || !acc) return null;
  const from = acc.source === 'live' ? 'the full-model row of the task metrics' : "the circuit file's full_model_accuracy (until the live row is computed)";
  return (
    <p className="notice full-model-warning small" role="note"
      data-testid={`full-model-warning-${where}`} data-accuracy={acc.accuracy} data-source={acc.source}
      title={`Test accuracy from ${from}. Below 70% the model does not do the task, so a circuit for it is not how the model does it.`}>
      {text}
    </p>
  );
}
