import { describe, expect, it } from 'vitest';
import { promptLoss } from '../tasks/taskLoss';
import { lossUpperBound } from './lossBound';

describe('lossUpperBound', () => {
  it('is the mean loss plus z standard errors of the mean', () => {
    const d = [3, -0.5, 1, 2, 0.25];
    const l = d.map(promptLoss);
    const mean = l.reduce((a, b) => a + b) / l.length;
    const sd = Math.sqrt(l.reduce((a, b) => a + (b - mean) ** 2, 0) / (l.length - 1));
    const r = lossUpperBound(d, 1.5);
    expect(r.mean).toBeCloseTo(mean, 12);
    expect(r.bound).toBeCloseTo(mean + (1.5 * sd) / Math.sqrt(l.length), 12);
  });

  it('z = 0 is the plain mean (the paper rule); equal losses have no spread', () => {
    expect(lossUpperBound([1, -2, 0.5], 0).bound).toBe(lossUpperBound([1, -2, 0.5], 0).mean);
    const same = lossUpperBound([2, 2, 2, 2], 3);
    expect(same.bound).toBeCloseTo(same.mean, 12);
  });

  it('shrinks towards the mean as the sample grows', () => {
    const small = lossUpperBound([2, -1, 2, -1], 1);
    const large = lossUpperBound(Array.from({ length: 400 }, (_, i) => (i % 2 ? -1 : 2)), 1);
    expect(large.mean).toBeCloseTo(small.mean, 12);
    expect(large.bound - large.mean).toBeLessThan((small.bound - small.mean) / 5);
  });
});
