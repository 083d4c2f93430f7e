import { create } from 'zustand';
import { unescapeText } from '../tasks/customTask';
import type { ModelSummary } from '../worker/protocol';
import { engineClient } from './actions';
import { useAppStore } from './appStore';
import { useExplorerStore } from './explorerStore';
import { useLiveStore } from './liveStore';
import { promptTargets, refusal, type PromptTargets } from './targetTokens';

/** The loaded model's token texts by id (for naming and picking targets), fetched once per loaded model. */
interface VocabState {
  model: ModelSummary | null;
  texts: (string | null)[] | null;
  error: string | null;
}
export const useVocabStore = create<VocabState>(() => ({ model: null, texts: null, error: null }));

/** Asks the engine for the vocabulary unless the loaded model's is held or on its way. */
export function ensureVocab(): void {
  const model = useAppStore.getState().model;
  const engine = engineClient();
  if (!model || !engine || useVocabStore.getState().model === model) return;
  useVocabStore.setState({ model, texts: null, error: null });
  engine.request('vocab', {}).result.then(
    (texts) => { if (useVocabStore.getState().model === model) useVocabStore.setState({ texts }); },
    (e: Error) => { if (useVocabStore.getState().model === model) useVocabStore.setState({ error: e.message }); },
  );
}

/** The two tokens compared on the prompt on screen (see promptTargets). */
export function currentPromptTargets(): PromptTargets | null {
  const ex = useExplorerStore.getState();
  return promptTargets({
    task: useLiveStore.getState().taskFile, pair: ex.pair, side: ex.side, chosen: ex.targets,
    vocabSize: useAppStore.getState().model?.vocabSize ?? null,
  });
}

/** Compare these two tokens on free prompts (kept in the link and the session file). */
export function chooseTargets(ids: [number, number]): void {
  useExplorerStore.setState({ targets: ids });
}

/** Back to the task's two target tokens. */
export function clearChosenTargets(): void {
  useExplorerStore.setState({ targets: null });
}

/** A typed token (escaped form) as an id of the loaded model's tokenizer, or why it is refused. */
export async function lookupTarget(typed: string): Promise<{ id: number } | { error: string }> {
  const engine = engineClient();
  if (!engine || !useAppStore.getState().model) return { error: 'no model is loaded yet' };
  const text = unescapeText(typed);
  if (text === '') return { error: refusal('', []) };
  try {
    const r = await engine.request('lookupToken', { text }).result;
    return r.ok ? { id: r.token.id } : { error: refusal(text, r.pieces) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
