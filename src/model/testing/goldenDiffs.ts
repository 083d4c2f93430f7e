import { SparseGpt } from '../forward';
import type { Intervention } from '../interventions';
import { referenceForward, type ReferenceOptions } from '../reference/referenceForward';
import { allSites } from '../sites';
import type { LoadedCheckpoint } from '../weights';

/** Largest |a - b|; NaN anywhere makes it NaN so that it fails every tolerance check. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d;
  }
  return m;
}

/** Deterministic pseudo-random tokens in [0, vocab), the same in Vitest and in the browser harness. */
export function testTokens(n: number, vocab: number, seed = 7): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % vocab;
  });
}

/**
 * Runs the TF.js forward (on whatever backend is active) and the float64 reference on the same tokens, and
 * returns the max abs difference of the logits, of every hook site and of every layer's attention pattern.
 * Framework-free so the same check runs in Vitest and in the browser harness page. `runAs` is the checkpoint the
 * TF.js side runs (default: `ckpt`), e.g. the same weights in the sparse representation.
 */
export async function goldenDiffs(
  ckpt: LoadedCheckpoint,
  tokens: number[],
  interventions: Intervention[] = [],
  reference: ReferenceOptions = {},
  runAs: LoadedCheckpoint = ckpt,
): Promise<Record<string, number>> {
  const model = new SparseGpt(runAs);
  try {
    const layers = [...Array(ckpt.config.nLayer).keys()];
    const got = await model.run(tokens, { record: 'all', recordAttention: layers, interventions });
    const want = referenceForward(ckpt, tokens, reference);
    const diffs: Record<string, number> = { logits: maxAbsDiff(got.logits, want.logits) };
    for (const s of allSites(ckpt.config)) diffs[s] = maxAbsDiff(got.sites.get(s) ?? [], want.sites.get(s) ?? [Number.NaN]);
    for (const l of layers) diffs[`attention ${l}`] = maxAbsDiff(got.attention.get(l) ?? [], want.attention.get(l) ?? [Number.NaN]);
    return diffs;
  } finally {
    model.dispose();
  }
}
