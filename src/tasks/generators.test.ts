import { describe, expect, it } from 'vitest';
import { TINYPYTHON_PAT_STR } from '../tokenizer/bpe';
import { identifierPool, type SourceFile } from './corpus';
import { splitPairs, TASK_SPECS } from './generators';
import { promptAt, type PromptTokenizer } from './promptAt';

/** A stand-in tokenizer: every pre-token chunk of the tinypython split pattern is one token (ids on first sight).
 *  Like the real BPE it keeps punctuation runs such as `")` or `:\n` together, which is what promptAt must handle. */
function chunkTokenizer(): PromptTokenizer & { vocab: string[] } {
  const vocab: string[] = [];
  const ids = new Map<string, number>();
  const id = (s: string) => {
    let i = ids.get(s);
    if (i === undefined) {
      i = vocab.length;
      vocab.push(s);
      ids.set(s, i);
    }
    return i;
  };
  const re = new RegExp(TINYPYTHON_PAT_STR, 'gu');
  return {
    vocab,
    // Like the real BPE, " enumerate" is more than one token (its first is " en").
    encode: (text) => [...text.matchAll(re)].flatMap((m) => (m[0] === ' enumerate' ? [id(' en'), id('umerate')] : [id(m[0])])),
    decode: (toks) => toks.map((t) => vocab[t]).join(''),
    tokenBytes: (t) => new TextEncoder().encode(vocab[t]),
    tokenId: (s) => id(s),
  };
}

const CORPUS: SourceFile[] = [
  {
    path: 'a.py',
    text: [
      'import os.path',
      'from collections import OrderedDict',
      'def f(items, key):',
      '    """Docstring with "quoted" words.',
      '    if x == 1: not code',
      '    """',
      '    name = "alpha" + key',
      "    other = 'beta' % key",
      '    values = [alpha, beta, gamma]',
      '    pair = (alpha, beta)',
      '    process(alpha, beta)',
      '    with open(path) as fh:',
      '        data = fh',
      '    for item in items:',
      '        if item == key:',
      '            return True',
      '        result = item if item is None else key',
      '    for i, it in enumerate(items):',
      '        log(f"item {it} of {count}")',
      '        log(f"done {count} items")',
      '    for i in range(count):',
      '        pass',
      '    while True:',
      '        if ready:',
      '            break',
      '    return False',
      '',
    ].join('\n'),
  },
];

describe('promptAt', () => {
  const tok = chunkTokenizer();
  it('returns the prompt tokens and the token that follows in the real text', () => {
    const p = promptAt(tok, 'while True', ':\n    pass\n', 10)!;
    expect(p.text).toBe('while True');
    expect(tok.vocab[p.next]).toBe(':\n');
  });
  it('rejects a decision point inside a token, and an unexpected next token', () => {
    expect(promptAt(tok, 'print("a', '")\n', 10, tok.tokenId('"')!)).toBeNull(); // `")` is one token
    expect(promptAt(tok, 'x = "a', '" + y\n', 10, tok.tokenId("'")!)).toBeNull();
    expect(promptAt(tok, 'x = "a', '" + y\n', 10, tok.tokenId('"')!)).not.toBeNull();
  });
  it('truncates on the left', () => {
    const p = promptAt(tok, 'a b c d e f', ' g', 3)!;
    expect(p.text).toBe(' d e f');
  });
});

describe('task generators', () => {
  it.each(TASK_SPECS.map((s) => [s.name, s] as const))('%s: contrast pairs with swapped single-token targets', (_name, spec) => {
    const tok = chunkTokenizer();
    let s = 1;
    const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
    const files = [...CORPUS, ...Array.from({ length: 3 }, (_, i) => ({ path: `t${i}.py`, text: CORPUS[0]!.text.replaceAll('item', `it${i}`) }))];
    const pairs = spec.generate(files, tok, { maxTokens: 24, contextLines: 3, random });
    expect(pairs.length).toBeGreaterThan(0);
    const [t0, t1] = spec.targets.map((t) => tok.tokenId(t)!);
    for (const p of pairs) {
      expect(new Set([p.a.correct, p.a.alternative])).toEqual(new Set([t0, t1]));
      expect(p.b.correct).toBe(p.a.alternative);
      expect(p.b.alternative).toBe(p.a.correct);
      expect(p.a.tokens.length).toBeLessThanOrEqual(24);
      expect(p.a.text).toBe(tok.decode(p.a.tokens));
      // Never mined from inside a docstring (its lines may only appear as context).
      for (const q of [p.a, p.b]) expect(q.text.split('\n').at(-1)).not.toMatch(/not code|Docstring/);
    }
  });

  it('split: deterministic, capped, no prompt shared between train and test', () => {
    const mk = (i: number) => ({ a: { text: 'a', tokens: [i % 7], correct: 1, alternative: 2 }, b: { text: 'b', tokens: [100 + i], correct: 2, alternative: 1 } });
    const pairs = Array.from({ length: 50 }, (_, i) => mk(i));
    const rnd = (seed: number) => {
      let s = seed;
      return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
    };
    const one = splitPairs(pairs, rnd(3), 40, 0.25);
    const two = splitPairs(pairs, rnd(3), 40, 0.25);
    expect(one).toEqual(two);
    expect(one.test.length).toBe(10);
    const testPrompts = new Set(one.test.flatMap((p) => [p.a.tokens.join(), p.b.tokens.join()]));
    for (const p of one.train) expect(testPrompts.has(p.a.tokens.join()) || testPrompts.has(p.b.tokens.join())).toBe(false);
  });

  it('identifier pool skips keywords', () => {
    const pool = identifierPool(CORPUS);
    expect(pool).toContain('items');
    expect(pool).not.toContain('return');
  });
});
