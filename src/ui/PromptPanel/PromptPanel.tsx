import { useEffect } from 'react';
import { predict } from '../../state/actions';
import { useAppStore } from '../../state/appStore';
import { editPrompt, selectPos } from '../../state/explorerActions';
import { useLiveStore } from '../../state/liveStore';
import { useEffectivePos } from '../shared/liveSelectors';
import { useRoving } from '../shared/roving';
import { showToken } from '../shared/tokenText';

/** The prompt editor and its tokenisation; clicking a token selects that position for the graph and node views. */
export function PromptPanel() {
  const prompt = useAppStore((s) => s.prompt);
  const predicted = useAppStore((s) => s.prediction?.tokens);
  const detailedTokens = useLiveStore((s) => s.detailed?.tokens);
  const model = useAppStore((s) => s.model);
  const problem = useAppStore((s) => s.promptProblem);
  const pos = useEffectivePos();
  useEffect(() => {
    const t = setTimeout(() => void predict(), 150);
    return () => clearTimeout(t);
  }, [prompt, model]);
  const tokens = detailedTokens ?? predicted;
  // One Tab stop for all tokens (arrow keys inside, Enter picks): see shared/roving.ts.
  const roving = useRoving<HTMLDivElement>(tokens?.length ?? 0, pos ?? -1);
  return (
    <section className="panel" aria-label="Prompt">
      <h2>Prompt</h2>
      <textarea aria-label="Prompt text" spellCheck={false} value={prompt} onChange={(e) => editPrompt(e.target.value)} />
      {problem && <p className="error" role="alert" data-testid="prompt-problem">Not run: {problem}. Shorten the prompt; the text above is kept as typed.</p>}
      <div className="tokens" data-testid="tokens" role="group" aria-label="Tokens (click, or arrow keys and Enter, to select a position)"
        ref={roving.ref} onKeyDown={roving.onKeyDown} onFocus={roving.onFocus}>
        {tokens?.map((t, i) => (
          <button key={i} className={`token${i === pos ? ' selected' : ''}`} title={`token ${t.id} at position ${i}`} aria-pressed={i === pos}
            data-roving="" tabIndex={roving.tabIndex(i)} onClick={() => selectPos(i)}>{showToken(t.text)}</button>
        ))}
      </div>
    </section>
  );
}
