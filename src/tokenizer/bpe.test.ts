import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BpeTokenizer, TokenizerError } from './bpe';
import { BYTE_TO_CHAR, RANK_TO_BYTE, dataGymFiles } from './dataGym';

const dir = join(__dirname, 'testdata');
const encoderJson = readFileSync(join(dir, 'encoder.json'), 'utf8');
const vocabBpe = readFileSync(join(dir, 'vocab.bpe'), 'utf8');
const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as { text: string; ids: number[] }[];
const tok = BpeTokenizer.fromDataGym(encoderJson, vocabBpe);
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('data-gym byte tables', () => {
  it('match GPT-2 bytes_to_unicode and tiktoken rank order', () => {
    expect(new Set(RANK_TO_BYTE).size).toBe(256);
    expect(RANK_TO_BYTE.slice(0, 3)).toEqual([33, 34, 35]);
    expect(RANK_TO_BYTE[188]).toBe(0); // first non-printable byte comes right after the 188 printable ones
    expect(BYTE_TO_CHAR[32]).toBe('\u0120'); // 'Ġ'
    expect(BYTE_TO_CHAR[10]).toBe('\u010a'); // 'Ċ'
    expect(BYTE_TO_CHAR[0xad]).toBe('\u0143'); // soft hyphen is the last non-printable byte
    expect(BYTE_TO_CHAR[65]).toBe('A');
  });
});

describe('BpeTokenizer (fixture trained in Python, ids from tiktoken)', () => {
  it('has the expected vocabulary', () => {
    expect(tok.vocabSize).toBe(377);
    expect(tok.endOfTextId).toBe(376);
    expect(tok.tokenId('<|endoftext|>')).toBe(376);
  });

  it.each(golden.map((g) => [JSON.stringify(g.text), g] as const))('encodes %s exactly like tiktoken', (_, g) => {
    expect(tok.encode(g.text)).toEqual(g.ids);
    expect(tok.decode(g.ids)).toBe(g.text);
  });

  it('round-trips arbitrary Unicode text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => tok.decode(tok.encode(s)) === s),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => tok.decode(tok.encode(s)) === s),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('def', ' self', '\n', '\r\n', '  ', '\t', '1234', '😀', '\u00a0', ' ', 'x', '//'), { maxLength: 20 }),
        (parts) => {
          const s = parts.join('');
          return tok.decode(tok.encode(s)) === s;
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps a leading byte-order mark', () => {
    expect(tok.decode(tok.encode('\ufeffabc'))).toBe('\ufeffabc');
  });

  it('encodes <|endoftext|> as ordinary text unless special tokens are allowed', () => {
    const plain = tok.encode('<|endoftext|>');
    expect(plain).not.toContain(376);
    expect(tok.decode(plain)).toBe('<|endoftext|>');
    expect(tok.encode('a<|endoftext|>', { allowSpecial: true })).toEqual([...tok.encode('a'), 376]);
    expect(tok.decode([...tok.encode('a'), 376])).toBe('a<|endoftext|>');
  });

  it('refuses unknown token ids in decode with a clear error', () => {
    expect(() => tok.decode([5, 377])).toThrow('cannot decode: unknown token id 377 (this tokenizer has ids 0..376) at position 1');
    expect(() => tok.decode([-1])).toThrow(TokenizerError);
    expect(() => tok.decode([1.5])).toThrow('unknown token id 1.5');
  });

  it('shows tokens and looks single tokens up', () => {
    const id = tok.tokenId(' print');
    expect(id).not.toBeNull();
    expect(tok.tokenString(id!)).toBe(' print');
    expect(tok.tokenId(' print the whole thing')).toBeNull();
    expect(tok.tokenId('')).toBeNull();
    expect(tok.tokenId('A')).toBe(32);
    // A lone continuation byte displays as the replacement character.
    expect(tok.tokenString(RANK_TO_BYTE.indexOf(0xa9))).toBe('\ufffd');
  });
});

