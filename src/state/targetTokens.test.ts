import { describe, expect, it } from 'vitest';
import type { TaskFile } from '../tasks/taskSchema';
import { promptTargets, refusal, searchVocab, tokenLabel } from './targetTokens';

const q = (text: string, correct: number, alternative: number) => ({ text, tokens: [1, 2], correct, alternative });
const task: TaskFile = {
  task: 'quotes', description: '', target_tokens: ['"', "'"],
  train: [{ a: q('x = "a', 5, 6), b: q("x = 'a", 6, 5) }],
  test: [{ a: q('y = "b', 5, 6), b: q("y = 'b", 6, 5) }],
};
const ctx = { task, pair: null, side: 'a' as const, chosen: null, vocabSize: 100 };

describe('which tokens the target panel compares', () => {
  it('a pair: its own correct and alternative token', () => {
    expect(promptTargets({ ...ctx, pair: 0, side: 'b', chosen: [1, 2] })).toEqual({ ids: [6, 5], source: 'pair' });
  });
  it('a free prompt: the user\'s two tokens, else the task\'s two targets (first target first), else none', () => {
    expect(promptTargets({ ...ctx, chosen: [1, 2] })).toEqual({ ids: [1, 2], source: 'chosen' });
    expect(promptTargets(ctx)).toEqual({ ids: [5, 6], source: 'task' });
    expect(promptTargets({ ...ctx, task: null })).toBeNull();
    expect(promptTargets({ ...ctx, task: null, chosen: [3, 4] })).toEqual({ ids: [3, 4], source: 'chosen' });
  });
  it('ignores chosen ids this model has no logits for (a link made for another model)', () => {
    expect(promptTargets({ ...ctx, chosen: [1, 100] })).toEqual({ ids: [5, 6], source: 'task' });
    expect(promptTargets({ ...ctx, chosen: [1, 99] })?.source).toBe('chosen');
  });
  it('pair out of range on a free prompt: falls back like a free prompt', () => {
    expect(promptTargets({ ...ctx, pair: 9 })?.source).toBe('task');
  });
});

describe('the token picker', () => {
  const texts = ['a', ' a', 'ab', 'ba', 'A', '\n', null, ']\n', 'abc'];
  it('ranks exact, prefix, anywhere, then case-insensitive matches', () => {
    expect(searchVocab(texts, 'a').map((t) => t.id)).toEqual([0, 2, 8, 1, 3, 4]);
    expect(searchVocab(texts, 'a', 2).map((t) => t.id)).toEqual([0, 2]);
    expect(searchVocab(texts, '')).toEqual([]);
  });
  it('matches the escaped form, so a line break is found as \\n, and finds ids with #', () => {
    expect(searchVocab(texts, '\\n').map((t) => t.id)).toEqual([5, 7]);
    expect(searchVocab(texts, '#7')).toEqual([{ id: 7, text: ']\n' }]);
    expect(searchVocab(texts, '#6')).toEqual([]);
    expect(tokenLabel(texts, 7)).toBe(']\\n');
    expect(tokenLabel(texts, 6)).toBe('#6');
    expect(tokenLabel(null, 3)).toBe('#3');
  });
  it('says why typed text is refused, naming its tokens', () => {
    expect(refusal('hello world', [{ id: 1, text: 'hello' }, { id: 2, text: ' world' }]))
      .toBe('"hello world" is not one token of this model\'s tokenizer: it is 2 tokens ("hello" " world"); type a single token or pick one from the list');
    expect(refusal('', [])).toMatch(/^type a token/);
  });
});
