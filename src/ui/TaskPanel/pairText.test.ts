import { describe, expect, it } from 'vitest';
import { diffMask, promptEnd, type Segment } from './pairText';

const flat = (s: Segment[]) => s.map((x) => (x.diff ? `[${x.text}]` : x.text)).join('');

describe('pair list text', () => {
  it('marks differing characters position by position when the prompts have the same length', () => {
    expect(diffMask('x = "hi', "x = 'hi")).toEqual([false, false, false, false, true, false, false]);
  });

  it('marks the span between common prefix and suffix when the lengths differ', () => {
    expect(diffMask('f(a, b)', 'f(a)')).toEqual([false, false, false, true, true, true, false]);
    expect(diffMask('ab', 'abc')).toEqual([false, false]);
  });

  it('shows a short prompt whole, with the difference marked', () => {
    expect(flat(promptEnd('x = "hello', "x = 'hello"))).toBe('x = ["]hello');
  });

  it('shows the end of a long prompt when it differs there', () => {
    const a = `${'y'.repeat(40)}print("a b`;
    const b = `${'y'.repeat(40)}print('a b`;
    expect(flat(promptEnd(a, b, 16))).toBe('…yyyyyyprint(["]a b');
  });

  it('shows a window around an earlier difference, then the end', () => {
    const a = `def f(x):${' '.repeat(4)}return [${'z'.repeat(40)}`;
    const b = `def f(x):${' '.repeat(4)}return (${'z'.repeat(40)}`;
    const shown = flat(promptEnd(a, b, 24));
    expect(shown).toBe(`…eturn [[]zzz…${'z'.repeat(12)}`);
    expect(shown.length).toBeLessThanOrEqual(32);
  });

  it('shows the end of identical prompts without marks', () => {
    expect(flat(promptEnd('abcdef', 'abcdef', 4))).toBe('…cdef');
  });
});
