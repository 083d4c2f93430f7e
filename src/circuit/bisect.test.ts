import { describe, expect, it } from 'vitest';
import { bisectSmallest } from './bisect';

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
