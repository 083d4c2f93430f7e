// Numeric comparison for tests of the TF.js runtime against the float64 reference.
import { expect } from 'vitest';
import { maxAbsDiff } from './goldenDiffs';

export { maxAbsDiff };

/** Asserts max |a - b| <= tol, naming what was compared. */
export function expectClose(what: string, a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined, tol = 1e-4): void {
  expect(a, `${what}: missing actual`).toBeDefined();
  expect(b, `${what}: missing expected`).toBeDefined();
  expect(maxAbsDiff(a!, b!), `${what}: max abs diff`).toBeLessThanOrEqual(tol);
}

/** Deterministic pseudo-random tokens in [0, vocab). */
export function testTokens(n: number, vocab: number, seed = 7): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % vocab;
  });
}
