import { describe, expect, it } from 'vitest';
import { minimalityPass, weakestFirst, type RemovalJudge } from './minimality';

/**
 * A judge over circuits of letters whose loss is a fixed function of the set: `cost` per letter left out, plus a
 * penalty when a "pair" is both left out (so the order of removals matters). Records every set it was asked about.
 */
function tableJudge(items: string[], lossOf: (out: Set<string>) => number) {
  const out = new Set<string>();
  const asked: string[][] = [];
  let pending: string | null = null;
  const judge: RemovalJudge<string> & { asked: string[][] } = {
    asked,
    async current() {
      asked.push(items.filter((i) => !out.has(i)));
      return { mean: lossOf(out), bound: lossOf(out) };
    },
    async without(item) {
      if (out.has(item)) throw new Error(`${item} tried twice`);
      pending = item;
      const tried = new Set([...out, item]);
      asked.push(items.filter((i) => !tried.has(i)));
      const l = lossOf(tried);
      return { mean: l - 0.01, bound: l };
    },
    keep() {
      out.add(pending!);
      pending = null;
    },
    reject() {
      pending = null;
    },
  };
  return judge;
}

describe('minimality pass (generic)', () => {
  it('orders items weakest first, ties going to the later (lower-ranked) item', () => {
    const strength: Record<string, number> = { a: 0.9, b: 0.2, c: 0.5, d: 0.2, e: -0.1 };
    // Given strongest first as a ranking would: a, c, b, d (b before d: equal tau, lower index ranks higher), e.
    expect(weakestFirst(['a', 'c', 'b', 'd', 'e'], (x) => strength[x]!)).toEqual(['e', 'd', 'b', 'c', 'a']);
    expect(weakestFirst([3, 1, 2], () => 0)).toEqual([2, 1, 3]);
  });

  it('keeps exactly the removals after which the bound still meets the target, in order, weakest first', async () => {
    const items = ['w', 'x', 'y', 'z'];
    const base = 0.05;
    const cost: Record<string, number> = { w: 0.02, x: 0.03, y: 0.2, z: 0.04 };
    // Leaving out both x and z costs 0.05 more: after w and x go (0.10), z would make 0.19 > 0.15.
    const lossOf = (out: Set<string>) => base + [...out].reduce((s, i) => s + cost[i]!, 0) + (out.has('x') && out.has('z') ? 0.05 : 0);
    const judge = tableJudge(items, lossOf);
    const r = await minimalityPass(['w', 'x', 'y', 'z'], judge, { targetLoss: 0.15 });
    expect(r.ran).toBe(true);
    expect(r.removed).toEqual(['w', 'x']);
    expect(r.kept).toEqual(['y', 'z']);
    expect(r.tries.map((t) => [t.item, t.removed])).toEqual([['w', true], ['x', true], ['y', false], ['z', false]]);
    expect(r.bound).toBeCloseTo(0.1, 12);
    expect(r.mean).toBeCloseTo(0.09, 12);
    // Each try is the circuit as it stands less one item: never a set with a rejected item missing.
    expect(judge.asked).toEqual([['w', 'x', 'y', 'z'], ['x', 'y', 'z'], ['y', 'z'], ['z'], ['y']]);
    // Weakest first is a real choice: the reverse order ends with a different circuit.
    const reverse = await minimalityPass(['z', 'y', 'x', 'w'], tableJudge(items, lossOf), { targetLoss: 0.15 });
    expect(reverse.removed).toEqual(['z', 'w']);
  });

  it('never leaves the bound above the target, and a bound exactly at the target passes (the bisection\'s <=)', async () => {
    const items = ['a', 'b', 'c', 'd', 'e', 'f'];
    const lossOf = (out: Set<string>) => 0.125 + 0.0625 * out.size; // binary fractions: 2 removals reach exactly 0.25
    const r = await minimalityPass(items, tableJudge(items, lossOf), { targetLoss: 0.25 });
    expect(r.removed).toEqual(['a', 'b']);
    for (const t of r.tries) if (t.removed) expect(t.bound).toBeLessThanOrEqual(0.25);
    expect(r.bound).toBe(0.25);
    // NaN (no prompts) never passes.
    const nan = await minimalityPass(items, tableJudge(items, (o) => (o.size ? NaN : 0.1)), { targetLoss: 0.15 });
    expect(nan.removed).toEqual([]);
  });

  it('does nothing when the circuit already misses the target', async () => {
    const items = ['a', 'b'];
    const judge = tableJudge(items, (o) => 0.2 - 0.05 * o.size); // removals would even help
    const r = await minimalityPass(items, judge, { targetLoss: 0.15 });
    expect(r).toMatchObject({ ran: false, removed: [], kept: ['a', 'b'], bound: 0.2 });
    expect(judge.asked).toEqual([['a', 'b']]);
  });

  it('is deterministic, reports progress per try, and stops when aborted', async () => {
    const items = Array.from({ length: 12 }, (_, i) => `n${i}`);
    const lossOf = (out: Set<string>) => 0.05 + [...out].reduce((s, i) => s + (Number(i.slice(1)) % 3) * 0.02, 0);
    const a = await minimalityPass(items, tableJudge(items, lossOf), { targetLoss: 0.15 });
    const seen: [number, number, number][] = [];
    const b = await minimalityPass(items, tableJudge(items, lossOf), { targetLoss: 0.15, onProgress: (p) => seen.push([p.done, p.total, p.kept]) });
    expect(b).toEqual(a);
    expect(seen.map((s) => s[0])).toEqual(items.map((_, i) => i + 1));
    expect(seen.at(-1)).toEqual([12, 12, a.kept.length]);
    const ac = new AbortController();
    await expect(minimalityPass(items, tableJudge(items, lossOf), {
      targetLoss: 0.15, signal: ac.signal, onProgress: (p) => { if (p.done === 3) ac.abort(new Error('cancelled')); },
    })).rejects.toThrow('cancelled');
  });
});
