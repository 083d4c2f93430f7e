import type { CircuitFile } from '../../circuit/circuitSchema';
import { swapCompared } from '../../state/compareRunner';
import { useAppStore } from '../../state/appStore';
import { useCompareStore } from '../../state/compareStore';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import type { TaskVariantMetrics } from '../../worker/protocol';
import { fmt } from '../shared/liveSelectors';
import { CompareGraph } from './CompareGraph';
import { CompareSelect } from './CompareSelect';
import './compare.css';

interface Side {
  id: string;
  name: string;
  circuit: CircuitFile | null;
  dims: { nLayer: number; dHead: number } | null;
  full: TaskVariantMetrics | null;
  circ: TaskVariantMetrics | null;
  note: string | null;
}

const pct = (m: TaskVariantMetrics | null) => (m ? `${(m.accuracy * 100).toFixed(1)}%` : '–');
const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);

/** "dense-py-2l's circuit has 11.5x the nodes and 478x the edges of sparse-py-2l's": the paper's headline, measured. */
function headline(a: Side, b: Side): string | null {
  if (!a.circuit || !b.circuit) return null;
  const [big, small] = a.circuit.edges.length >= b.circuit.edges.length ? [a, b] : [b, a];
  const n = ratio(big.circuit!.nodes.length, small.circuit!.nodes.length);
  const e = ratio(big.circuit!.edges.length, small.circuit!.edges.length);
  const x = (v: number) => (Number.isFinite(v) ? `${v >= 10 ? v.toFixed(0) : v.toFixed(1)}×` : 'more than');
  return `${big.name}'s circuit has ${x(n)} the nodes and ${x(e)} the edges of ${small.name}'s for the same task`;
}

/**
 * Two models on the same task side by side: the loaded one (the explorer's own engine and circuit) and the one the
 * compare setting names (a second engine, compareRunner.ts), each with its circuit's size, its full model's and
 * circuit's task loss and accuracy over its test pairs, and its circuit graph.
 */
export function CompareView() {
  const models = useAppStore((s) => s.models);
  const model = useAppStore((s) => s.model);
  const task = useExplorerStore((s) => s.task);
  const pair = useExplorerStore((s) => s.pair);
  const mode = useExplorerStore((s) => s.mode);
  const circuit = useLiveStore((s) => s.circuit);
  const reference = useLiveStore((s) => s.reference);
  const other = useCompareStore((s) => s.other);
  const nameOf = (id: string) => models.find((m) => m.id === id)?.name ?? id;

  const sides: Side[] = [
    {
      id: model?.id ?? '', name: model ? nameOf(model.id) : '(no model)', circuit, dims: model ? { nLayer: model.nLayer, dHead: model.dHead } : null,
      full: reference[`full|${mode}`] ?? null, circ: reference[`circuit|${mode}`] ?? null, note: circuit ? null : 'no circuit for this task',
    },
    {
      id: other?.id ?? '', name: other ? nameOf(other.id) : '', circuit: other?.task === task ? other.circuit : null,
      dims: other?.model ? { nLayer: other.model.nLayer, dHead: other.model.dHead } : null,
      full: other?.metrics?.full ?? null, circ: other?.metrics?.circuit ?? null,
      note: !other ? null : other.loading ? 'loading…' : other.error ?? (other.evalProgress ? `evaluating ${other.evalProgress.done}/${other.evalProgress.total}` : null),
    },
  ];
  const line = headline(sides[0]!, sides[1]!);
  const otherPairMissing = other && other.task === task && pair !== null && other.pair === null;
  return (
    <section className="panel compare-view" aria-label="Compare models" data-testid="compare-view">
      <h2>Compare · {task ?? 'no task'}</h2>
      <div className="row">
        <CompareSelect />
        <button onClick={() => void swapCompared()} disabled={!other?.model} title="load the compared model into the explorer (the task and pair stay)">Swap</button>
      </div>
      <table className="compare-summary" data-testid="compare-summary">
        <thead>
          <tr><th>model</th><th>nodes</th><th>edges</th><th>full model loss / acc</th><th>circuit loss / acc</th></tr>
        </thead>
        <tbody>
          {sides.map((s, i) => (
            <tr key={i} data-model={s.id} data-nodes={s.circuit?.nodes.length} data-edges={s.circuit?.edges.length}>
              <th scope="row">{s.name}{s.note && <div className="muted small" role="status">{s.note}</div>}</th>
              <td>{s.circuit?.nodes.length.toLocaleString('en-US') ?? '–'}</td>
              <td>{s.circuit?.edges.length.toLocaleString('en-US') ?? '–'}</td>
              <td data-loss={s.full?.loss}>{fmt(s.full?.loss)} / {pct(s.full)}</td>
              <td data-loss={s.circ?.loss}>{fmt(s.circ?.loss)} / {pct(s.circ)}{s.circ?.calibration ? ' (calibrated)' : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {line && <p className="compare-headline" data-testid="compare-headline">{line}</p>}
      <p className="muted small">
        {`${mode} ablation, over each model's own test pairs of the task`}
        {pair !== null && ` · pair ${pair}${otherPairMissing ? ` (${sides[1]!.name} has fewer pairs)` : ''}`}
      </p>
      <div className="compare-graphs">
        {sides.map((s, i) => (
          <div key={i} className="compare-pane">
            <h3 className="small">{s.name || '—'}{s.circuit ? ` · ${s.circuit.nodes.length} nodes · ${s.circuit.edges.length} edges` : ''}</h3>
            {s.circuit && s.dims ? <CompareGraph circuit={s.circuit} nLayer={s.dims.nLayer} dHead={s.dims.dHead} side={i === 0 ? 'loaded' : 'other'} />
              : <p className="muted small">{s.note ?? 'no circuit'}</p>}
          </div>
        ))}
      </div>
    </section>
  );
}
