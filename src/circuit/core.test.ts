import { describe, expect, it } from 'vitest';
import { coreIds, CORE_LOSS_TOLERANCE, defaultCoreSize, rankByEffect, SMALL_CIRCUIT_NODES } from './core';

describe('ranking by effect', () => {
  it('puts the largest effect first, keeps the given order on ties and sends NaN last', () => {
    const ranked = rankByEffect([
      { id: 'a', effect: 0.1 }, { id: 'b', effect: NaN }, { id: 'c', effect: 0.5 }, { id: 'd', effect: 0.1 }, { id: 'e', effect: -0.2 },
    ]);
    expect(ranked.map((e) => e.id)).toEqual(['c', 'a', 'd', 'e', 'b']);
    expect(coreIds(ranked, 2)).toEqual(['c', 'a']);
    expect(coreIds(ranked, 99)).toEqual(['c', 'a', 'd', 'e', 'b']);
    expect(coreIds(ranked, 0)).toEqual([]);
  });
});

describe('the default core size', () => {
  it(`is the whole circuit, with nothing evaluated, for circuits of at most ${SMALL_CIRCUIT_NODES} nodes`, async () => {
    const probed: number[] = [];
    const size = await defaultCoreSize(SMALL_CIRCUIT_NODES, 0.1, async (n) => { probed.push(n); return 0; });
    expect(size).toBe(SMALL_CIRCUIT_NODES);
    expect(probed).toEqual([]);
  });

  it(`is the smallest core within ${CORE_LOSS_TOLERANCE} of the circuit's loss, in about log2(n) probes`, async () => {
    // Loss falls as nodes come back: 2 / n. The circuit (n = 81) has loss 2/81; the limit is 2/81 + 0.05.
    const total = 81;
    const loss = (n: number) => 2 / n;
    const limit = loss(total) + CORE_LOSS_TOLERANCE;
    const want = Array.from({ length: total }, (_, i) => i + 1).find((n) => loss(n) <= limit)!;
    const probed: number[] = [];
    const size = await defaultCoreSize(total, loss(total), async (n) => { probed.push(n); return loss(n); });
    expect(size).toBe(want);
    expect(loss(size)).toBeLessThanOrEqual(limit);
    expect(loss(size - 1)).toBeGreaterThan(limit);
    expect(probed.length).toBeLessThanOrEqual(Math.ceil(Math.log2(total)));
    expect(probed).not.toContain(total); // the whole circuit passes by definition
  });

  it('counts a core exactly at the limit as within it, and falls back to the whole circuit when no core is close', async () => {
    expect(await defaultCoreSize(50, 0.2, async (n) => (n >= 30 ? 0.25 : 1))).toBe(30);
    expect(await defaultCoreSize(50, 0.2, async () => 9)).toBe(50);
  });

  it('stops between probes when cancelled', async () => {
    const ctrl = new AbortController();
    const run = defaultCoreSize(100, 0, async () => { ctrl.abort(); return 1; }, { signal: ctrl.signal });
    await expect(run).rejects.toThrow(/abort/i);
  });
});
