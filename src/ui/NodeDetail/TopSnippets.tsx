import { useEffect, useState, type ReactNode } from 'react';
import type { FolderSource } from '../../model/checkpoint/sources';
import { useAppStore } from '../../state/appStore';
import { loadSnippets, snippetTokenText, type LoadedSnippets, type Snippet } from '../../state/snippets';
import { heatColor } from '../shared/heatColor';

/** A token with its whitespace visible: space ·, tab →, line break ↵. */
function visible(text: string): string {
  return text.replace(/\r?\n/g, '↵').replace(/\r/g, '↵').replace(/\t/g, '→').replace(/ /g, '·');
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(3));

type Load = { base: FolderSource; data: LoadedSnippets | null; error?: string };

/**
 * Where the node is largest (and most negative) on held-out code: the windows stored in the model folder's
 * snippets.safetensors (train/snippets.py), each token coloured by the node's value with the focus token boxed.
 */
export function TopSnippets({ node }: { node: string }) {
  const model = useAppStore((s) => s.model);
  const base = useAppStore((s) => s.modelFolder);
  const [load, setLoad] = useState<Load | null>(null);
  useEffect(() => {
    if (!base || !model) return;
    let live = true;
    loadSnippets(base, model).then(
      (data) => live && setLoad({ base, data }),
      (e: Error) => live && setLoad({ base, data: null, error: e.message }),
    );
    return () => { live = false; };
  }, [base, model]);

  const wrap = (state: string, body: ReactNode) => (
    <div data-testid="top-snippets" data-state={state} className="top-snippets">
      <h3 className="small">held-out snippets</h3>
      {body}
    </div>
  );
  if (!base) return wrap('none', <p className="muted small">no model folder</p>);
  const cur = load?.base === base ? load : null;
  if (!cur) return wrap('loading', <p className="muted small">loading snippets…</p>);
  if (cur.error) return wrap('error', <p className="error small">snippets: {cur.error}</p>);
  if (!cur.data) return wrap('none', <p className="muted small">no snippet file for this model</p>);

  const { file, tokenizer } = cur.data;
  const i = node.lastIndexOf(':');
  const lists = file.forNode(node.slice(0, i), Number(node.slice(i + 1)));
  if (!lists) return wrap('none', <p className="muted small">the snippet file has nothing for this node</p>);
  const all = [...lists.top, ...(lists.bottom ?? [])];
  const color = heatColor(all.reduce((m, s) => s.acts.reduce((mm, v) => Math.max(mm, Math.abs(v)), Math.max(m, Math.abs(s.value))), 0));
  const text = snippetTokenText(tokenizer);
  const { info } = file;

  const row = (s: Snippet, rank: number) => {
    const strs = s.tokens.map(text);
    return (
      <li key={s.pos} data-value={s.value} data-pos={s.pos}
        aria-label={`${rank + 1}: ${fmt(s.value)} on ${JSON.stringify(strs[s.focus])} in ${JSON.stringify(strs.join(''))}`}>
        <span className="snippet-value">{fmt(s.value)}</span>
        <span className="snippet-tokens" aria-hidden="true">
          {strs.map((t, j) => {
            const v = j === s.focus ? s.value : s.acts[j]!;
            return (
              <span key={j} className={`token${j === s.focus ? ' focus' : ''}`} style={color(v)}
                title={`${JSON.stringify(t)}: ${v.toFixed(4)}${j === s.focus ? '' : ' (≈)'}`}>{visible(t)}</span>
            );
          })}
        </span>
      </li>
    );
  };
  const list = (items: Snippet[], label: string, empty: string) => items.length
    ? <ol className="snippets" aria-label={`${label} of ${node}`}>{items.map(row)}</ol>
    : <p className="muted small">{empty}</p>;
  const scanned = `${info.scored_tokens.toLocaleString('en-US')} ${info.split === 'heldout' ? 'held-out' : info.split} tokens`;
  return wrap('ready', <>
    <p className="muted small">
      largest values on {scanned} (top {info.top_n}, at least {info.min_distance} tokens apart), with {info.before} tokens
      before and {info.after} after the boxed one; one colour scale for this node
    </p>
    {list(lists.top, 'Top-activating held-out snippets', `never positive on the ${scanned}`)}
    {lists.bottom && (
      <details>
        <summary className="small">most negative ({lists.bottom.length})</summary>
        {list(lists.bottom, 'Most negative held-out snippets', `never negative on the ${scanned}`)}
      </details>
    )}
  </>);
}
