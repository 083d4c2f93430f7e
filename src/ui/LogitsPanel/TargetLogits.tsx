import { useEffect } from 'react';
import { useAppStore } from '../../state/appStore';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { ensureVocab, useVocabStore } from '../../state/targetActions';
import { promptTargets, tokenLabel } from '../../state/targetTokens';
import { fmt, variantOf } from '../shared/liveSelectors';
import { TokenChooser } from './TokenChooser';
import './targets.css';

const ROWS = [['full', 'full model'], ['circuit', 'circuit'], ['current', 'current']] as const;

/**
 * The two target tokens' logits on the prompt on screen, side by side for full model / circuit / current. A task pair
 * has a right answer (correct vs alternative, coloured by whether the model gets it); any other prompt has none, so the
 * panel names the two tokens it compares, colours nothing as right or wrong, and lets the user choose them.
 */
export function TargetLogits() {
  const detailed = useLiveStore((s) => s.detailed);
  const task = useLiveStore((s) => s.taskFile);
  const error = useLiveStore((s) => s.detailedError);
  const forState = useLiveStore((s) => s.detailedFor);
  const busy = useLiveStore((s) => s.busy);
  const model = useAppStore((s) => s.model);
  const pair = useExplorerStore((s) => s.pair);
  const side = useExplorerStore((s) => s.side);
  const chosen = useExplorerStore((s) => s.targets);
  const texts = useVocabStore((s) => s.texts);
  useEffect(() => ensureVocab(), [model]);
  const vocabSize = model?.vocabSize ?? null;
  const targets = promptTargets({ task, pair, side, chosen, vocabSize });
  const verdict = targets?.source === 'pair';
  const [nameA, nameB] = targets ? targets.ids.map((id) => tokenLabel(texts, id)) : ['', ''];
  const rows = ROWS.map(([label, name]) => ({ label, name, t: variantOf(detailed, label)?.targets ?? null })).filter((r) => r.t);
  const max = Math.max(1e-6, ...rows.flatMap((r) => [Math.abs(r.t!.correct), Math.abs(r.t!.alternative)]));
  const bar = (v: number, cls: string) => (
    <div className="logit-track"><div className={`logit-bar ${cls}`} style={{ width: `${(50 * Math.abs(v)) / max}%`, [v >= 0 ? 'left' : 'right']: '50%' }} /></div>
  );
  const code = (name: string, id: number) => <code title={`token ${id}`}>{name}</code>;
  return (
    <section className="panel" aria-label="Target logits" data-testid="target-logits" data-for={forState ?? undefined} aria-busy={busy}
      data-source={targets?.source} data-targets={targets?.ids.join(',')}>
      <h2>Target tokens</h2>
      {error && <p className="error small" role="alert">{error}</p>}
      {targets && (
        <p className="muted small target-names" data-testid="target-names">
          {verdict
            ? <>correct {code(nameA!, targets.ids[0])} vs alternative {code(nameB!, targets.ids[1])} at the last token; diff = correct − alternative</>
            : <>
                no right answer on this prompt: <span className="swatch tok-a" aria-hidden /> A {code(nameA!, targets.ids[0])} vs{' '}
                <span className="swatch tok-b" aria-hidden /> B {code(nameB!, targets.ids[1])}
                {targets.source === 'task' ? ' (the task\u2019s targets)' : ' (your choice)'} at the last token; diff = A − B
              </>}
        </p>
      )}
      {!targets && <p className="muted small">choose two tokens to compare their logits</p>}
      {rows.map((r) => {
        const t = r.t!;
        const stale = !targets || t.ids[0] !== targets.ids[0] || t.ids[1] !== targets.ids[1];
        const diff = t.correct - t.alternative;
        return (
          <div key={r.label} className={`logit-row${stale ? ' stale' : ''}`} data-variant={r.label} data-ids={t.ids.join(',')}
            data-correct={t.correct} data-alternative={t.alternative} data-diff={diff} data-verdict={verdict && !stale ? (diff > 0 ? 'ok' : 'bad') : undefined}>
            <span>{r.name}</span>
            <div>{bar(t.correct, verdict ? 'correct' : 'tok-a')}{bar(t.alternative, verdict ? 'alt' : 'tok-b')}</div>
            <span className={verdict ? (diff > 0 ? 'ok' : 'bad') : undefined}>{fmt(diff, 2)}</span>
          </div>
        );
      })}
      {!verdict && model && (
        <TokenChooser key={`${targets?.ids.join(',')}|${texts ? 'named' : 'ids'}`} current={targets?.ids ?? null} texts={texts}
          vocabSize={vocabSize} chosen={targets?.source === 'chosen'} />
      )}
    </section>
  );
}
