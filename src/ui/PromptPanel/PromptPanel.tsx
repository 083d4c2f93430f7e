import { useEffect } from 'react';
import { predict, setPrompt } from '../../state/actions';
import { useAppStore } from '../../state/appStore';

/** The prompt editor and its tokenisation. Predictions re-run shortly after typing stops. */
export function PromptPanel() {
  const prompt = useAppStore((s) => s.prompt);
  const tokens = useAppStore((s) => s.prediction?.tokens);
  const model = useAppStore((s) => s.model);
  useEffect(() => {
    const t = setTimeout(() => void predict(), 150);
    return () => clearTimeout(t);
  }, [prompt, model]);
  return (
    <section className="panel" aria-label="Prompt">
      <h2>Prompt</h2>
      <textarea aria-label="Prompt text" spellCheck={false} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
      <div className="tokens" data-testid="tokens" aria-label="Tokens">
        {tokens?.map((t, i) => <span key={i} className="token" title={`token ${t.id}`}>{t.text}</span>)}
      </div>
    </section>
  );
}
