/**
 * The minimality pass run after the bisection (docs/circuits.md, "Minimality"). Pruning at a few hundred steps leaves
 * many items (nodes, or edges for edge pruning) that carry almost nothing: the bisection only finds the smallest
 * *top-k* circuit, and the ranking's tail inside k is noisy. The pass tries dropping each kept item, weakest first,
 * and keeps every removal after which the circuit still meets the bisection's own acceptance test (loss bound on the
 * held-back prompts at most the target). Greedy and deterministic: the result depends only on the order and on the
 * judge's (deterministic) losses. Generic over the item: a judge knows how to evaluate a circuit without one.
 */

import type { TaskPrompt } from '../tasks/taskSchema';

/** A circuit's loss on the judged prompts: the mean and the bound the target is compared with (lossUpperBound). */
export interface JudgedLoss {
  mean: number;
  bound: number;
}

/**
 * Evaluates one circuit that shrinks as removals are kept. `without` never changes the circuit; the pass calls
 * exactly one of `keep` or `reject` after each `without`, about the item it just tried.
 */
export interface RemovalJudge<T> {
  /** The circuit as it stands. Called once, first. */
  current(signal?: AbortSignal): Promise<JudgedLoss>;
  /** The circuit as it stands without `item`. */
  without(item: T, signal?: AbortSignal): Promise<JudgedLoss>;
  /** Drops the item just tried from the circuit. */
  keep(): void;
  /** Leaves the circuit as it was before the last try. */
  reject(): void;
}

export interface MinimalityProgress {
  done: number;
  total: number;
  /** Bound of the circuit as it stands, and its size. */
  bound: number;
  kept: number;
}

export interface MinimalityHooks {
  signal?: AbortSignal;
  onProgress?: (p: MinimalityProgress) => void;
}

export interface MinimalityOutcome<T> {
  /** Items still in the circuit, in the order they were given (weakest first). */
  kept: T[];
  /** Removed items, in the order they were removed. */
  removed: T[];
  /** Loss and bound of the final circuit on the judged prompts. */
  mean: number;
  bound: number;
  /** False when the circuit given already missed the target: no removal can then "still" meet it, and none was tried. */
  ran: boolean;
  /** Every try: the item, its bound without it, whether the removal was kept. */
  tries: { item: T; bound: number; removed: boolean }[];
}

/**
 * Items ordered weakest first: ascending strength (a node's mask parameter tau, an edge's importance). `items` come
 * strongest first as a ranking does (rankNodes: ties go to the lower index), so among equal strengths the later item
 * is the weaker one: this order is then exactly the ranking reversed.
 */
export function weakestFirst<T>(items: readonly T[], strength: (item: T) => number): T[] {
  const pos = new Map(items.map((it, i) => [it, i]));
  return items.slice().sort((a, b) => strength(a) - strength(b) || pos.get(b)! - pos.get(a)!);
}

/**
 * The pass over a pruned circuit of one granularity (nodeMinimality.ts, edgePruneMinimality.ts): `circuit` holds item
 * indices strongest first (the ranking's top k), `tau` the mask parameter per item (the weakest are tried first), and
 * each circuit is judged on `prompts` with the bisection's acceptance test.
 */
export type CircuitMinimiser<O extends Omit<MinimalityOutcome<number>, 'tries'> = Omit<MinimalityOutcome<number>, 'tries'>> = (
  circuit: readonly number[],
  tau: Float32Array,
  prompts: readonly TaskPrompt[],
  hooks?: MinimalityHooks,
) => Promise<O>;

/** The pass over `order` (weakest first): a removal stays when the bound without the item is at most `targetLoss`. */
export async function minimalityPass<T>(
  order: readonly T[],
  judge: RemovalJudge<T>,
  opts: { targetLoss: number } & MinimalityHooks,
): Promise<MinimalityOutcome<T>> {
  const { targetLoss, signal } = opts;
  let now = await judge.current(signal);
  const tries: MinimalityOutcome<T>['tries'] = [];
  const removed: T[] = [];
  // Comparison as in the bisection (prune.ts `passes`): bound <= target; a NaN bound never passes.
  const meets = (l: JudgedLoss) => l.bound <= targetLoss;
  if (!meets(now)) return { kept: order.slice(), removed, mean: now.mean, bound: now.bound, ran: false, tries };
  for (const [i, item] of order.entries()) {
    signal?.throwIfAborted();
    const l = await judge.without(item, signal);
    const ok = meets(l);
    if (ok) {
      judge.keep();
      removed.push(item);
      now = l;
    } else {
      judge.reject();
    }
    tries.push({ item, bound: l.bound, removed: ok });
    opts.onProgress?.({ done: i + 1, total: order.length, bound: now.bound, kept: order.length - removed.length });
  }
  const gone = new Set(removed);
  return { kept: order.filter((it) => !gone.has(it)), removed, mean: now.mean, bound: now.bound, ran: true, tries };
}
