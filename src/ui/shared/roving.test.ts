import { describe, expect, it } from 'vitest';
import { rovingStep } from './roving';

describe('rovingStep', () => {
  it('moves along a flat list and stops at the ends', () => {
    expect(rovingStep(0, 'ArrowRight', 3)).toBe(1);
    expect(rovingStep(2, 'ArrowRight', 3)).toBe(2);
    expect(rovingStep(0, 'ArrowLeft', 3)).toBe(0);
    expect(rovingStep(1, 'ArrowDown', 3)).toBe(2);
    expect(rovingStep(1, 'Home', 3)).toBe(0);
    expect(rovingStep(0, 'End', 3)).toBe(2);
  });

  it('moves by rows in a two-column grid and keeps the column at the edges', () => {
    expect(rovingStep(1, 'ArrowDown', 10, 2)).toBe(3);
    expect(rovingStep(3, 'ArrowUp', 10, 2)).toBe(1);
    expect(rovingStep(1, 'ArrowUp', 10, 2)).toBe(1);
    expect(rovingStep(9, 'ArrowDown', 10, 2)).toBe(9);
    expect(rovingStep(0, 'PageDown', 100, 2)).toBe(20);
    expect(rovingStep(5, 'PageUp', 100, 2)).toBe(1);
    expect(rovingStep(3, 'PageDown', 11, 2)).toBe(9);
    expect(rovingStep(2, 'PageDown', 11, 2)).toBe(10);
  });

  it('ignores other keys and empty lists', () => {
    expect(rovingStep(0, 'Enter', 3)).toBeNull();
    expect(rovingStep(0, 'a', 3)).toBeNull();
    expect(rovingStep(0, 'ArrowDown', 0)).toBeNull();
  });
});