describe('BpeTokenizer.fromDataGym validation', () => {
  it('builds from generated files and merges as listed', () => {
    const f = dataGymFiles([
      [utf8('a'), utf8('b')],
      [utf8('ab'), utf8('c')],
    ]);
    const t = BpeTokenizer.fromDataGym(f.encoderJson, f.vocabBpe);
    // pieces "abc", " ab", " c"; 220 is the space byte, 66 is 'c'
    expect(t.encode('abc ab c')).toEqual([257, 220, 256, 220, 66]);
    expect(t.vocabSize).toBe(259);
    expect(t.decode(t.encode('abcabc'))).toBe('abcabc');
    expect(t.encode('abcabc')).toEqual([257, 257]);
  });

  it('gives <|endoftext|> id vocabSize - 1 when encoder.json has none', () => {
    const f = dataGymFiles([[utf8('a'), utf8('b')]]);
    const enc = JSON.parse(f.encoderJson) as Record<string, number>;
    delete enc['<|endoftext|>'];
    const t = BpeTokenizer.fromDataGym(JSON.stringify(enc), f.vocabBpe, { vocabSize: 300 });
    expect(t.endOfTextId).toBe(299);
    expect(t.vocabSize).toBe(300);
    expect(() => t.decode([280])).toThrow('unknown token id 280');
    expect(BpeTokenizer.fromDataGym(JSON.stringify(enc), f.vocabBpe).endOfTextId).toBe(257);
  });

  it('fails clearly when encoder.json and vocab.bpe disagree', () => {
    const f = dataGymFiles([
      [utf8('a'), utf8('b')],
      [utf8('c'), utf8('d')],
    ]);
    const enc = JSON.parse(f.encoderJson) as Record<string, number>;
    enc['ab'] = 257;
    enc['cd'] = 256;
    expect(() => BpeTokenizer.fromDataGym(JSON.stringify(enc), f.vocabBpe)).toThrow(
      'encoder.json and vocab.bpe disagree: token "ab" has id 257 in encoder.json but rank 256 from vocab.bpe',
    );
    const missing = JSON.parse(f.encoderJson) as Record<string, number>;
    delete missing['cd'];
    expect(() => BpeTokenizer.fromDataGym(JSON.stringify(missing), f.vocabBpe)).toThrow(
      'encoder.json lists 257 mergeable tokens, vocab.bpe makes 258 (256 bytes + 2 merges); rank 257 ("cd") is not in encoder.json',
    );
    const extra = { ...(JSON.parse(f.encoderJson) as Record<string, number>), xyz: 999 };
    expect(() => BpeTokenizer.fromDataGym(JSON.stringify(extra), f.vocabBpe)).toThrow(
      'token "xyz" (id 999) is not made by the merges in vocab.bpe',
    );
    expect(() => BpeTokenizer.fromDataGym(f.encoderJson, f.vocabBpe + 'a b c\n')).toThrow('vocab.bpe line 4: expected two tokens');
    expect(() => BpeTokenizer.fromDataGym(f.encoderJson, f.vocabBpe + 'a b\n')).toThrow('makes a token that already has rank 256');
    expect(() => BpeTokenizer.fromDataGym(f.encoderJson, f.vocabBpe + 'a \u4e00\n')).toThrow('not a data-gym byte');
    expect(() => BpeTokenizer.fromDataGym('{not json', f.vocabBpe)).toThrow('encoder.json is not valid JSON');
    expect(() => BpeTokenizer.fromDataGym('{"a": -1}', f.vocabBpe)).toThrow('encoder.json must be an object');
    expect(() => BpeTokenizer.fromDataGym(f.encoderJson, f.vocabBpe, { vocabSize: 200 })).toThrow(
      "encoder.json: the tokenizer has 259 token ids but the model's vocab_size is 200",
    );
  });
});
