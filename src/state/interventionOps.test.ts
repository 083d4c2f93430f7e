import { describe, expect, it } from 'vitest';
import type { Intervention } from '../model/interventions';
import { removeAt, toggleEdge, toggleNode, withMode } from './interventionOps';

describe('intervention list edits', () => {
  it('toggling twice gives the list back, never mutating the input', () => {
    const start: Intervention[] = [{ kind: 'node', node: '0.attn.q:1', mode: 'mean' }];
    const frozen = Object.freeze([...start]) as Intervention[];
    const on = toggleEdge(frozen, '0.attn.act_in:2', '0.attn.q:1', 'zero');
    expect(on).toHaveLength(2);
    expect(toggleEdge(on, '0.attn.act_in:2', '0.attn.q:1', 'zero')).toEqual(start);
    expect(toggleNode(toggleNode(frozen, '1.mlp.post_act:3', 'mean'), '1.mlp.post_act:3', 'mean')).toEqual(start);
    expect(removeAt(on, 0)).toEqual([on[1]]);
  });
  it('the global mode rewrites every intervention, and is a no-op when nothing changes', () => {
    const list: Intervention[] = [{ kind: 'node', node: '0.attn.q:1', mode: 'mean' }];
    expect(withMode(list, 'zero')[0]!.mode).toBe('zero');
    expect(withMode(list, 'mean')).toBe(list);
  });
});
