import { describe, expect, it } from 'vitest';
import { commit, initHistory, redo, reset, undo } from './history';

describe('history', () => {
  it('undo and redo move between committed values without copying them', () => {
    const a = ['a'];
    const b = ['b'];
    let h = commit(commit(initHistory<string[]>([]), a), b);
    expect(h.present).toBe(b);
    h = undo(h);
    expect(h.present).toBe(a);
    h = redo(h);
    expect(h.present).toBe(b);
    expect(redo(h)).toBe(h);
    expect(undo(undo(undo(undo(h)))).present).toEqual([]);
  });
  it('a new commit drops the redo branch; committing the same value records nothing', () => {
    let h = commit(commit(initHistory(0), 1), 2);
    h = commit(undo(h), 3);
    expect(h.future).toEqual([]);
    expect(h.past).toEqual([0, 1]);
    expect(commit(h, 3)).toBe(h);
  });
  it('reset is one undoable step', () => {
    const h = reset(commit(initHistory(0), 5), 0);
    expect(h.present).toBe(0);
    expect(undo(h).present).toBe(5);
  });
});
