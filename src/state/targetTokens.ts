import { escapeText } from '../tasks/customTask';
import type { TaskFile } from '../tasks/taskSchema';
import type { TokenView } from '../worker/protocol';
import type { PairSide } from './explorerStore';

/**
 * Which two tokens the target panel compares. A task pair knows its correct and alternative token; any other prompt
 * has no right answer, so it compares two named tokens, the user's or else the task's two targets, with no verdict.
 */
export type TargetSource = 'pair' | 'chosen' | 'task';
export interface PromptTargets {
  ids: [number, number];
  source: TargetSource;
}

export interface TargetContext {
  task: TaskFile | null;
  pair: number | null;
  side: PairSide;
  /** The user's choice (explorer store `targets`). */
  chosen: [number, number] | null;
  /** The loaded model's vocab_size: a chosen id beyond it (a link made for another model) is not used. */
  vocabSize: number | null;
}

export function promptTargets(c: TargetContext): PromptTargets | null {
  const q = c.task && c.pair !== null ? c.task.test[c.pair]?.[c.side] : undefined;
  if (q) return { ids: [q.correct, q.alternative], source: 'pair' };
  if (c.chosen && validTargets(c.chosen, c.vocabSize)) return { ids: c.chosen, source: 'chosen' };
  // The task's first target token first, as in its target_tokens and the calibration's reference token.
  const first = c.task?.train[0]?.a;
  return first ? { ids: [first.correct, first.alternative], source: 'task' } : null;
}

export function validTargets(ids: readonly number[], vocabSize: number | null): boolean {
  return ids.every((id) => Number.isInteger(id) && id >= 0 && (vocabSize === null || id < vocabSize));
}

/** A token as the chooser shows and accepts it: escaped like a task's targets, so "\n" can be typed. */
export function tokenLabel(texts: readonly (string | null)[] | null, id: number): string {
  const t = texts?.[id];
  return t === null || t === undefined ? `#${id}` : escapeText(t);
}

/**
 * Tokens for the picker: the query (escaped form, as typed) matched against each token's escaped text, exact matches
 * first, then prefixes, then anywhere, then anywhere ignoring case; shorter texts and lower ids first within each.
 * "#123" finds a token by id.
 */
export function searchVocab(texts: readonly (string | null)[], query: string, limit = 12): TokenView[] {
  if (query === '') return [];
  const byId = /^#(\d{1,9})$/.exec(query);
  if (byId) {
    const id = Number(byId[1]);
    const t = texts[id];
    return t === null || t === undefined ? [] : [{ id, text: t }];
  }
  const lower = query.toLowerCase();
  const hits: { id: number; text: string; rank: number; len: number }[] = [];
  texts.forEach((t, id) => {
    if (t === null) return;
    const e = escapeText(t);
    const rank = e === query ? 0 : e.startsWith(query) ? 1 : e.includes(query) ? 2 : e.toLowerCase().includes(lower) ? 3 : -1;
    if (rank >= 0) hits.push({ id, text: t, rank, len: e.length });
  });
  hits.sort((a, b) => a.rank - b.rank || a.len - b.len || a.id - b.id);
  return hits.slice(0, limit).map(({ id, text }) => ({ id, text }));
}

/** Why a typed text cannot be a target: it must be exactly one token of the model's tokenizer. */
export function refusal(typed: string, pieces: readonly TokenView[]): string {
  if (typed === '') return 'type a token (\\n, \\t and \\\\ are escapes) or pick one from the list';
  const shown = pieces.map((p) => JSON.stringify(p.text)).join(' ');
  return `${JSON.stringify(typed)} is not one token of this model's tokenizer: it is ${pieces.length} tokens (${shown}); type a single token or pick one from the list`;
}
