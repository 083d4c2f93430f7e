import type { SeededRng } from '../tasks/seeded';

/**
 * Minibatches of pair indices for mask learning: each batch takes `batchPairs` pairs (at most all of them) from a
 * seeded shuffle of every pair, reshuffling when it runs out, so each pair is seen equally often.
 */
export function pairSampler(rng: SeededRng, pairs: number, batchPairs: number): () => number[] {
  let pool: number[] = [];
  return () => {
    const out: number[] = [];
    while (out.length < Math.min(batchPairs, pairs)) {
      if (pool.length === 0) pool = rng.shuffle([...Array(pairs).keys()]);
      out.push(pool.pop()!);
    }
    return out;
  };
}
