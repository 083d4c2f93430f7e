import { describe, expect, it } from 'vitest';
import { cellAt, cellReadout, gridLayout, gridStep, labelIndices, LABEL_PITCH, MAX_CELL, MIN_CELL, weightAt } from './attentionGrid';

describe('gridLayout and labelIndices', () => {
  it('names every token of a short prompt at full cell size', () => {
    expect(gridLayout(12)).toEqual({ cell: MAX_CELL, stride: 1 });
    expect(labelIndices(12, 1)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('shrinks the cells of a long prompt and names only as many tokens as fit', () => {
    const { cell, stride } = gridLayout(50); // 280 / 50 -> 5px cells
    expect(cell).toBe(5);
    expect(stride).toBe(3);
    expect(cell * stride).toBeGreaterThanOrEqual(LABEL_PITCH);
    expect(cell * (stride - 1)).toBeLessThan(LABEL_PITCH); // no sparser than needed
    expect(labelIndices(10, 4)).toEqual([0, 4, 8]);
  });

  it('stops shrinking at the minimum cell (the grid scrolls)', () => {
    expect(gridLayout(1024)).toEqual({ cell: MIN_CELL, stride: 6 });
    expect(gridLayout(0).cell).toBe(MAX_CELL);
  });
});

describe('cellAt', () => {
  it('finds the cell under a point on or below the diagonal', () => {
    expect(cellAt(0, 0, 14, 5)).toEqual({ q: 0, k: 0 });
    expect(cellAt(14 * 2 + 13.9, 14 * 4 + 0.5, 14, 5)).toEqual({ q: 4, k: 2 });
  });

  it('has no cell above the diagonal (masked) or off the grid', () => {
    expect(cellAt(14 * 3, 14 * 2, 14, 5)).toBeNull();
    expect(cellAt(1, 14 * 5, 14, 5)).toBeNull();
    expect(cellAt(-1, 3, 14, 5)).toBeNull();
    expect(cellAt(Number.NaN, 3, 14, 5)).toBeNull();
  });
});

describe('gridStep', () => {
  const T = 20;
  it('moves along a row within the causal triangle', () => {
    expect(gridStep({ q: 5, k: 2 }, 'ArrowLeft', T)).toEqual({ q: 5, k: 1 });
    expect(gridStep({ q: 5, k: 0 }, 'ArrowLeft', T)).toEqual({ q: 5, k: 0 });
    expect(gridStep({ q: 5, k: 5 }, 'ArrowRight', T)).toEqual({ q: 5, k: 5 }); // never above the diagonal
    expect(gridStep({ q: 5, k: 2 }, 'Home', T)).toEqual({ q: 5, k: 0 });
    expect(gridStep({ q: 5, k: 2 }, 'End', T)).toEqual({ q: 5, k: 5 });
  });

  it('moves between queries, pulling the key onto a shorter row', () => {
    expect(gridStep({ q: 5, k: 5 }, 'ArrowUp', T)).toEqual({ q: 4, k: 4 });
    expect(gridStep({ q: 5, k: 2 }, 'ArrowDown', T)).toEqual({ q: 6, k: 2 });
    expect(gridStep({ q: 19, k: 2 }, 'ArrowDown', T)).toEqual({ q: 19, k: 2 });
    expect(gridStep({ q: 0, k: 0 }, 'ArrowUp', T)).toEqual({ q: 0, k: 0 });
    expect(gridStep({ q: 15, k: 12 }, 'PageUp', T)).toEqual({ q: 5, k: 5 });
    expect(gridStep({ q: 15, k: 12 }, 'PageDown', T)).toEqual({ q: 19, k: 12 });
  });

  it('ignores other keys and an empty grid', () => {
    expect(gridStep({ q: 1, k: 0 }, 'Enter', T)).toBeNull();
    expect(gridStep({ q: 0, k: 0 }, 'ArrowDown', 0)).toBeNull();
  });
});

describe('weightAt and cellReadout', () => {
  it('reads head h, query q, key k of an [H, T, T] array', () => {
    const H = 2;
    const T = 3;
    const att = Float32Array.from({ length: H * T * T }, (_, i) => i);
    expect(weightAt(att, 1, T, { q: 2, k: 1 })).toBe((1 * T + 2) * T + 1);
    expect(weightAt(att, 0, T, { q: 1, k: 0 })).toBe(3);
  });

  it('names both tokens as shown on the page and the weight to three decimals', () => {
    expect(cellReadout(['a', '\n', ' b'], { q: 2, k: 1 }, 0.12345)).toBe("query token 2 ' b' → key token 1 '↵': weight 0.123");
  });
});
