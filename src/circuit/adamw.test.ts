import { describe, expect, it } from 'vitest';
import { AdamW } from './adamw';

describe('AdamW', () => {
  it('first step moves each parameter by about lr against its gradient sign', () => {
    const opt = new AdamW(3, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 0 });
    const p = Float32Array.of(0, 0, 0);
    opt.step(p, Float32Array.of(2, -0.001, 0), 0.01);
    expect(p[0]).toBeCloseTo(-0.01, 6);
    expect(p[1]).toBeCloseTo(0.01, 4);
    expect(p[2]).toBe(0);
  });

  it('clips the global gradient norm and decays weights', () => {
    const opt = new AdamW(2, { beta1: 0, beta2: 0, eps: 0, weightDecay: 0.5, gradClip: 1 });
    const p = Float32Array.of(1, 1);
    const norm = opt.step(p, Float32Array.of(30, 40), 0.1);
    expect(norm).toBeCloseTo(50, 6);
    // decay 1 * (1 - 0.05), then a unit-size Adam step (beta 0: m/sqrt(v) = sign)
    expect(p[0]).toBeCloseTo(0.95 - 0.1, 6);
  });
});
