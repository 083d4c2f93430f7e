import { describe, expect, it } from 'vitest';
import { pickSweepRun, type SweepRun } from './sweep';

const run = (kCoef: number, k: number, reachedTarget: boolean, trainLossBound: number): SweepRun => ({
  config: { kCoef },
  outcome: { k, reachedTarget, trainLossBound },
});

describe('pickSweepRun', () => {
  it('keeps the smallest circuit among the runs that reached the target', () => {
    expect(pickSweepRun([run(1e-3, 90, true, 0.14), run(3e-4, 60, false, 0.2), run(1e-4, 70, true, 0.1)]).config.kCoef).toBe(1e-4);
  });

  it('when none reached it, keeps the lowest bound; ties go to the earlier run', () => {
    expect(pickSweepRun([run(1e-3, 90, false, 0.25), run(3e-4, 150, false, 0.16)]).config.kCoef).toBe(3e-4);
    expect(pickSweepRun([run(1e-3, 90, true, 0.14), run(3e-4, 90, true, 0.1)]).config.kCoef).toBe(1e-3);
  });

  it('refuses an empty sweep', () => {
    expect(() => pickSweepRun([])).toThrow('no runs');
  });
});
