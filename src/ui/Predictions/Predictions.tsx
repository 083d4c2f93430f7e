import { useAppStore } from '../../state/appStore';

/** Top next-token predictions after the last prompt token. */
export function Predictions() {
  const prediction = useAppStore((s) => s.prediction);
  const predicting = useAppStore((s) => s.predicting);
  return (
    <section className="panel" aria-label="Predictions" aria-busy={predicting}>
      <h2>Next token</h2>
      {!prediction && <p className="muted">{predicting ? 'running…' : 'load a model and type a prompt'}</p>}
      <div data-testid="predictions" style={{ display: 'grid', gap: 4 }}>
        {prediction?.top.map((p) => (
          <div className="pred-row" key={p.id} data-testid="prediction">
            <span title={`token ${p.id}, logit ${p.logit.toFixed(3)}`}>{JSON.stringify(p.text)}</span>
            <div><div className="pred-bar" style={{ width: `${Math.max(1, p.prob * 100)}%` }} /></div>
            <span>{(p.prob * 100).toFixed(1)}%</span>
          </div>
        ))}
      </div>
      {prediction && <p className="muted" data-testid="predict-ms">forward + readback {prediction.millis.toFixed(0)} ms</p>}
    </section>
  );
}
