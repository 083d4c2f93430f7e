import { describe, expect, it } from 'vitest';
import type { Intervention } from '../model/interventions';
import { decodeInterventions, encodeInterventions } from './urlCodec';
import { formatUrlState, MACHINE_KEYS, parseUrlState, URL_TABLE, type UrlState } from './urlState';

const ivs: Intervention[] = [
  { kind: 'node', node: '3.mlp.post_act:17', mode: 'mean' },
  { kind: 'edge', source: '0.attn.act_in:2', target: '0.attn.v:9', mode: 'zero' },
  { kind: 'circuit', nodes: ['0.attn.q:1', 'final_resid:4'], mode: 'mean' },
];

describe('URL state', () => {
  it('round-trips every key, keeping foreign keys such as backend', () => {
    const state = {
      model: 'm-1', task: 'single_double_quote', pair: 3, side: 'b' as const, node: '1.attn.k:4', pos: 5, iv: ivs, mode: 'zero' as const, view: 'full' as const,
      targets: [12, 7] as [number, number], minWeight: 0.125,
    };
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
  it('marks exactly the machine-specific keys as not shared', () => {
    expect(MACHINE_KEYS).toEqual(['backend', 'memoryBudget', 'weights', 'pruneSteps']);
    expect(Object.keys(URL_TABLE).filter((k) => !URL_TABLE[k as keyof typeof URL_TABLE].notShared))
      .toEqual(['model', 'task', 'pair', 'side', 'prompt', 'node', 'pos', 'iv', 'mode', 'view', 'custom', 'targets', 'minWeight', 'core', 'compare']);
  });
  it('round-trips every shared key through the table, one key at a time', () => {
    const values: Required<Omit<UrlState, 'custom'>> = {
      model: 'm', task: 't', pair: 0, side: 'a', prompt: 'x = "a', node: 'final_resid:0', pos: 7, iv: ivs, mode: 'mean', view: 'circuit',
      targets: [0, 2047], minWeight: 0, core: 10, compare: 'dense-py-2l',
    };
    for (const [key, value] of Object.entries(values)) {
      const q = formatUrlState({ [key]: value }, '');
      expect(parseUrlState(q), key).toEqual({ state: { [key]: value }, machine: {}, problems: [], unknown: [] });
    }
  });
  it('reads machine-specific keys apart, keeps them as typed in the address bar, and leaves them out of a shared link', () => {
    const search = '?backend=wasm&memoryBudget=512MB&weights=sparse&pruneSteps=10&utm=x&model=old';
    const r = parseUrlState(search);
    expect(r.problems).toEqual([]);
    expect(r.machine).toEqual({ backend: 'wasm', memoryBudget: 512e6, weights: 'sparse', pruneSteps: 10 });
    expect(r.state).toEqual({ model: 'old' });
    const bar = new URLSearchParams(formatUrlState({ model: 'm', pair: 2 }, search));
    expect(Object.fromEntries(bar)).toEqual({ backend: 'wasm', memoryBudget: '512MB', weights: 'sparse', pruneSteps: '10', utm: 'x', model: 'm', pair: '2' });
    const link = new URLSearchParams(formatUrlState({ model: 'm', pair: 2 }, search, { share: true }));
    expect(Object.fromEntries(link)).toEqual({ utm: 'x', model: 'm', pair: '2' });
  });
  it('reports bad machine-specific values by name and ignores them', () => {
    const r = parseUrlState('?backend=tpu&memoryBudget=lots&weights=auto&pruneSteps=0&pair=1');
    expect(r.machine).toEqual({});
    expect(r.state).toEqual({ pair: 1 });
    expect(r.problems.join(' ')).toMatch(/"backend".*"memoryBudget".*not a size.*"weights".*"pruneSteps"/);
  });
  it('reads chosen target tokens and the edge threshold, and reports malformed ones by name', () => {
    expect(parseUrlState('?targets=12,40&minWeight=0.05').state).toEqual({ targets: [12, 40], minWeight: 0.05 });
    for (const bad of ['targets=12', 'targets=1,2,3', 'targets=a,b', 'targets=3,3', 'targets=-1,2', 'minWeight=-1', 'minWeight=Infinity', 'minWeight=']) {
      const r = parseUrlState(`?${bad}&pair=1`);
      expect(r.state, bad).toEqual({ pair: 1 });
      expect(r.problems, bad).toHaveLength(1);
      expect(r.problems[0], bad).toMatch(new RegExp(`^ignored the link's "${bad.split('=')[0]}" \\(.+\\)$`));
    }
    expect(parseUrlState('?minWeight=-0').state.minWeight).toBe(0); // formats back to "0", the same state
  });
  it('opens a link of an older version (a subset of today\'s keys) and names keys it does not know', () => {
    const older = parseUrlState('?model=sparse-py-2l&task=single_double_quote&pair=2&side=b&mode=zero&view=full');
    expect(older.problems).toEqual([]);
    expect(older.unknown).toEqual([]);
    const newer = parseUrlState('?model=m&layoutMode=1&lens=0.3&layoutMode=2&toString=x');
    expect(newer.state).toEqual({ model: 'm' });
    expect(newer.unknown).toEqual(['layoutMode', 'lens', 'toString']);
    // Kept in the address bar as they are: a later version that knows them can still read the link.
    expect(new URLSearchParams(formatUrlState({ model: 'm' }, '?layoutMode=1&lens=0.3')).get('lens')).toBe('0.3');
  });
  it('encodes interventions compactly and rejects malformed ones', () => {
    expect(decodeInterventions(encodeInterventions(ivs))).toEqual(ivs);
    expect(encodeInterventions([ivs[0]!])).toBe('n~3.mlp.post_act:17~m');
    expect(decodeInterventions('')).toEqual([]);
    expect(() => decodeInterventions('e~0.attn.q:1~m')).toThrow(/not n~node~mode/);
    expect(() => decodeInterventions('n~0.attn.q:1~x')).toThrow(/unknown mode/);
    // A restriction over a layer range keeps its range.
    const ranged: Intervention[] = [{ kind: 'circuit', nodes: ['1.attn.q:2', 'final_resid:0'], mode: 'zero', layers: [1, 1] }];
    expect(encodeInterventions(ranged)).toBe('c~z~1.attn.q:2;final_resid:0~1-1');
    expect(decodeInterventions(encodeInterventions(ranged))).toEqual(ranged);
    expect(() => decodeInterventions('c~z~1.attn.q:2~2-1')).toThrow(/first <= last/);
  });
});
