import { useEffect, useState } from 'react';
import { engineClient } from '../../state/actions';
import { useAppStore } from '../../state/appStore';
import type { EmbedToken } from '../../worker/protocol';
import { showToken } from '../shared/tokenText';

/** For a residual channel: the tokens whose embedding writes most (and most negatively) into it. */
export function EmbeddingView({ channel }: { channel: number }) {
  const model = useAppStore((s) => s.model);
  const [data, setData] = useState<{ top: EmbedToken[]; bottom: EmbedToken[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const engine = engineClient();
    if (!engine || !model) return;
    let live = true;
    engine.request('embedTop', { channel, k: 8 }).result.then((d) => live && setData(d), (e: Error) => live && setError(e.message));
    return () => { live = false; };
  }, [channel, model]);
  if (error) return <p className="error small">{error}</p>;
  if (!data) return null;
  const list = (items: EmbedToken[]) => items.map((t) => <span key={t.id} className="token" title={`id ${t.id}: ${t.value.toFixed(3)}`}>{showToken(t.text)}</span>);
  return (
    <div data-testid="embedding-view">
      <h3 className="small">token embeddings in residual channel {channel} (wte)</h3>
      <div className="tokens small"><span className="muted">+</span>{list(data.top)}</div>
      <div className="tokens small"><span className="muted">−</span>{list(data.bottom)}</div>
    </div>
  );
}
