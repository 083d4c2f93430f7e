import { useLiveStore } from '../../state/liveStore';
import { fmt, variantOf } from '../shared/liveSelectors';

const ROWS = [['full', 'full model'], ['circuit', 'circuit'], ['current', 'current']] as const;

/** The two target tokens' logits on the prompt on screen, side by side for full model / circuit / current. */
export function TargetLogits() {
  const detailed = useLiveStore((s) => s.detailed);
  const task = useLiveStore((s) => s.taskFile);
  const error = useLiveStore((s) => s.detailedError);
  const forState = useLiveStore((s) => s.detailedFor);
  const busy = useLiveStore((s) => s.busy);
  const rows = ROWS.map(([label, name]) => ({ label, name, t: variantOf(detailed, label)?.targets ?? null })).filter((r) => r.t);
  const max = Math.max(1e-6, ...rows.flatMap((r) => [Math.abs(r.t!.correct), Math.abs(r.t!.alternative)]));
  const bar = (v: number, cls: string) => (
    <div className="logit-track"><div className={`logit-bar ${cls}`} style={{ width: `${(50 * Math.abs(v)) / max}%`, [v >= 0 ? 'left' : 'right']: '50%' }} /></div>
  );
  return (
    <section className="panel" aria-label="Target logits" data-testid="target-logits" data-for={forState ?? undefined} aria-busy={busy}>
      <h2>Target tokens</h2>
      {error && <p className="error small" role="alert">{error}</p>}
      {!rows.length && <p className="muted small">pick a task to compare its two target tokens</p>}
      {rows.length > 0 && task && <p className="muted small">correct vs alternative at the last token; diff = correct − alternative</p>}
      {rows.map((r) => (
        <div key={r.label} className="logit-row" data-variant={r.label} data-correct={r.t!.correct} data-alternative={r.t!.alternative} data-diff={r.t!.correct - r.t!.alternative}>
          <span>{r.name}</span>
          <div>{bar(r.t!.correct, 'correct')}{bar(r.t!.alternative, 'alt')}</div>
          <span className={r.t!.correct > r.t!.alternative ? 'ok' : 'bad'}>{fmt(r.t!.correct - r.t!.alternative, 2)}</span>
        </div>
      ))}
    </section>
  );
}
