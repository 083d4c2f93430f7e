import { selectPos } from '../../state/explorerActions';
import type { TokenView } from '../../worker/protocol';
import { heatColor } from '../shared/heatColor';
import { useEffectivePos } from '../shared/liveSelectors';
import { showToken } from '../shared/tokenText';

interface Props { tokens: TokenView[]; current: Float32Array; reference?: Float32Array; refLabel: string }

/** One node's value on every token of the prompt: now, in the reference, and the change. Click a token to select it. */
export function TokenHeatmap({ tokens, current, reference, refLabel }: Props) {
  const pos = useEffectivePos();
  const maxAbs = Math.max(1e-9, ...current.map(Math.abs), ...(reference ? [...reference].map(Math.abs) : []));
  const color = heatColor(maxAbs);
  const row = (label: string, values: ArrayLike<number>, testid: string) => (
    <div className="heat-row" data-testid={testid}>
      <span className="muted small heat-label">{label}</span>
      <div className="tokens">
        {tokens.map((t, i) => (
          <button key={i} className={`token heat${i === pos ? ' selected' : ''}`} style={color(values[i]!)}
            title={`${JSON.stringify(t.text)} @${i}: ${values[i]!.toFixed(4)}`} data-value={values[i]} onClick={() => selectPos(i)}>{showToken(t.text)}</button>
        ))}
      </div>
    </div>
  );
  const delta = reference ? Float32Array.from(current, (v, i) => v - reference[i]!) : null;
  return (
    <div data-testid="node-heatmap">
      {row('now', current, 'heat-current')}
      {reference && row(refLabel, reference, 'heat-reference')}
      {delta && delta.some((d) => Math.abs(d) > 1e-6) && row('change', delta, 'heat-delta')}
      {pos !== null && <p className="small">at token {pos}: {current[pos]?.toFixed(4)}{reference ? ` (${refLabel} ${reference[pos]?.toFixed(4)})` : ''}</p>}
    </div>
  );
}
