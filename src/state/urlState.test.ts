import { describe, expect, it } from 'vitest';
import type { Intervention } from '../model/interventions';
import { decodeInterventions, encodeInterventions } from './urlCodec';
import { formatUrlState, parseUrlState } from './urlState';

const ivs: Intervention[] = [
  { kind: 'node', node: '3.mlp.post_act:17', mode: 'mean' },
  { kind: 'edge', source: '0.attn.act_in:2', target: '0.attn.v:9', mode: 'zero' },
  { kind: 'circuit', nodes: ['0.attn.q:1', 'final_resid:4'], mode: 'mean' },
];

describe('URL state', () => {
  it('round-trips every key, keeping foreign keys such as backend', () => {
    const state = { model: 'm-1', task: 'single_double_quote', pair: 3, side: 'b' as const, node: '1.attn.k:4', pos: 5, iv: ivs, mode: 'zero' as const, view: 'full' as const };
    const q = formatUrlState(state, '?backend=wasm&pair=9');
    expect(new URLSearchParams(q).get('backend')).toBe('wasm');
    const back = parseUrlState(q);
    expect(back.problems).toEqual([]);
    expect(back.state).toEqual(state);
  });
  it('reports a bad key and keeps the good ones', () => {
    const r = parseUrlState('?task=Bad-Name&pair=2&iv=n~nope~m&mode=half');
    expect(r.state).toEqual({ pair: 2 });
    expect(r.problems).toHaveLength(3);
    expect(r.problems.join(' ')).toMatch(/"task".*"iv".*"mode"/);
  });
  it('carries a user-defined task in the link, and reports a malformed one', () => {
    const custom = { name: 'quotes', targets: ['"', "'"] as [string, string], examples: 'x = "a || x = \'a\nA| y = "b\nB| y = \'b' };
    const q = formatUrlState({ model: 'm', task: 'custom_quotes', custom }, '');
    const back = parseUrlState(q);
    expect(back.problems).toEqual([]);
    expect(back.state).toEqual({ model: 'm', task: 'custom_quotes', custom });
    const bad = parseUrlState('?task=custom_x&custom=%%%');
    expect(bad.state).toEqual({ task: 'custom_x' });
    expect(bad.problems[0]).toMatch(/"custom"/);
    // Too long for a link: left out rather than written.
    expect(new URLSearchParams(formatUrlState({ task: 'custom_big', custom: { ...custom, examples: 'x'.repeat(10_000) } }, '')).get('custom')).toBeNull();
  });
  it('encodes interventions compactly and rejects malformed ones', () => {
    expect(decodeInterventions(encodeInterventions(ivs))).toEqual(ivs);
    expect(encodeInterventions([ivs[0]!])).toBe('n~3.mlp.post_act:17~m');
    expect(decodeInterventions('')).toEqual([]);
    expect(() => decodeInterventions('e~0.attn.q:1~m')).toThrow(/not n~node~mode/);
    expect(() => decodeInterventions('n~0.attn.q:1~x')).toThrow(/unknown mode/);
  });
});
