import { ablationText, controlText, minimalityText, missedTargetText } from '../../circuit/outcomeText';
import { useLiveStore } from '../../state/liveStore';

const CONTROL_TITLE =
  'The same pruning run on the same prompts with each pair\'s two answers swapped at random (probability 1/2, fixed seed). ' +
  'Random labels have no mechanism behind them: if pruning reaches the target on them too, the circuit may be ' +
  'fitting the labels through ablation rather than showing how the model does the task.';

/**
 * How the shown circuit's pruning came out, in words: a missed target (the circuit is then only the best one found),
 * what the minimality pass removed, zero ablation where it was pruned with it, and the control on random labels when the circuit file has one.
 */
export function CircuitOutcome() {
  const circuit = useLiveStore((s) => s.circuit);
  if (!circuit) return null;
  const missed = missedTargetText(circuit);
  const minimality = minimalityText(circuit);
  const ablation = ablationText(circuit);
  const control = circuit.control;
  if (!missed && !minimality && !ablation && !control) return null;
  return (
    <div className="circuit-outcome" data-testid="circuit-outcome">
      {missed && <p className="notice small" role="note" data-testid="circuit-missed-target">{missed}</p>}
      {minimality && <p className="muted small" data-testid="circuit-minimality">{minimality}</p>}
      {ablation && <p className="muted small" data-testid="circuit-ablation">{ablation}</p>}
      {control && (
        <p className="small" data-testid="circuit-control" data-reached-target={control.reached_target} title={CONTROL_TITLE}>
          {controlText(control)}{' '}
          <span className="muted">({control.flipped_pairs} pairs flipped, seed {control.seed}{control.reached_target ? '; the task\'s circuit may reflect the labels more than the model' : ''})</span>
        </p>
      )}
    </div>
  );
}
