import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpeTokenizer } from '../tokenizer/bpe';
import { lookupToken, vocabTexts } from './tokenLookup';

const dir = resolve(__dirname, '../tokenizer/testdata');
const tok = BpeTokenizer.fromDataGym(readFileSync(join(dir, 'encoder.json'), 'utf8'), readFileSync(join(dir, 'vocab.bpe'), 'utf8'));

describe('target token lookup (the model tokenizer decides what one token is)', () => {
  it('accepts exactly one token and returns its id and text', () => {
    const r = lookupToken(tok, '"');
    expect(r).toEqual({ ok: true, token: { id: tok.tokenId('"'), text: '"' } });
  });
  it('refuses text that is several tokens, listing them, and empty text', () => {
    const r = lookupToken(tok, '"hello world');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.pieces.length).toBeGreaterThan(1);
    expect(r.pieces.map((p) => p.text).join('')).toBe('"hello world');
    expect(r.pieces.map((p) => p.id)).toEqual(tok.encode('"hello world'));
    expect(lookupToken(tok, '')).toEqual({ ok: false, pieces: [] });
  });
  it('lists every id the model has logits for, null past the tokenizer', () => {
    const texts = vocabTexts(tok, tok.vocabSize + 3);
    expect(texts).toHaveLength(tok.vocabSize + 3);
    expect(texts[tok.tokenId('"')!]).toBe('"');
    expect(texts.slice(-3)).toEqual([null, null, null]);
  });
});
