import { describe, expect, it } from 'vitest';
import { ablationText, minimalityText, missedTargetText } from './outcomeText';

describe('outcomeText', () => {
  it('says nothing about mean ablation and explains zero ablation', () => {
    expect(ablationText({ ablation: 'mean' })).toBeNull();
    expect(ablationText({ ablation: 'zero' })).toMatch(/^pruned with zero ablation: everything outside the circuit is set to 0/);
  });

  it('counts the minimality pass in the unit of the circuit', () => {
    expect(minimalityText({ minimality_removed: 22, nodes: [], granularity: 'edges', edge_count: 24 })).toBe('minimality pass removed 22 of 46 edges');
    expect(minimalityText({ minimality_removed: undefined, nodes: [], granularity: 'edges', edge_count: 24 })).toBeNull();
  });

  it('names the held-back bound when the target was missed', () => {
    expect(missedTargetText({ reached_target: true, target_loss: 0.15 })).toBeNull();
    expect(missedTargetText({ reached_target: false, target_loss: 0.15, train_circuit_loss_bound: 0.165 })).toMatch(/loss bound on the held-back training pairs is 0.165, above the target 0.150/);
  });
});
