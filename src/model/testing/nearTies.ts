/**
 * Golden comparisons that recognise AbsTopK near-ties.
 *
 * AbsTopK keeps the k entries of largest |x| in a row. When the k-th and (k+1)-th |x| are closer than the rounding
 * difference between two implementations (float32 TF.js against PyTorch or the float64 reference; a gap of ~1e-7
 * is enough), the two keep different channels. That is not a bug, but everything the row feeds moves (the same
 * position at later sites, and later positions through attention), logits by about 1 on real models. A plain
 * max-abs-diff check then either fails for no fault, or is loosened until it passes real bugs too.
 *
 * So the comparison walks the compared quantities in forward order. A row of a selecting site (a hook site) that
 * differs by more than `tol` is a near-tie when the only difference in which channels are nonzero is a swap of
 * channels whose |values| are within `tieTol` of each other, and the channels kept by both agree to `tol`. The tie
 * is reported ("near-tie at <site> position <p>") and explains every difference downstream of it: that row, and
 * rows at position >= p of every later quantity. Every other difference counts as before.
 */

export interface TraceEntry {
  /** What is compared: a hook site ("1.mlp.post_act"), "logits", "attention 0". */
  label: string;
  got: ArrayLike<number> | undefined;
  want: ArrayLike<number> | undefined;
  /** Values per row. */
  width: number;
  /** Token position of a row (default: the row index). Attention [H, T, T] has rows (h, query). */
  positionOfRow?: (row: number) => number;
  /** An AbsTopK output (hook site), whose selection may differ between implementations. */
  selects?: boolean;
  /** Tolerance for this entry (default: the comparison's). */
  tol?: number;
}

export interface NearTie {
  site: string;
  position: number;
  /** Largest | |kept by got| - |kept by want instead| | over the swapped channels. */
  gap: number;
  /** Channels only `got` kept, and the channels only `want` kept in their place (by decreasing |value|). */
  gotKept: number[];
  wantKept: number[];
  /** "near-tie at 1.mlp.post_act position 37 (...)". */
  message: string;
}

export interface TieAwareDiff {
  label: string;
  /** Max |got - want| over the rows no near-tie explains; NaN for missing data, a length mismatch or NaN values. */
  diff: number;
  /** Max |got - want| over all rows. */
  rawDiff: number;
  /** The first near-tie that explains rows of this entry differing by more than the tolerance. */
  explainedBy?: string;
  /** The tolerance the entry was held to (its own, else the options'). */
  tol: number;
}

export interface TieOptions {
  /** A row differing by more than this is a mismatch (default 1e-4). */
  tol?: number;
  /** |x| gap under which two swapped channels are a near-tie (default: the entry's tol: values that may differ by
   *  tol between implementations may also swap order within tol). */
  tieTol?: number;
}

const fmt = (x: number) => x.toExponential(1);
/** max that keeps NaN once seen (a plain `!(d <= m)` update would forget it at the next finite d). */
const maxNaN = (m: number, d: number) => (Number.isNaN(m) || Number.isNaN(d) ? Number.NaN : Math.max(m, d));

/** The swapped channels of a row if they form a near-tie, else null. */
function rowTie(got: ArrayLike<number>, want: ArrayLike<number>, off: number, width: number, tol: number, tieTol: number) {
  const gotOnly: number[] = [];
  const wantOnly: number[] = [];
  for (let c = 0; c < width; c++) {
    const g = got[off + c]!;
    const w = want[off + c]!;
    if (g !== 0 && w === 0) gotOnly.push(c);
    else if (w !== 0 && g === 0) wantOnly.push(c);
    else if (!(Math.abs(g - w) <= tol)) return null; // a channel both kept (or both dropped) disagrees: not a tie
  }
  // A selection swap keeps as many channels on each side; anything else is not AbsTopK's doing.
  if (gotOnly.length === 0 || gotOnly.length !== wantOnly.length) return null;
  const byMag = (v: ArrayLike<number>) => (a: number, b: number) => Math.abs(v[off + b]!) - Math.abs(v[off + a]!) || a - b;
  gotOnly.sort(byMag(got));
  wantOnly.sort(byMag(want));
  let gap = 0;
  for (let i = 0; i < gotOnly.length; i++) {
    const g = Math.abs(got[off + gotOnly[i]!]!);
    const d = Math.abs(g - Math.abs(want[off + wantOnly[i]!]!));
    if (!(d <= tieTol * Math.max(1, g))) return null;
    gap = Math.max(gap, d);
  }
  return { gap, gotKept: gotOnly, wantKept: wantOnly };
}

/**
 * Compares `entries` (in forward order: an entry can only be moved by a selection in an earlier one, or in its own
 * row) and returns one TieAwareDiff per entry plus every near-tie found.
 */
export function compareTrace(entries: readonly TraceEntry[], opts: TieOptions = {}): { diffs: TieAwareDiff[]; nearTies: NearTie[] } {
  const nearTies: NearTie[] = [];
  const diffs: TieAwareDiff[] = [];
  // Smallest position of a near-tie in an earlier entry: rows at or after it are downstream of that tie.
  let upstreamTie: NearTie | null = null;
  for (const e of entries) {
    const tol = e.tol ?? opts.tol ?? 1e-4;
    const tieTol = opts.tieTol ?? tol;
    const { got, want, width } = e;
    if (!got || !want || got.length !== want.length || width <= 0 || got.length % width !== 0) {
      diffs.push({ label: e.label, diff: Number.NaN, rawDiff: Number.NaN, tol });
      continue;
    }
    const pos = e.positionOfRow ?? ((r: number) => r);
    const ownTies: NearTie[] = [];
    let diff = 0;
    let rawDiff = 0;
    let explainedBy: string | undefined;
    for (let r = 0, off = 0; off < got.length; r++, off += width) {
      let rowDiff = 0;
      for (let c = 0; c < width; c++) {
        rowDiff = maxNaN(rowDiff, Math.abs(got[off + c]! - want[off + c]!));
      }
      rawDiff = maxNaN(rawDiff, rowDiff);
      if (rowDiff <= tol || Number.isNaN(rowDiff)) {
        diff = maxNaN(diff, rowDiff); // NaN is never explained
        continue;
      }
      const p = pos(r);
      const cause = upstreamTie && p >= upstreamTie.position ? upstreamTie : ownTies.find((t) => t.position === p);
      if (cause) {
        explainedBy ??= cause.message;
        continue;
      }
      const tie = e.selects ? rowTie(got, want, off, width, tol, tieTol) : null;
      if (!tie) {
        diff = maxNaN(diff, rowDiff);
        continue;
      }
      const found: NearTie = {
        site: e.label, position: p, ...tie,
        message: `near-tie at ${e.label} position ${p} (|x| gap ${fmt(tie.gap)}: kept channel ${tie.gotKept.join(',')} where the reference kept ${tie.wantKept.join(',')})`,
      };
      ownTies.push(found);
      nearTies.push(found);
      explainedBy ??= found.message;
    }
    diffs.push({ label: e.label, diff, rawDiff, tol, ...(explainedBy ? { explainedBy } : {}) });
    for (const t of ownTies) if (!upstreamTie || t.position < upstreamTie.position) upstreamTie = t;
  }
  return { diffs, nearTies };
}
