import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpeTokenizer } from '../tokenizer/bpe';
import {
  buildCustomTask, CustomTaskError, decodeCustomTaskSpec, encodeCustomTaskSpec, escapeText, MAX_URL_SPEC_CHARS, parseExamples,
  splitPairs, taskLabel, unescapeText, type TaskTokenizer,
} from './customTask';
import { taskFileSchema } from './taskSchema';

/** A stand-in tokenizer: greedy longest match over every printable ASCII character, newline, and a few longer tokens. */
function fakeTokenizer(): TaskTokenizer {
  const vocab = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), '\n', '\t', ':\n', ' else', 'hello'];
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const longest = Math.max(...vocab.map((t) => t.length));
  return {
    encode(text) {
      const out: number[] = [];
      for (let i = 0; i < text.length;) {
        let n = Math.min(longest, text.length - i);
        while (n > 1 && !ids.has(text.slice(i, i + n))) n--;
        const id = ids.get(text.slice(i, i + n));
        if (id === undefined) throw new Error(`no token for ${JSON.stringify(text[i])}`);
        out.push(id);
        i += n;
      }
      return out;
    },
    tokenId: (t) => ids.get(t) ?? null,
    tokenString: (id) => vocab[id]!,
  };
}

const tok = fakeTokenizer();
const DQ = tok.tokenId('"')!;
const SQ = tok.tokenId("'")!;

function quotePairs(n: number): string {
  return Array.from({ length: n }, (_, i) => `x${i} = "v${i} || x${i} = 'v${i}`).join('\n');
}

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof CustomTaskError) return e.problems;
    throw e;
  }
  throw new Error('expected a CustomTaskError');
}

