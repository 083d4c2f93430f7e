import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { circuitFileSchema } from '../circuit/circuitSchema';
import type { Intervention } from '../model/interventions';
import { parseNodeId } from '../model/sites';
import { cleanly, fuzzParams, jsonMutations, textMutations } from '../model/testing/fuzz';
import { parseSettings } from './explorerSettings';
import { makeSession, parseSession } from './sessionFile';
import { decodeInterventions, encodeInterventions } from './urlCodec';
import { formatUrlState, parseUrlState, URL_TABLE, type UrlState } from './urlState';

/**
 * Property: a session file or a link, random or a corrupted valid one, gives a state that keeps the schemas'
 * promises (every node id addresses a node; what parses formats back to the same state) or a readable Error
 * (session) / one problem per rejected key (link, whose other keys still apply); never an engine error.
 */
const DIR = resolve(__dirname, '../../test-fixtures/openai-small/converted');
const circuit = circuitFileSchema.parse(JSON.parse(readFileSync(join(DIR, 'circuits/single_double_quote.json'), 'utf8')));
const ivs: Intervention[] = [
  { kind: 'node', node: '0.mlp.post_act:17', mode: 'mean' },
  { kind: 'edge', source: '0.attn.act_in:2', target: '0.attn.v:9', mode: 'zero' },
  { kind: 'circuit', nodes: ['0.attn.q:1', 'final_resid:4'], mode: 'mean' },
];
const session = makeSession({
  model: 'm', task: 'custom_q', mode: 'mean', view: 'circuit', interventions: ivs,
  selection: { pair: 2, side: 'b', node: '0.attn.k:3', pos: 4 }, circuit,
  customTask: { name: 'q', targets: ['"', "'"], examples: 'x = "a || x = \'a' }, settings: { targets: '3,4', minWeight: '0.5' },
});
const sessionText = JSON.stringify(session);

function nodesOf(list: readonly Intervention[]): string[] {
  return list.flatMap((iv) => (iv.kind === 'node' ? [iv.node] : iv.kind === 'edge' ? [iv.source, iv.target] : iv.nodes));
}

describe('session files, fuzzed', () => {
  it('random and corrupted session files: a valid session or "not JSON" / "not an explorer session"', () => {
    const text = fc.oneof(fc.string({ maxLength: 80, unit: 'binary' }), fc.json({ maxDepth: 3 }), textMutations(sessionText), jsonMutations(session).map((v) => JSON.stringify(v) ?? ''));
    let accepted = 0;
    fc.assert(fc.property(text, (t) => {
      const s = cleanly(() => parseSession(t), [Error], /^(not JSON: |not an explorer session: .+ at )/);
      if (!s) return;
      accepted++;
      for (const id of [...nodesOf(s.interventions), ...(s.selection.node ? [s.selection.node] : [])]) expect(() => parseNodeId(id)).not.toThrow();
      expect(parseSession(JSON.stringify(s))).toEqual(s);
      // Its settings read like a link: never a throw, each bad or unknown key named, the good ones round-trip.
      const settings = parseSettings(s.settings ?? {});
      for (const p of settings.problems) expect(p).toMatch(/^ignored the session/s);
      expect(parseSettings(Object.fromEntries(new URLSearchParams(formatUrlState(settings.state, '')))).state).toEqual(settings.state);
    }), fuzzParams(300));
    expect(accepted).toBeGreaterThan(0);
  });
});

const validQuery = formatUrlState(
  { model: 'm-1', task: 'custom_q', pair: 3, side: 'b', prompt: 'x = "a', node: '1.attn.k:4', pos: 5, iv: ivs, mode: 'zero', view: 'full', custom: { name: 'q', targets: ['"', "'"], examples: 'x = "a || x = \'a' }, targets: [3, 4], minWeight: 0.5 },
  '?backend=wasm&other=1',
);

/** The shared state as a link carries it: empty values are left out of links (formatUrlState), so an empty
 *  string or intervention list is the same as none. */
function normal(s: UrlState): UrlState {
  const out: Record<string, unknown> = { ...s };
  for (const [k, v] of Object.entries(out)) if (v === '' || (Array.isArray(v) && v.length === 0)) delete out[k];
  return out as UrlState;
}

describe('links (URL state), fuzzed', () => {
  const query = fc.oneof(
    fc.string({ maxLength: 80, unit: 'binary' }),
    fc.webQueryParameters().map((q) => `?${q}`),
    fc.dictionary(fc.constantFrom(...Object.keys(URL_TABLE)), fc.string({ maxLength: 30, unit: 'binary' })).map((d) => `?${new URLSearchParams(d)}`),
    textMutations(validQuery),
  );

  it('parseUrlState never throws; each rejected key is one problem naming it; the rest round-trips', () => {
    fc.assert(fc.property(query, (q) => {
      const { state, problems } = parseUrlState(q);
      for (const p of problems) expect(p).toMatch(/^ignored the link's "\w+" \(.+\)$/s);
      const keys = new Set(new URLSearchParams(q).keys());
      const tableKeys = Object.keys(URL_TABLE).filter((k) => keys.has(k));
      expect(problems.length).toBeLessThanOrEqual(tableKeys.length);
      for (const id of [...nodesOf(state.iv ?? []), ...(state.node ? [state.node] : [])]) expect(() => parseNodeId(id)).not.toThrow();
      if (state.pair !== undefined) expect(Number.isSafeInteger(state.pair) && state.pair >= 0).toBe(true);
      expect(normal(parseUrlState(formatUrlState(state, '')).state)).toEqual(normal(state));
    }), fuzzParams(400));
  });

  it('the intervention codec: a list that re-encodes to itself, or a readable Error', () => {
    const text = fc.oneof(fc.string({ maxLength: 60, unit: 'binary' }), textMutations(encodeInterventions(ivs)));
    fc.assert(fc.property(text, (t) => {
      const list = cleanly(() => decodeInterventions(t), [Error], /intervention/);
      if (list) expect(decodeInterventions(encodeInterventions(list))).toEqual(list);
    }), fuzzParams(400));
  });
});
