import { useAppStore } from '../../state/appStore';
import { useLiveStore } from '../../state/liveStore';

/** Top next-token predictions after the last prompt token. */
export function Predictions() {
  const plain = useAppStore((s) => s.prediction);
  const predicting = useAppStore((s) => s.predicting);
  // Under the explorer's current interventions once its live run has answered; the plain model's until then.
  const live = useLiveStore((s) => s.detailed);
  const liveTop = live?.variants.find((v) => v.label === 'current')?.top;
  const prediction = liveTop && plain ? { ...plain, top: liveTop } : plain;
  return (
    <section className="panel" aria-label="Predictions" aria-busy={predicting}>
      <h2>Next token{liveTop ? ' (current)' : ''}</h2>
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
