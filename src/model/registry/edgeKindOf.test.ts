import { describe, expect, it } from 'vitest';
import { makeConfig } from '../testing/randomCheckpoint';
import { edgeKindOf, pairEdgeKind } from './index';

// One contract for every edge of a drawn circuit: `{kind: 'edge', source, target, mode}` names any of the three edge
// kinds, and the kind follows from the two sites through the registry.
const c = makeConfig({ nLayer: 2 });

describe('edgeKindOf', () => {
  it.each([
    ['0.attn.act_in:3', '0.attn.q:5', 'weight'],
    ['1.attn.v:2', '1.attn.resid_delta:7', 'weight'],
    ['0.mlp.post_act:9', '0.mlp.resid_delta:1', 'weight'],
    ['0.attn.resid_delta:4', '0.mlp.act_in:4', 'residual'],
    ['0.attn.resid_delta:4', '1.attn.act_in:4', 'residual'],
    ['0.mlp.resid_delta:4', '1.mlp.act_in:4', 'residual'],
    ['1.mlp.resid_delta:4', 'final_resid:4', 'residual'],
    ['1.attn.q:6', '1.attn.k:6', 'qk'],
  ])('%s -> %s is a %s edge', (source, target, kind) => {
    expect(edgeKindOf(c, source, target)).toBe(kind);
    expect(pairEdgeKind(source, target)).toBe(kind);
  });

  it.each([
    ['0.mlp.resid_delta:4', '0.mlp.act_in:4', /a write to a later read \(or final_resid\) of the same channel/],
    ['0.mlp.resid_delta:4', '0.attn.act_in:4', /later read/],
    ['0.attn.resid_delta:4', '1.attn.act_in:5', /same channel/],
    ['0.attn.q:6', '0.attn.k:7', /q channel c to k channel c of the same layer/],
    ['0.attn.q:6', '1.attn.k:6', /same layer/],
    ['0.attn.k:6', '0.attn.q:6', /no edge kind of the registry joins these sites/],
    ['0.mlp.act_in:1', '1.mlp.post_act:1', /no edge kind/],
    ['final_resid:1', '1.attn.act_in:1', /no edge kind/],
  ])('%s -> %s is no edge', (source, target, why) => {
    expect(() => edgeKindOf(c, source, target)).toThrow(why);
    expect(() => edgeKindOf(c, source, target)).toThrow(/^not an edge: /);
    expect(pairEdgeKind(source, target)).toBeNull();
  });

  it('checks layers and channels against the model', () => {
    expect(() => edgeKindOf(c, '2.attn.q:1', '2.attn.k:1')).toThrow(/the model has 2 layers/);
    expect(() => edgeKindOf(c, `0.attn.resid_delta:${c.dModel}`, `1.attn.act_in:${c.dModel}`)).toThrow(new RegExp(`channel ${c.dModel} is outside 0.attn.resid_delta`));
    expect(pairEdgeKind('0.attn.q:x', '0.attn.k:1')).toBeNull();
    expect(() => edgeKindOf(c, 'nonsense', '0.attn.k:1')).toThrow(/bad node id/);
  });

  it('takes parsed nodes as well as ids', () => {
    expect(edgeKindOf(c, { site: '0.attn.resid_delta', channel: 2 }, { site: 'final_resid', channel: 2 })).toBe('residual');
  });
});
