import { describe, expect, it } from 'vitest';
import { gallopingMinimalityPass, type SetRemovalJudge } from './gallopingMinimality';
import { minimalityPass, type RemovalJudge } from './minimality';

/** Circuits of numbered items whose loss is a fixed function of the removed set; counts evaluations. */
function judges(lossOf: (out: Set<number>) => number) {
  const out = new Set<number>();
  let pending: number[] = [];
  let evaluations = 0;
  const eval_ = (s: Set<number>) => {
    evaluations++;
    const l = lossOf(s);
    return { mean: l, bound: l };
  };
  const set: SetRemovalJudge<number> = {
    current: async () => eval_(out),
    without: async (items) => { pending = [...items]; return eval_(new Set([...out, ...items])); },
    keep: () => { for (const i of pending) out.add(i); },
    reject: () => { pending = []; },
  };
  const single: RemovalJudge<number> = {
    current: set.current,
    without: (item) => set.without([item]),
    keep: set.keep,
    reject: set.reject,
  };
  return { set, single, count: () => evaluations, out };
}

describe('galloping minimality pass', () => {
  // 200 items: the first 150 (weakest first) nearly free to drop, the rest costly, with a few cheap ones among them.
  const cost = (i: number) => (i < 150 ? 0.0001 : i % 10 === 0 ? 0.0002 : 0.05);
  const lossOf = (out: Set<number>) => 0.08 + [...out].reduce((s, i) => s + cost(i), 0);
  const order = Array.from({ length: 200 }, (_, i) => i);

  it('removes exactly what the one-at-a-time pass removes when removals never help, in far fewer evaluations', async () => {
    const a = judges(lossOf);
    const plain = await minimalityPass(order, a.single, { targetLoss: 0.15 });
    const b = judges(lossOf);
    const fast = await gallopingMinimalityPass(order, b.set, { targetLoss: 0.15 });
    expect(fast.ran).toBe(true);
    expect(new Set(fast.removed)).toEqual(new Set(plain.removed));
    expect(fast.kept).toEqual(plain.kept);
    expect(fast.bound).toBeCloseTo(plain.bound, 12);
    expect(b.count()).toBeLessThan(a.count() / 2);
    for (const t of fast.tries) if (t.removed) expect(t.bound).toBeLessThanOrEqual(0.15);
  });

  it('tries an item alone after a failed block, and keeps the bound within the target', async () => {
    const j = judges((out) => 0.1 + (out.has(3) ? 0.1 : 0) + out.size * 0.001);
    const r = await gallopingMinimalityPass([0, 1, 2, 3, 4, 5], j.set, { targetLoss: 0.15 });
    expect(r.kept).toEqual([3]);
    expect(r.tries.some((t) => t.items.length === 1 && t.items[0] === 3 && !t.removed)).toBe(true);
    expect(r.bound).toBeLessThanOrEqual(0.15);
  });

  it('does nothing when the circuit already misses the target, and stops when aborted', async () => {
    const miss = await gallopingMinimalityPass([1, 2], judges(() => 0.2).set, { targetLoss: 0.15 });
    expect(miss).toMatchObject({ ran: false, removed: [], kept: [1, 2] });
    const ac = new AbortController();
    await expect(gallopingMinimalityPass(order, judges(lossOf).set, {
      targetLoss: 0.15, signal: ac.signal, onProgress: (p) => { if (p.done > 20) ac.abort(new Error('cancelled')); },
    })).rejects.toThrow('cancelled');
  });
});
