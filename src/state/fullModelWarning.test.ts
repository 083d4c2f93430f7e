import { describe, expect, it } from 'vitest';
import type { TaskVariantMetrics } from '../worker/protocol';
import { accuracyPercent, fullModelAccuracy, fullModelWarning } from './fullModelWarning';

const row = (accuracy: number): TaskVariantMetrics => ({ label: 'full', loss: 1, accuracy, logitDiffs: new Float32Array(0), calibration: null, uncalibrated: { loss: 1, accuracy } });
const circuit = { task: 'if_ternary', full_model_accuracy: 0.5 };

describe('full-model accuracy', () => {
  it('prefers the live full-model row, under either ablation mode', () => {
    expect(fullModelAccuracy({ 'circuit|mean': row(0.9), 'full|mean': row(0.62) }, circuit, 'if_ternary')).toEqual({ accuracy: 0.62, source: 'live' });
    expect(fullModelAccuracy({ 'full|zero': row(0.8) }, circuit, 'if_ternary')).toEqual({ accuracy: 0.8, source: 'live' });
  });
  it('falls back to the circuit file of the same task, and knows nothing otherwise', () => {
    expect(fullModelAccuracy({ 'circuit|mean': row(0.9) }, circuit, 'if_ternary')).toEqual({ accuracy: 0.5, source: 'circuit file' });
    expect(fullModelAccuracy({}, circuit, 'with_as')).toBeNull();
    expect(fullModelAccuracy({}, null, 'if_ternary')).toBeNull();
  });
});

describe('the full-model warning', () => {
  it('is said below 70% test accuracy, with the figure', () => {
    expect(fullModelWarning({ accuracy: 0.51, source: 'live' }))
      .toBe('The full model does not do this task (test accuracy 51%); what you see is what ablation makes of it.');
    expect(fullModelWarning({ accuracy: 0.5, source: 'circuit file' })).toMatch(/\(test accuracy 50%\)/);
  });
  it('is not said at or above 70%, or when the accuracy is unknown', () => {
    expect(fullModelWarning({ accuracy: 0.7, source: 'live' })).toBeNull();
    expect(fullModelWarning({ accuracy: 0.97, source: 'live' })).toBeNull();
    expect(fullModelWarning(null)).toBeNull();
    expect(fullModelWarning({ accuracy: Number.NaN, source: 'live' })).toBeNull();
  });
  it('never rounds a figure below the threshold up to it', () => {
    expect(accuracyPercent(0.695)).toBe('69.5%');
    expect(accuracyPercent(0.6999)).toBe('69.9%');
    expect(accuracyPercent(0.516)).toBe('52%');
    expect(accuracyPercent(0.7)).toBe('70%');
    expect(fullModelWarning({ accuracy: 0.695, source: 'live' })).toMatch(/\(test accuracy 69\.5%\)/);
  });
});
