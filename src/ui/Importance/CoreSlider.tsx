import { CORE_LOSS_TOLERANCE, SMALL_CIRCUIT_NODES } from '../../circuit/core';
import { useExplorerStore } from '../../state/explorerStore';
import { coreSize, setCoreSize } from '../../state/importanceActions';
import { useImportanceStore } from '../../state/importanceStore';
import type { ImportanceResult } from '../../worker/importance';
import { fmt } from '../shared/liveSelectors';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * "Show the N most important nodes": the graph redraws with those nodes and the edges among them, and the core's task
 * loss and accuracy as a circuit of its own (every other node ablated) are evaluated live, uncalibrated, beside the
 * whole circuit's.
 */
export function CoreSlider({ result }: { result: ImportanceResult }) {
  const chosen = useExplorerStore((s) => s.core);
  const cores = useImportanceStore((s) => s.cores);
  const busy = useImportanceStore((s) => s.coreBusy);
  const error = useImportanceStore((s) => s.coreError);
  const total = result.nodes.length;
  const n = coreSize(result, chosen);
  const m = cores[n];
  const fallback = result.core?.size ?? total;
  const why = total <= SMALL_CIRCUIT_NODES
    ? `a circuit of at most ${SMALL_CIRCUIT_NODES} nodes is shown whole`
    : `the smallest core within ${CORE_LOSS_TOLERANCE} of the circuit's loss`;
  return (
    <div className="core-slider" data-testid="core-view">
      <label className="row">
        show the <strong data-testid="core-size">{n}</strong> most important nodes
        <input type="range" aria-label="Core size" min={1} max={total} step={1} value={n} onChange={(e) => setCoreSize(Number(e.target.value))} />
        of {total}
      </label>
      <div className="row small">
        <button type="button" onClick={() => useExplorerStore.setState({ core: null })} disabled={chosen === null}
          title={`default: ${why}`}>Default ({fallback})</button>
        <button type="button" onClick={() => setCoreSize(total)} disabled={n === total}>Whole circuit</button>
      </div>
      <p className="small" data-testid="core-metrics" data-n={n} data-loss={m ? m.loss : undefined} aria-busy={!m}>
        {m
          ? <>core of {n}: loss <strong>{fmt(m.loss)}</strong> · accuracy <strong>{pct(m.accuracy)}</strong></>
          : busy === n ? <>core of {n}: evaluating…</> : <>core of {n}: waiting</>}
        {' '}<span className="muted">(whole circuit: loss {fmt(result.circuit.loss)} · accuracy {pct(result.circuit.accuracy)}; uncalibrated, over the test pairs)</span>
      </p>
      {error && <p className="notice small">core: {error}</p>}
    </div>
  );
}
