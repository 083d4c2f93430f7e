import { describe, expect, it } from 'vitest';
import type { CircuitFile } from '../../circuit/circuitSchema';
import { layoutCircuit } from './layout';
import { searchNodes } from './navigation';

const node = (id: string) => ({ site: id.slice(0, id.lastIndexOf(':')), channel: Number(id.slice(id.lastIndexOf(':') + 1)) });
const circuit = {
  nodes: ['0.attn.act_in:5', '0.attn.q:3', '0.attn.q:35', '0.mlp.post_act:3', '1.attn.act_in:5'].map(node),
  edges: [],
} as unknown as CircuitFile;
const LABELS: Record<string, string> = {
  '0.attn.act_in:5': '− "\'"×5 "=\'" · emb "\'"',
  '0.attn.q:3': 'h0 + " if"×8',
  '0.attn.q:35': 'h2 − "=\'"×3 " If"',
  '0.mlp.post_act:3': '"\\n"×4 ")\\n"',
};
const labelOf = (id: string) => LABELS[id];

describe('finding nodes by id or label', () => {
  const g = layoutCircuit(circuit, 16, 2);
  const find = (q: string, labels = true) => searchNodes(g.nodes, q, labels ? labelOf : undefined).map((n) => n.id);

  it('puts the exact id first, then ids containing the text, then labels containing it', () => {
    expect(find('0.attn.q:3')).toEqual(['0.attn.q:3', '0.attn.q:35']);
    // "3" is in three ids; no label holds a "3" outside them except 0.attn.q:35's "×3", already found by id.
    expect(find(':3')).toEqual(['0.attn.q:3', '0.attn.q:35', '0.mlp.post_act:3']);
    expect(find('h2')).toEqual(['0.attn.q:35']);
  });

  it('matches label text ignoring case and either minus sign, each node once', () => {
    expect(find('" if"')).toEqual(['0.attn.q:3', '0.attn.q:35']);
    expect(find('- "=\'"')).toEqual(['0.attn.q:35']);
    expect(find('"=\'"')).toEqual(['0.attn.act_in:5', '0.attn.q:35']);
    expect(find('"\\n"')).toEqual(['0.mlp.post_act:3']);
    expect(find('emb')).toEqual(['0.attn.act_in:5']);
  });

  it('finds by id alone without labels, and nothing for blank or unknown text', () => {
    expect(find('" if"', false)).toEqual([]);
    expect(find('act_in:5', false)).toEqual(['0.attn.act_in:5', '1.attn.act_in:5']);
    expect(find('   ')).toEqual([]);
    expect(find('no such thing')).toEqual([]);
  });
});
