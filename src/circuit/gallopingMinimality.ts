import type { JudgedLoss, MinimalityHooks, MinimalityOutcome } from './minimality';

/**
 * The minimality pass (minimality.ts) with removals tried in growing blocks, for circuits whose every evaluation is a
 * whole forward pass (edge circuits: a residual edge's patch needs its writer recomputed, so the staged restart that
 * makes the node pass cheap does not apply). Walking the same weakest-first order, it tries dropping the next b items
 * at once: when the circuit still meets the target they all go and b doubles; when it does not, b falls back to 1
 * and the next item is tried alone, exactly as the one-at-a-time pass would. A long run of removable weak items
 * (hundreds of them after a bisection at a large k) then costs a few evaluations instead of one each, while among
 * items that must stay it costs one evaluation per item, like the plain pass. The result is the plain pass's whenever
 * dropping items never lowers the loss; it can differ only where a block passes that contains an item whose removal
 * alone would have failed (an item that hurts by itself but helps together with others).
 */
export interface SetRemovalJudge<T> {
  current(signal?: AbortSignal): Promise<JudgedLoss>;
  /** The circuit as it stands without all of `items`. */
  without(items: readonly T[], signal?: AbortSignal): Promise<JudgedLoss>;
  /** Drops the items just tried. */
  keep(): void;
  /** Leaves the circuit as it was before the last try. */
  reject(): void;
}

export type GallopingOutcome<T> = Omit<MinimalityOutcome<T>, 'tries'> & {
  /** Every try: the items tried together, the bound without them, whether they were removed. */
  tries: { items: T[]; bound: number; removed: boolean }[];
};

export async function gallopingMinimalityPass<T>(
  order: readonly T[],
  judge: SetRemovalJudge<T>,
  opts: { targetLoss: number } & MinimalityHooks,
): Promise<GallopingOutcome<T>> {
  const { targetLoss, signal } = opts;
  const meets = (l: JudgedLoss) => l.bound <= targetLoss; // as the bisection: a NaN bound never passes
  let now = await judge.current(signal);
  const tries: GallopingOutcome<T>['tries'] = [];
  const removed: T[] = [];
  if (!meets(now)) return { kept: order.slice(), removed, mean: now.mean, bound: now.bound, ran: false, tries };
  let i = 0;
  let block = 1;
  while (i < order.length) {
    signal?.throwIfAborted();
    const items = order.slice(i, i + block);
    const l = await judge.without(items, signal);
    const ok = meets(l);
    tries.push({ items, bound: l.bound, removed: ok });
    if (ok) {
      judge.keep();
      removed.push(...items);
      now = l;
      i += items.length;
      block *= 2;
    } else {
      judge.reject();
      if (items.length === 1) i += 1; // this item stays
      block = 1;
    }
    opts.onProgress?.({ done: i, total: order.length, bound: now.bound, kept: order.length - removed.length });
  }
  const gone = new Set(removed);
  return { kept: order.filter((it) => !gone.has(it)), removed, mean: now.mean, bound: now.bound, ran: true, tries };
}
