// Numeric comparison for tests of the TF.js runtime against the float64 reference.
import { expect } from 'vitest';

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

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
