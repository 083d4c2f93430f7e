import { sharedStages } from '../model/stages';
import type { tf } from '../model/tfjs';

/**
 * Residual streams of earlier task evaluations, per intervention list, for starting later ones part-way (stages.ts).
 * An entry holds, per batch, the stream entering each stage its run computed, plus the run's logit differences. Least
 * recently used entries go first when the byte budget is exceeded; an entry larger than the whole budget keeps only
 * its logit differences.
 */
export interface CacheEntry {
  /** stageKeys of the list. */
  keys: string[];
  /** stage -> per batch, the residual stream entering that stage. */
  stages: Map<number, tf.Tensor3D[]>;
  /** Per prompt, correct minus alternative logit (uncalibrated). */
  diffs: Float32Array;
}

export interface CacheStart {
  /** First stage to compute (0: from the tokens). */
  from: number;
  /** Entry whose stream entering `from` is reused (null when from = 0). */
  source: CacheEntry | null;
  /** An entry for the very same list, whose logit differences can be taken as they are. */
  same: CacheEntry | null;
}

function entryBytes(e: CacheEntry): number {
  let n = 0;
  for (const perBatch of e.stages.values()) for (const t of perBatch) n += t.size * 4;
  return n;
}

function disposeStages(e: CacheEntry): void {
  for (const perBatch of e.stages.values()) for (const t of perBatch) t.dispose();
  e.stages.clear();
}

/** Entries kept at most (beyond the byte budget's, which only bounds the streams): oldest go first. */
const MAX_ENTRIES = 64;

export class ResidualCache {
  /** Most recently used last. */
  private entries: CacheEntry[] = [];

  constructor(readonly budgetBytes: number) {}

  /** Where a run under a list with these stage keys can start, no later than stage `latest` (stages.ts latestStart),
   *  and from which entry (marked as recently used). */
  start(keys: readonly string[], latest = Infinity): CacheStart {
    let best: CacheStart = { from: 0, source: null, same: null };
    for (const e of this.entries) {
      const shared = sharedStages(e.keys, keys);
      if (shared === keys.length && shared === e.keys.length) best.same = e;
      // The stream entering stage s depends on stages < s only: any cached s <= shared is valid here.
      for (const s of e.stages.keys()) if (s <= shared && s <= latest && s > best.from) best = { ...best, from: s, source: e };
    }
    for (const e of [best.same, best.source]) if (e) this.touch(e);
    return best;
  }

  add(e: CacheEntry): void {
    if (entryBytes(e) > this.budgetBytes) disposeStages(e);
    this.entries = this.entries.filter((old) => {
      if (sharedStages(old.keys, e.keys) !== e.keys.length || old.keys.length !== e.keys.length) return true;
      disposeStages(old); // the new entry is for the same list
      return false;
    });
    this.entries.push(e);
    let total = this.entries.reduce((n, x) => n + entryBytes(x), 0);
    for (const old of this.entries) {
      if (total <= this.budgetBytes) break;
      if (old === e) continue;
      total -= entryBytes(old);
      disposeStages(old); // its logit differences stay: they are small and still exact
    }
    for (const old of this.entries.splice(0, Math.max(0, this.entries.length - MAX_ENTRIES))) disposeStages(old);
  }

  get bytes(): number {
    return this.entries.reduce((n, x) => n + entryBytes(x), 0);
  }

  /** Tensors held (per batch and stage). */
  get tensors(): number {
    let n = 0;
    for (const e of this.entries) for (const perBatch of e.stages.values()) n += perBatch.length;
    return n;
  }

  get size(): number {
    return this.entries.length;
  }

  clear(): void {
    for (const e of this.entries) disposeStages(e);
    this.entries = [];
  }

  private touch(e: CacheEntry): void {
    this.entries = [...this.entries.filter((x) => x !== e), e];
  }
}
