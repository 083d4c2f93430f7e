import { describe, expect, it } from 'vitest';
import { packPrompts } from './promptTrie';

describe('packPrompts', () => {
  it('keeps one row per distinct prefix and maps every prompt position to it', () => {
    const prompts = [[5, 6, 7, 8], [5, 6, 9], [5, 6, 7, 8], [1], [5, 6]];
    const p = packPrompts(prompts);
    // distinct prefixes: 5, 56, 567, 5678, 569, 1
    expect(p.rows).toBe(6);
    expect([p.prompts, p.length]).toEqual([5, 4]);
    prompts.forEach((tokens, b) => {
      tokens.forEach((tok, t) => {
        const row = p.spread[b * 4 + t]!;
        expect([p.rowToken[row], p.rowPos[row]]).toEqual([tok, t]);
        // Same prefix, same row.
        prompts.forEach((other, b2) => {
          if (other.length > t && other.slice(0, t + 1).join() === tokens.slice(0, t + 1).join()) expect(p.spread[b2 * 4 + t]).toBe(row);
        });
      });
      expect(p.lastRow[b]).toBe(p.spread[b * 4 + tokens.length - 1]);
      for (let t = tokens.length; t < 4; t++) expect(p.spread[b * 4 + t]).toBe(p.lastRow[b]); // padding repeats the last row
    });
    for (let r = 0; r < p.rows; r++) expect(p.spread[p.slotOf[r]!]).toBe(r);
    expect(() => packPrompts([[1], []])).toThrow(/empty/);
  });
});
