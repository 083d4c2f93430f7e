// Numeric comparison for tests of the TF.js runtime against the float64 reference and PyTorch's golden files.
import { expect } from 'vitest';
import { maxAbsDiff, testTokens } from './goldenDiffs';
import { GOLDEN_REL_TOL, type GoldenDiff } from './goldenFile';

export { maxAbsDiff, testTokens };

/** Asserts max |a - b| <= tol, naming what was compared. */
export function expectClose(what: string, a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined, tol = 1e-4): void {
  expect(a, `${what}: missing actual`).toBeDefined();
  expect(b, `${what}: missing expected`).toBeDefined();
  expect(maxAbsDiff(a!, b!), `${what}: max abs diff`).toBeLessThanOrEqual(tol);
}

/**
 * Asserts every golden comparison is within tol, or within the tolerance goldenFileDiffs held that tensor to
 * (scaledTol: tol plus a float32 share of the tensor's largest value) where that is larger. Near-ties
 * (goldenFileDiffs) are explained, not failures, but they are printed so that a run that passed thanks to one says
 * so. Returns the near-tie messages.
 */
export function expectGoldenMatch(diffs: readonly GoldenDiff[], tol = 1e-4): string[] {
  const ties = diffs.flatMap((d) => (d.nearTie ? [d.nearTie] : []));
  if (ties.length) console.warn(`golden comparison: differences explained by AbsTopK near-ties:\n  ${ties.join('\n  ')}`);
  const failures = diffs.filter((d) => !(d.diff <= Math.max(tol, d.tol ?? tol))).map((d) => `${d.label}: ${d.diff} (tolerance ${d.tol ?? tol})`);
  expect(failures, `golden differences above ${tol} (plus ${GOLDEN_REL_TOL} of each tensor's largest value)`).toEqual([]);
  return ties;
}
