import { selectPair } from '../../state/explorerActions';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { showToken } from '../shared/tokenText';

const NO_PAIRS: never[] = [];

/** The test pairs: pick the a or b prompt of any pair. The current logit difference per prompt is shown when known. */
export function PairList() {
  const pairs = useLiveStore((s) => s.taskFile?.test ?? NO_PAIRS);
  const diffs = useLiveStore((s) => s.current?.logitDiffs);
  const pair = useExplorerStore((s) => s.pair);
  const side = useExplorerStore((s) => s.side);
  return (
    <div className="pair-list" role="listbox" aria-label="Test pairs" data-testid="pair-list">
      {pairs.map((p, i) => (
        <div key={i} className="pair-row">
          <span className="muted">{i}</span>
          {(['a', 'b'] as const).map((s, j) => {
            const d = diffs?.[2 * i + j];
            const sel = pair === i && side === s;
            return (
              <button key={s} role="option" aria-selected={sel} className={`pair-prompt${sel ? ' selected' : ''}`} data-testid={`pair-${i}${s}`}
                title={p[s].text} onClick={() => selectPair(i, s)}>
                <span className="pair-text">{showToken(p[s].text.slice(-32))}</span>
                {d !== undefined && <span className={d > 0 ? 'ok' : 'bad'}>{d > 0 ? '✓' : '✗'}</span>}
              </button>
            );
          })}
        </div>
      ))}
    </div>
  );
}
