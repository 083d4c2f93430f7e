import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { circuitNodeIds } from '../circuit/circuitFile';
import { parseNodeId } from '../model/sites';
import { cleanly, cleanlyAsync, fuzzParams, jsonMutations, textMutations } from '../model/testing/fuzz';
import {
  buildCustomTask, CustomTaskError, decodeCustomTaskSpec, encodeCustomTaskSpec, parseExamples, type CustomTaskSpec, type TaskTokenizer,
} from '../tasks/customTask';
import { taskFileSchema } from '../tasks/taskSchema';
import { fetchCircuit, fetchTask, fetchTaskList } from './taskFiles';

/**
 * Property: a task file, circuit file, task index or user-defined task definition, random or a corrupted valid
 * one, gives a result that keeps its schema's promises or an Error whose message names the file or the problem;
 * never an engine error. The files are served by a stubbed fetch, so the whole read path (HTTP answer, JSON, zod)
 * runs as in the app.
 */
const DIR = resolve(__dirname, '../../test-fixtures/openai-small/converted');
const taskText = readFileSync(join(DIR, 'tasks/single_double_quote.json'), 'utf8');
const circuitText = readFileSync(join(DIR, 'circuits/single_double_quote.json'), 'utf8');

function serve(body: string): void {
  vi.stubGlobal('fetch', async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }));
}
afterEach(() => vi.unstubAllGlobals());

/** Random text, or a corrupted (text-level or structural) copy of a valid document. */
const corrupted = (valid: string) => fc.oneof(
  fc.string({ maxLength: 80, unit: 'binary' }),
  fc.json({ maxDepth: 3 }),
  textMutations(valid),
  jsonMutations(JSON.parse(valid)).map((v) => JSON.stringify(v) ?? 'undefined'),
);

describe('task and circuit files, fuzzed', () => {
  it('tasks/<task>.json', async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(corrupted(taskText), async (body) => {
      serve(body);
      const t = await cleanlyAsync(() => fetchTask('/m/', 'quote'), [Error], /^tasks\/quote\.json is (missing|invalid: .+)/);
      if (!t) return;
      accepted++;
      expect(taskFileSchema.safeParse(t).success).toBe(true);
    }), fuzzParams(150));
    expect(accepted, 'some corrupted files still parse (the success path was exercised)').toBeGreaterThan(0);
  });

  it('circuits/<task>.json', async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(corrupted(circuitText), async (body) => {
      serve(body);
      const c = await cleanlyAsync(() => fetchCircuit('/m/', 'quote'), [Error], /^circuits\/quote\.json is invalid: .+ at /);
      if (!c) return;
      accepted++;
      // Every node of an accepted circuit is a node the runtime can address.
      for (const id of circuitNodeIds(c)) expect(() => parseNodeId(id)).not.toThrow();
    }), fuzzParams(250));
    expect(accepted).toBeGreaterThan(0);
  });

  it('tasks/index.json', async () => {
    await fc.assert(fc.asyncProperty(corrupted('{"tasks":["single_double_quote","while_return_true_beeg"]}'), async (body) => {
      serve(body);
      const names = await cleanlyAsync(() => fetchTaskList('/m/', null), [Error], /^tasks\/index\.json is invalid: /);
      if (names) for (const n of names) expect(n).toMatch(/^[a-z0-9_]+$/);
    }), fuzzParams(150));
  });
});

// A byte-level tokenizer: every UTF-16 unit below 256 is one token, anything else is not in the vocabulary.
const tok: TaskTokenizer = {
  encode: (text) => [...text].map((ch) => ch.charCodeAt(0) % 256),
  tokenId: (text) => (text.length === 1 && text.charCodeAt(0) < 256 ? text.charCodeAt(0) : null),
  tokenString: (id) => String.fromCharCode(id),
};
const spec: CustomTaskSpec = {
  name: 'quotes',
  targets: ['"', "'"],
  examples: 'x = "a || x = \'a\nA| y = "b\nB| y = \'b\nprint("c || print(\'c\nA| s = "\\n\nB| s = \'\\t',
  description: 'closing quote',
};

describe('user-defined task definitions, fuzzed', () => {
  it('the link form: random and corrupted strings decode to a valid spec or a readable Error', () => {
    const encoded = encodeCustomTaskSpec(spec)!;
    const input = fc.oneof(fc.string({ maxLength: 60, unit: 'binary' }), fc.base64String({ maxLength: 80 }), textMutations(encoded));
    fc.assert(fc.property(input, (s) => {
      const back = cleanly(() => decodeCustomTaskSpec(s), [Error]);
      if (back) expect(decodeCustomTaskSpec(encodeCustomTaskSpec(back) ?? encoded)).toEqual(encodeCustomTaskSpec(back) ? back : spec);
    }), fuzzParams(300));
  });

  it('building a task from a corrupted spec or examples text gives a task or a CustomTaskError listing problems', () => {
    const specs = fc.oneof(jsonMutations(spec), fc.tuple(fc.string({ maxLength: 200 }), fc.string({ maxLength: 3 })).map(([examples, t]) => ({ ...spec, examples, targets: ['"', t] })));
    fc.assert(fc.property(specs, fc.integer({ min: 1, max: 40 }), (s, blockSize) => {
      const built = cleanly(() => buildCustomTask(s, tok, blockSize), [CustomTaskError]);
      if (!built) return;
      expect(taskFileSchema.safeParse(built.task).success).toBe(true);
      for (const p of [...built.task.train, ...built.task.test]) expect(Math.max(p.a.tokens.length, p.b.tokens.length)).toBeLessThanOrEqual(blockSize);
    }), fuzzParams(300));
  });

  it('parseExamples never throws: every line is an example or a problem naming the line', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200, unit: 'binary' }), textMutations(spec.examples)), (text) => {
      const { examples, problems } = parseExamples(text);
      const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '').length;
      expect(examples.length + problems.length).toBe(lines);
      for (const p of problems) expect(p).toMatch(/^line \d+: /);
    }), fuzzParams(300));
  });
});
