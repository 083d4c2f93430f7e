import { selectPair } from '../../state/explorerActions';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { useRoving } from '../shared/roving';
import { showToken } from '../shared/tokenText';
import { promptEnd } from './pairText';

const NO_PAIRS: never[] = [];

/**
 * The test pairs: pick the a or b prompt of any pair. One Tab stop (arrow keys move inside, Enter or Space picks), so
 * a 100-pair task does not stand between the keyboard and the graph. Each prompt shows its end with the characters
 * that differ from its pair's other prompt marked; the current verdict per prompt is shown when known.
 */
export function PairList() {
  const pairs = useLiveStore((s) => s.taskFile?.test ?? NO_PAIRS);
  const diffs = useLiveStore((s) => s.current?.logitDiffs);
  const pair = useExplorerStore((s) => s.pair);
  const side = useExplorerStore((s) => s.side);
  const selected = pair !== null && pair !== undefined ? 2 * pair + (side === 'b' ? 1 : 0) : -1;
  const roving = useRoving<HTMLDivElement>(pairs.length * 2, selected, 2);
  return (
    <div className="pair-block">
      <div className="pair-list" role="listbox" aria-label="Test pairs (arrow keys move, Enter picks)" data-testid="pair-list"
        ref={roving.ref} onKeyDown={roving.onKeyDown} onFocus={roving.onFocus}>
        <div className="pair-head muted" aria-hidden="true"><span>#</span><span>a</span><span>b</span></div>
        {pairs.map((p, i) => (
          <div key={i} className="pair-row" role="presentation">
            <span className="muted">{i}</span>
            {(['a', 'b'] as const).map((s, j) => {
              const d = diffs?.[2 * i + j];
              const sel = pair === i && side === s;
              const other = p[s === 'a' ? 'b' : 'a'].text;
              return (
                <button key={s} role="option" aria-selected={sel} className={`pair-prompt${sel ? ' selected' : ''}`} data-testid={`pair-${i}${s}`}
                  data-roving="" tabIndex={roving.tabIndex(2 * i + j)} aria-label={`pair ${i} ${s}: ${p[s].text}`} title={p[s].text} onClick={() => selectPair(i, s)}>
                  <span className="pair-text"><bdi>
                    {promptEnd(p[s].text, other).map((g, k) => (g.diff ? <mark key={k} className="pair-diff">{showToken(g.text)}</mark> : showToken(g.text)))}
                  </bdi></span>
                  {d !== undefined && <span className={d > 0 ? 'ok' : 'bad'}>{d > 0 ? '✓' : '✗'}</span>}
                </button>
              );
            })}
          </div>
        ))}
      </div>
    </div>
  );
}
