import { describe, expect, it } from 'vitest';
import { mulberry32, seededHoldout, SeededRng, shuffleInPlace } from './seeded';

// Pinned values: shipped task files and circuits depend on this exact sequence and shuffle order.
describe('seeded random source and split', () => {
  it('mulberry32 gives the pinned sequence', () => {
    const u = mulberry32(1);
    expect([u(), u(), u()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });

  it('SeededRng shuffles and draws normals as pinned', () => {
    expect(new SeededRng(1234).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).toEqual([1, 3, 2, 4, 5, 9, 8, 7, 6, 0]);
    expect(new SeededRng(7).normal()).toBe(2.759372987028844);
    expect(shuffleInPlace([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], mulberry32(1234))).toEqual([1, 3, 2, 4, 5, 9, 8, 7, 6, 0]);
  });

  it('seededHoldout holds out the first shuffled indices and keeps input order', () => {
    expect(seededHoldout(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], 2, 1234)).toEqual({ kept: ['a', 'd', 'e', 'f', 'g', 'h'], held: ['b', 'c'] });
    expect(seededHoldout([], 0, 1)).toEqual({ kept: [], held: [] });
  });
});
