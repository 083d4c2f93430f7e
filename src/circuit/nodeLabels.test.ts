import { describe, expect, it } from 'vitest';
import { countFocusTokens, foldLabelText, labelNode, quoteToken, SILENT, type LabelSnippet } from './nodeLabels';

// A fixture vocabulary: token id -> text.
const VOCAB = [' (', '=', "'", "='", '\n', 'x', ' if', 'a', 'b', 'c'];
const tokenText = (id: number) => VOCAB[id]!;
const D_HEAD = 16;

/** A snippet whose focus token is `id` (the window around it is filler: only the focus token counts). */
const snip = (id: number, value: number): LabelSnippet => ({ value, tokens: [5, 5, id, 5], focus: 2 });

describe('node labels from top snippets', () => {
  it('names the most frequent focus tokens, with counts, and its head for q/k/v', () => {
    // 1.attn.k:35 is in head 2 (35 / 16); positive values are larger than negative ones in size.
    const label = labelNode({
      node: '1.attn.k:35', dHead: D_HEAD, tokenText,
      snippets: { top: [snip(0, 4), snip(1, 3.5), snip(0, 3), snip(2, 2), snip(0, 1), snip(1, 0.5)], bottom: [snip(4, -1.5)] },
    });
    expect(label).toEqual({
      node: '1.attn.k:35', head: 2, sign: '+', snippets: 6, embedding: null,
      tokens: [{ text: ' (', count: 3 }, { text: '=', count: 2 }, { text: "'", count: 1 }],
      text: 'h2 + " ("×3 "="×2 "\'"',
    });
  });

  it('takes the negative list when the node fires more strongly negative, and counts tokens beyond the first three', () => {
    const label = labelNode({
      node: '0.attn.q:3', dHead: D_HEAD, tokenText,
      snippets: { top: [snip(0, 2)], bottom: [snip(6, -9), snip(3, -8), snip(7, -7), snip(8, -6), snip(9, -5)] },
    });
    expect(label?.sign).toBe('−');
    expect(label?.snippets).toBe(5);
    expect(label?.text).toBe('h0 − " if" "=\'" "a" and 2 more');
  });

  it('gives no sign to an unsigned site (mlp.post_act) and breaks count ties by value', () => {
    const label = labelNode({
      node: '0.mlp.post_act:117', dHead: D_HEAD, tokenText,
      snippets: { top: [snip(7, 5), snip(8, 4), snip(8, 3), snip(7, 2), snip(4, 1)], bottom: null },
    });
    expect(label?.sign).toBeNull();
    expect(label?.head).toBeNull();
    expect(label?.text).toBe('"a"×2 "b"×2 "\\n"');
  });

  it('adds the residual channel\'s embedding tokens in the direction it fires', () => {
    const embedding = { top: ['x', ' (', '=', 'a'], bottom: ["'", "='", ' if', 'b'] };
    const neg = labelNode({
      node: '0.attn.act_in:55', dHead: D_HEAD, tokenText, embedding,
      snippets: { top: [snip(0, 1)], bottom: [snip(2, -6), snip(2, -5), snip(3, -4)] },
    });
    expect(neg?.text).toBe('− "\'"×2 "=\'" · emb "\'" "=\'" " if"');
    expect(neg?.embedding).toEqual(["'", "='", ' if']);
    const pos = labelNode({ node: 'final_resid:7', dHead: D_HEAD, tokenText, embedding, snippets: { top: [snip(1, 3)], bottom: [] } });
    expect(pos?.text).toBe('+ "=" · emb "x" " (" "="');
    // Without snippets the embedding alone is shown, with no sign (which way the node fires is unknown).
    const only = labelNode({ node: '1.mlp.resid_delta:7', dHead: D_HEAD, tokenText, embedding, snippets: null });
    expect(only).toMatchObject({ sign: null, tokens: [], snippets: 0, text: 'emb "x" " (" "="' });
  });

  it('ignores an embedding given for a site that is not a residual channel', () => {
    const label = labelNode({
      node: '0.attn.v:1', dHead: D_HEAD, tokenText, embedding: { top: ['x'], bottom: ['a'] },
      snippets: { top: [snip(1, 1)], bottom: [] },
    });
    expect(label?.text).toBe('h0 + "="');
    expect(label?.embedding).toBeNull();
  });

  it('says when a node never fired on the scanned text, and has no label without snippets or embedding', () => {
    expect(labelNode({ node: '0.mlp.post_act:1', dHead: D_HEAD, tokenText, snippets: { top: [], bottom: null } })?.text).toBe(SILENT);
    expect(labelNode({ node: '1.attn.v:40', dHead: D_HEAD, tokenText, snippets: { top: [], bottom: [] } })?.text).toBe(`h2 ${SILENT}`);
    expect(labelNode({ node: '0.attn.q:3', dHead: D_HEAD, tokenText, snippets: null })).toBeNull();
    expect(labelNode({ node: '0.attn.act_in:3', dHead: D_HEAD, tokenText, snippets: null, embedding: null })).toBeNull();
  });

  it('refuses a bad node id or a snippet whose focus lies outside it', () => {
    expect(() => labelNode({ node: '0.mlp.nope:1', dHead: D_HEAD, tokenText, snippets: null })).toThrow(/0\.mlp\.nope/);
    expect(() => countFocusTokens([{ value: 1, tokens: [1], focus: 3 }], tokenText)).toThrow(/focus index 3 is outside its 1 tokens/);
  });
});

describe('label text helpers', () => {
  it('quotes tokens unambiguously', () => {
    expect([' (', '\n', '"', '\t', "'"].map(quoteToken)).toEqual(['" ("', '"\\n"', '"\\""', '"\\t"', '"\'"']);
  });
  it('folds case and both minus signs for search', () => {
    expect(foldLabelText('H3 − " If"')).toBe('h3 - " if"');
  });
});
