// Numeric comparison for tests of the TF.js runtime against the float64 reference.
import { expect } from 'vitest';
import { maxAbsDiff, testTokens } from './goldenDiffs';

export { maxAbsDiff, testTokens };

/** Asserts max |a - b| <= tol, naming what was compared. */
export function expectClose(what: string, a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined, tol = 1e-4): void {
  expect(a, `${what}: missing actual`).toBeDefined();
  expect(b, `${what}: missing expected`).toBeDefined();
  expect(maxAbsDiff(a!, b!), `${what}: max abs diff`).toBeLessThanOrEqual(tol);
}
