import { describe, expect, it } from 'vitest';
import { bisectSmallest } from './bisect';
import { splitForValidation } from './maskPruning';

describe('bisectSmallest', () => {
  it.each([0, 1, 7, 99, 100])('finds the smallest k with ok(k) (threshold %i) in O(log n) probes', async (threshold) => {
    const probed: number[] = [];
    const k = await bisectSmallest(0, 100, async (x) => {
      probed.push(x);
      return x >= threshold;
    });
    expect(k).toBe(threshold);
    expect(probed.length).toBeLessThanOrEqual(Math.ceil(Math.log2(101)));
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    await expect(
      bisectSmallest(0, 1000, async (x) => {
        ac.abort(new Error('stop'));
        return x > 10;
      }, ac.signal),
    ).rejects.toThrow('stop');
  });

  it('rejects a bad range', async () => {
    await expect(bisectSmallest(5, 2, async () => true)).rejects.toThrow('bad range');
  });
});

describe('splitForValidation', () => {
  it('holds back a seeded share of the pairs, disjoint from the rest and covering all of them', () => {
    const pairs = Array.from({ length: 100 }, (_, i) => i);
    const { fit, validation } = splitForValidation(pairs, 0.25, 0);
    expect(validation).toHaveLength(25);
    expect(fit).toHaveLength(75);
    expect([...fit, ...validation].sort((a, b) => a - b)).toEqual(pairs);
    expect(splitForValidation(pairs, 0.25, 0)).toEqual({ fit, validation });
    expect(splitForValidation(pairs, 0.25, 1).validation).not.toEqual(validation);
  });

  it('uses every pair for both when the held-back share would be too small to judge k on', () => {
    const pairs = Array.from({ length: 30 }, (_, i) => i);
    expect(splitForValidation(pairs, 0.25, 0)).toEqual({ fit: pairs, validation: pairs });
    expect(splitForValidation(pairs, 0, 0)).toEqual({ fit: pairs, validation: pairs });
  });
});
