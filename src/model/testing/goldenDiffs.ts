import { SparseGpt } from '../forward';
import type { Intervention } from '../interventions';
import { referenceForward, type ReferenceOptions } from '../reference/referenceForward';
import { allSites, siteWidth } from '../sites';
import type { LoadedCheckpoint } from '../weights';
import { compareTrace, type TraceEntry } from './nearTies';

/** Largest |a - b|; NaN anywhere makes it NaN so that it fails every tolerance check. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Number.NaN; // a later finite d must not overwrite it
    if (d > m) m = d;
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
 *
 * Differences downstream of an AbsTopK near-tie (src/model/testing/nearTies.ts) are left out of the numbers, and each
 * tie is reported as its own key, "near-tie at <site> position <p>", whose value is the |x| gap (within `tol`, so
 * callers that check every value against `tol` pass it while still printing it).
 */
export async function goldenDiffs(
  ckpt: LoadedCheckpoint,
  tokens: number[],
  interventions: Intervention[] = [],
  reference: ReferenceOptions = {},
  runAs: LoadedCheckpoint = ckpt,
  tol = 1e-4,
): Promise<Record<string, number>> {
  const model = new SparseGpt(runAs);
  try {
    const c = ckpt.config;
    const T = tokens.length;
    const layers = [...Array(c.nLayer).keys()];
    const got = await model.run(tokens, { record: 'all', recordAttention: layers, interventions });
    const want = referenceForward(ckpt, tokens, reference);
    // Forward order; a layer's attention pattern comes after its q, k and v (rows: head, query position).
    const entries: TraceEntry[] = [];
    for (const s of allSites(c)) {
      entries.push({ label: s, got: got.sites.get(s) ?? [], want: want.sites.get(s) ?? [Number.NaN], width: siteWidth(c, s), selects: true });
      const l = Number.parseInt(s, 10);
      if (s.endsWith('.attn.v')) {
        entries.push({ label: `attention ${l}`, got: got.attention.get(l) ?? [], want: want.attention.get(l) ?? [Number.NaN], width: T, positionOfRow: (r) => r % T });
      }
    }
    entries.push({ label: 'logits', got: got.logits, want: want.logits, width: c.vocabSize });
    const { diffs, nearTies } = compareTrace(entries, { tol });
    const out: Record<string, number> = {};
    for (const d of diffs) out[d.label] = d.diff;
    for (const t of nearTies) out[`near-tie at ${t.site} position ${t.position}`] = t.gap;
    return out;
  } finally {
    model.dispose();
  }
}