describe('user-defined task builder', () => {
  it('builds contrast pairs and pairs up single prompts, in the task file schema', () => {
    const examples = ['a = "x || a = \'x', '', 'A| b = "y', 'B| c = \'z', 'A| d = "w', 'A| e = "v'].join('\n');
    const { task, notes, shared } = buildCustomTask({ name: 'quotes', targets: ['"', "'"], examples }, tok, 64);
    expect(taskFileSchema.safeParse(task).success).toBe(true);
    expect(task.task).toBe('custom_quotes');
    expect(taskLabel(task.task)).toBe('custom: quotes');
    expect(task.target_tokens).toEqual(['"', "'"]);
    expect(shared).toBe(true); // 3 pairs: too few to split
    expect(task.train).toEqual(task.test);
    expect(notes[0]).toMatch(/only 3 pairs .*both to find the circuit and to test it/);
    const [pair, mixed, same] = task.train;
    expect(pair!.a).toEqual({ text: 'a = "x', tokens: tok.encode('a = "x'), correct: DQ, alternative: SQ });
    expect(pair!.b).toMatchObject({ text: "a = 'x", correct: SQ, alternative: DQ });
    expect(mixed!.a.text).toBe('b = "y');
    expect(mixed!.b).toMatchObject({ text: "c = 'z", correct: SQ });
    expect(same!.a).toMatchObject({ text: 'd = "w', correct: DQ });
    expect(same!.b).toMatchObject({ text: 'e = "v', correct: DQ });
    expect(mixed!.source).toBe('lines 3 and 4');
  });

  it('says which target is not a single token', () => {
    const problems = problemsOf(() => buildCustomTask({ name: 't', targets: ['hello world', "'"], examples: quotePairs(2) }, tok, 64));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^target A "hello world" is not a single token .*\(it is 7 tokens: "hello" " " "w"/);
    const b = problemsOf(() => buildCustomTask({ name: 't', targets: ['"', ' els'], examples: quotePairs(2) }, tok, 64));
    expect(b[0]).toMatch(/^target B " els" is not a single token/);
    expect(problemsOf(() => buildCustomTask({ name: 't', targets: ['"', '"'], examples: quotePairs(2) }, tok, 64)).join()).toMatch(/the same/);
    // Multi-character single tokens are fine, given with escapes in the form.
    const ok = buildCustomTask({ name: 't', targets: [unescapeText(':\\n'), ' else'], examples: 'if c || y = a if c' }, tok, 64);
    expect(ok.task.train[0]!.a.correct).toBe(tok.tokenId(':\n'));
  });

  it('rejects a prompt longer than the context, naming it', () => {
    const long = 'x'.repeat(70);
    const problems = problemsOf(() => buildCustomTask({ name: 't', targets: ['"', "'"], examples: `${quotePairs(2)}\nB| ${long}` }, tok, 64));
    expect(problems.some((p) => /^the prompt on line 3 \("x{37}\.\.\."\) is 70 tokens long; this model's context holds 64$/.test(p))).toBe(true);
    // Exactly the context is allowed.
    expect(() => buildCustomTask({ name: 't', targets: ['"', "'"], examples: `A| ${'y'.repeat(64)}\nB| z` }, tok, 64)).not.toThrow();
  });

  it('reports malformed lines, an odd number of single prompts and bad names', () => {
    const problems = problemsOf(() => buildCustomTask({ name: 't', targets: ['"', "'"], examples: 'A| a\nno separator here\nB| b\nA| c' }, tok, 64));
    expect(problems).toContain('line 2: write "prompt A || prompt B" (a contrast pair), "A| prompt" or "B| prompt"');
    expect(problems.join()).toMatch(/3 single prompts .*even number/);
    expect(problemsOf(() => buildCustomTask({ name: 'Bad Name', targets: ['"', "'"], examples: quotePairs(1) }, tok, 64)).join()).toMatch(/name/);
    expect(problemsOf(() => buildCustomTask({ name: 't', targets: ['"', "'"], examples: '\n\n' }, tok, 64)).join()).toMatch(/no examples/);
    expect(parseExamples(' || x').problems).toEqual(['line 1: a contrast pair needs a prompt on both sides of " || "']);
  });

  it('splits deterministically: a fixed 20% test set from 6 pairs on, all pairs for both below', () => {
    for (const n of [1, 5]) {
      const s = splitPairs([...Array(n).keys()]);
      expect(s.shared).toBe(true);
      expect(s.train).toEqual(s.test);
    }
    for (const [n, nTest] of [[6, 1], [8, 2], [10, 2], [100, 20]] as const) {
      const items = [...Array(n).keys()];
      const s = splitPairs(items);
      expect(s.shared).toBe(false);
      expect(s.test).toHaveLength(nTest);
      expect([...s.train, ...s.test].sort((a, b) => a - b)).toEqual(items);
      expect(splitPairs(items)).toEqual(s); // same input, same split
      expect(s.train).toEqual([...s.train].sort((a, b) => a - b)); // input order kept
    }
    const built = buildCustomTask({ name: 'q', targets: ['"', "'"], examples: quotePairs(8) }, tok, 64);
    expect(built.shared).toBe(false);
    expect(built.task.train).toHaveLength(6);
    expect(built.task.test).toHaveLength(2);
    expect(built.notes[0]).toBe('8 pairs: 6 to find the circuit (train), 2 held out for test (fixed split)');
    const again = buildCustomTask({ name: 'q', targets: ['"', "'"], examples: quotePairs(8) }, tok, 64);
    expect(again.task).toEqual(built.task);
  });

  it('unescapes prompts and warns when the tokenizer merges a prompt with its target', () => {
    expect(unescapeText('a\\nb\\tc\\\\n\\x')).toBe('a\nb\tc\\n\\x');
    expect(unescapeText(escapeText('x\n\ty\\n'))).toBe('x\n\ty\\n');
    const { task, notes } = buildCustomTask({ name: 'm', targets: ['o', 'a'], examples: 'def f():\\n    hell || x = y' }, tok, 64);
    expect(task.train[0]!.a.text).toBe('def f():\n    hell');
    expect(notes.join()).toMatch(/merges the end of 1 prompt with the target.*line 1/);
  });

  it('round-trips a spec through its link form, with a size limit', () => {
    const spec = { name: 'q', targets: ['"', "'"] as [string, string], examples: 'x = "é || x = \'é\nA| 🙂 "', description: 'quotes' };
    const s = encodeCustomTaskSpec(spec)!;
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCustomTaskSpec(s)).toEqual(spec);
    expect(encodeCustomTaskSpec({ ...spec, examples: 'x'.repeat(MAX_URL_SPEC_CHARS) })).toBeNull();
    expect(() => decodeCustomTaskSpec('not+base64')).toThrow(/not an encoded task/);
    expect(() => decodeCustomTaskSpec(btoa(JSON.stringify(['BAD', ['"', "'"], '', ''])))).toThrow(/name/);
  });
});

const tokDir = resolve(__dirname, '../../public/models/sparse-py-2l/tokenizer');
describe.skipIf(!existsSync(join(tokDir, 'encoder.json')))('user-defined task on the shipped tokenizer', () => {
  it('quote pairs: the two quotes are single tokens and the prompts tokenize as in text', () => {
    const real = BpeTokenizer.fromDataGym(readFileSync(join(tokDir, 'encoder.json'), 'utf8'), readFileSync(join(tokDir, 'vocab.bpe'), 'utf8'));
    const { task, notes } = buildCustomTask({ name: 'quotes', targets: ['"', "'"], examples: 'x = "hello || x = \'hello\nprint("a b c || print(\'a b c' }, real, 64);
    expect(task.train[0]!.a.correct).toBe(real.tokenId('"'));
    expect(task.train[0]!.a.tokens).toEqual(real.encode('x = "hello'));
    expect(notes.join()).not.toMatch(/merges/);
    expect(problemsOf(() => buildCustomTask({ name: 'q', targets: ['"', 'hello world'], examples: 'a || b' }, real, 64))[0]).toMatch(/^target B "hello world" is not a single token/);
  });
});
