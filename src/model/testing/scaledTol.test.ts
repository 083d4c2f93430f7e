import { describe, expect, it } from 'vitest';
import { expectGoldenMatch } from './compare';
import { GOLDEN_REL_TOL, scaledTol } from './goldenFile';

describe('golden tolerance scaled by the tensor it compares', () => {
  it('is the absolute tolerance plus GOLDEN_REL_TOL of the largest |value|', () => {
    expect(scaledTol(1e-4, Float32Array.of(0.2, -0.3))).toBeCloseTo(1e-4 + 0.3 * GOLDEN_REL_TOL, 12);
    expect(scaledTol(1e-4, Float32Array.of(12, -150.5, 3))).toBeCloseTo(1e-4 + 150.5 * GOLDEN_REL_TOL, 12);
    expect(scaledTol(1e-4, undefined)).toBe(1e-4);
  });

  it('expectGoldenMatch holds each entry to its own tolerance, never below the absolute one', () => {
    expect(() => expectGoldenMatch([{ label: 'resid at 150', diff: 1.7e-4, tol: 2.5e-4 }], 1e-4)).not.toThrow();
    expect(() => expectGoldenMatch([{ label: 'resid at 150', diff: 3e-4, tol: 2.5e-4 }], 1e-4)).toThrow(/golden differences above/);
    expect(() => expectGoldenMatch([{ label: 'logits', diff: 1.5e-4 }], 1e-4)).toThrow(/golden differences above/);
    expect(() => expectGoldenMatch([{ label: 'missing', diff: Number.NaN, tol: 1 }], 1e-4)).toThrow(/golden differences above/);
  });
});
