/**
 * Tasks the user defines in the explorer: a name, two target strings (each exactly one token of the loaded model's
 * tokenizer) and examples written one per line. The spec is what is kept (URL, session file); the task file (token
 * ids, train/test split) is rebuilt from it for whichever model is loaded, with the same schema as a shipped task,
 * so pair list, metrics, evalTask, pruning and loss-at-k treat it like any other.
 *
 * Example lines (`\n`, `\t` and `\\` are escapes, so a prompt can span several lines of code):
 *   <prompt A> || <prompt B>   a contrast pair: the first prompt continues with target A, the second with target B
 *   A| <prompt>                 one prompt that continues with target A
 *   B| <prompt>                 one prompt that continues with target B
 * Single prompts are paired in order (an A with a B while both remain, then the rest among themselves); their count
 * must be even. Blank lines are skipped.
 */
import { z } from 'zod';
import { seededHoldout } from './seeded';
import { taskFileSchema, type TaskFile, type TaskPair, type TaskPrompt } from './taskSchema';

/** Task ids of user-defined tasks start with this; shipped tasks never do. */
export const CUSTOM_TASK_PREFIX = 'custom_';
/** Fewer pairs than this are not split: all of them are used both for training (pruning) and for test. */
export const MIN_PAIRS_TO_SPLIT = 6;
/** Share of the pairs held out for test when there are enough. */
export const TEST_FRACTION = 0.2;
/** The split's fixed seed (the same examples always give the same split). */
const SPLIT_SEED = 1234;
export const MAX_CUSTOM_PAIRS = 500;
export const MAX_EXAMPLES_CHARS = 100_000;
/** Longest link form of a spec (base64url characters) that goes into the address bar. */
export const MAX_URL_SPEC_CHARS = 6_000;

export const customTaskSpecSchema = z.object({
  name: z.string().regex(/^[a-z0-9_]{1,32}$/, 'the name must be 1-32 characters: lower-case letters, digits or _'),
  /** The two target strings as the tokenizer sees them (not escaped): [A, B]. */
  targets: z.tuple([z.string().min(1, 'target A is empty'), z.string().min(1, 'target B is empty')]),
  /** The example lines as typed (escaped form, see above). */
  examples: z.string().max(MAX_EXAMPLES_CHARS, `the examples are longer than ${MAX_EXAMPLES_CHARS} characters`),
  description: z.string().max(500).optional(),
});
export type CustomTaskSpec = z.infer<typeof customTaskSpecSchema>;

export function customTaskId(name: string): string {
  return `${CUSTOM_TASK_PREFIX}${name}`;
}

export function isCustomTaskId(task: string | null | undefined): task is string {
  return !!task && task.startsWith(CUSTOM_TASK_PREFIX);
}

/** "custom: quotes" for the task picker. */
export function taskLabel(task: string): string {
  return isCustomTaskId(task) ? `custom: ${task.slice(CUSTOM_TASK_PREFIX.length)}` : task;
}

/** `\n`, `\t`, `\\` to the characters; any other backslash stays as it is. */
export function unescapeText(s: string): string {
  return s.replace(/\\([nt\\])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
}

/** The inverse of unescapeText for display in one-line inputs. */
export function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

export type ParsedExample =
  | { line: number; kind: 'pair'; a: string; b: string }
  | { line: number; kind: 'single'; target: 0 | 1; text: string };

const PAIR_SEPARATOR = ' || ';

/** The examples text as pairs and single prompts (unescaped), with one problem per line that fits no form. */
export function parseExamples(text: string): { examples: ParsedExample[]; problems: string[] } {
  const examples: ParsedExample[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const single = /^([AB])\| ?(.*)$/.exec(raw);
    if (single) {
      const t = unescapeText(single[2]!);
      if (t === '') problems.push(`line ${line}: the prompt after "${single[1]}|" is empty`);
      else examples.push({ line, kind: 'single', target: single[1] === 'A' ? 0 : 1, text: t });
      return;
    }
    const cut = raw.indexOf(PAIR_SEPARATOR);
    if (cut >= 0) {
      const a = unescapeText(raw.slice(0, cut));
      const b = unescapeText(raw.slice(cut + PAIR_SEPARATOR.length));
      if (a === '' || b === '') problems.push(`line ${line}: a contrast pair needs a prompt on both sides of " || "`);
      else examples.push({ line, kind: 'pair', a, b });
      return;
    }
    problems.push(`line ${line}: write "prompt A || prompt B" (a contrast pair), "A| prompt" or "B| prompt"`);
  });
  return { examples, problems };
}

/** What the builder needs of a tokenizer (BpeTokenizer has all of it). */
export interface TaskTokenizer {
  encode(text: string): number[];
  /** The id of a string that is exactly one token, else null. */
  tokenId(text: string): number | null;
  tokenString(id: number): string;
}

export class CustomTaskError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'CustomTaskError';
  }
}

export interface BuiltCustomTask {
  task: TaskFile;
  /** Things the user should know that do not stop the task (the split, tokenization warnings). */
  notes: string[];
  /** True when there were too few pairs to split: train and test are the same pairs. */
  shared: boolean;
}

/** A prompt named for messages: its line and its (shortened) text. */
function named(line: number, text: string): string {
  const t = escapeText(text);
  return `line ${line} (${JSON.stringify(t.length > 40 ? `${t.slice(0, 37)}...` : t)})`;
}

/**
 * Deterministic split of pairs into train and test: with fewer than MIN_PAIRS_TO_SPLIT pairs all of them are both;
 * otherwise a fixed-seed shuffle picks round(TEST_FRACTION * n) (at least 1) test pairs; both keep input order.
 */
export function splitPairs<T>(pairs: readonly T[]): { train: T[]; test: T[]; shared: boolean } {
  const n = pairs.length;
  if (n < MIN_PAIRS_TO_SPLIT) return { train: [...pairs], test: [...pairs], shared: true };
  const nTest = Math.max(1, Math.round(TEST_FRACTION * n));
  const { kept, held } = seededHoldout(pairs, nTest, SPLIT_SEED);
  return { train: kept, test: held, shared: false };
}

/**
 * Builds a task file from a spec with the model's tokenizer and context length. Throws CustomTaskError listing every
 * problem (spec fields, a target that is not one token, a prompt that is empty or longer than the context, lines in
 * no known form, an odd number of single prompts).
 */
export function buildCustomTask(specIn: unknown, tok: TaskTokenizer, blockSize: number): BuiltCustomTask {
  const parsed = customTaskSpecSchema.safeParse(specIn);
  if (!parsed.success) throw new CustomTaskError(parsed.error.issues.map((i) => i.message));
  const spec = parsed.data;
  const problems: string[] = [];
  const notes: string[] = [];

  const ids = spec.targets.map((t, i) => {
    const id = tok.tokenId(t);
    if (id === null) {
      const parts = tok.encode(t).map((x) => JSON.stringify(tok.tokenString(x)));
      problems.push(`target ${'AB'[i]} ${JSON.stringify(t)} is not a single token of this model's tokenizer (it is ${parts.length} tokens: ${parts.join(' ')})`);
    }
    return id;
  });
  if (spec.targets[0] === spec.targets[1]) problems.push('targets A and B are the same; they must be two different tokens');

  const { examples, problems: lineProblems } = parseExamples(spec.examples);
  problems.push(...lineProblems);
  if (examples.length === 0 && lineProblems.length === 0) problems.push('no examples: write at least one pair or two single prompts');

  const merged: string[] = [];
  const prompt = (line: number, text: string, target: 0 | 1): TaskPrompt | null => {
    const tokens = tok.encode(text);
    if (tokens.length > blockSize) {
      problems.push(`the prompt on ${named(line, text)} is ${tokens.length} tokens long; this model's context holds ${blockSize}`);
      return null;
    }
    const correct = ids[target];
    const alternative = ids[1 - target];
    if (correct === null || correct === undefined || alternative === null || alternative === undefined) return null;
    // The model saw text as the tokenizer splits it; a target merged with the prompt's end never occurs as a next token.
    const whole = tok.encode(text + spec.targets[target]);
    if (!(whole.length === tokens.length + 1 && whole[tokens.length] === correct && tokens.every((t, i) => whole[i] === t))) merged.push(named(line, text));
    return { text, tokens, correct, alternative };
  };

  const pairs: TaskPair[] = [];
  const singles: [TaskPrompt[], TaskPrompt[]] = [[], []];
  const singleLines: [number[], number[]] = [[], []];
  for (const ex of examples) {
    if (ex.kind === 'pair') {
      const a = prompt(ex.line, ex.a, 0);
      const b = prompt(ex.line, ex.b, 1);
      if (a && b) pairs.push({ a, b, source: `line ${ex.line}` });
    } else {
      const p = prompt(ex.line, ex.text, ex.target);
      if (p) {
        singles[ex.target].push(p);
        singleLines[ex.target].push(ex.line);
      }
    }
  }
  // Single prompts: an A with a B while both remain, then the rest two by two.
  const nSingles = examples.filter((e) => e.kind === 'single').length;
  if (nSingles % 2 === 1) {
    problems.push(`there are ${nSingles} single prompts (A| or B|); pairs need an even number, so add or remove one`);
  } else if (singles[0].length + singles[1].length === nSingles) {
    while (singles[0].length && singles[1].length) {
      pairs.push({ a: singles[0].shift()!, b: singles[1].shift()!, source: `lines ${singleLines[0].shift()} and ${singleLines[1].shift()}` });
    }
    const rest = singles[0].length ? 0 : 1;
    while (singles[rest].length >= 2) {
      pairs.push({ a: singles[rest].shift()!, b: singles[rest].shift()!, source: `lines ${singleLines[rest].shift()} and ${singleLines[rest].shift()}` });
    }
  }
  if (pairs.length > MAX_CUSTOM_PAIRS) problems.push(`${pairs.length} pairs; at most ${MAX_CUSTOM_PAIRS} are allowed`);
  if (problems.length) throw new CustomTaskError(problems);
  if (pairs.length === 0) throw new CustomTaskError(['no usable examples']);

  const split = splitPairs(pairs);
  notes.push(split.shared
    ? `only ${pairs.length} pair${pairs.length === 1 ? '' : 's'} (fewer than ${MIN_PAIRS_TO_SPLIT}): all of them are used both to find the circuit and to test it, so test numbers are not held out`
    : `${pairs.length} pairs: ${split.train.length} to find the circuit (train), ${split.test.length} held out for test (fixed split)`);
  if (merged.length) {
    notes.push(`the tokenizer merges the end of ${merged.length} prompt${merged.length === 1 ? '' : 's'} with the target, so the model never sees that split in text: ${merged.slice(0, 3).join(', ')}${merged.length > 3 ? ', ...' : ''}`);
  }
  const task = taskFileSchema.parse({
    task: customTaskId(spec.name),
    description: spec.description?.trim() || `user-defined task "${spec.name}"`,
    target_tokens: spec.targets,
    train: split.train,
    test: split.test,
    provenance: { custom: true, pairs: pairs.length, shared_split: split.shared, split_seed: SPLIT_SEED, test_fraction: TEST_FRACTION },
  });
  return { task, notes, shared: split.shared };
}

// --- link form ----------------------------------------------------------------------------------------------------

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url');
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The spec as one URL-safe string (base64url of its JSON), or null when longer than MAX_URL_SPEC_CHARS. */
export function encodeCustomTaskSpec(spec: CustomTaskSpec): string | null {
  const s = toBase64Url(new TextEncoder().encode(JSON.stringify([spec.name, spec.targets, spec.examples, spec.description ?? ''])));
  return s.length <= MAX_URL_SPEC_CHARS ? s : null;
}

/** Throws with a readable message on anything malformed. */
export function decodeCustomTaskSpec(s: string): CustomTaskSpec {
  if (s.length > MAX_URL_SPEC_CHARS) throw new Error(`longer than ${MAX_URL_SPEC_CHARS} characters`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64Url(s)));
  } catch {
    throw new Error('not an encoded task definition');
  }
  const tuple = z.tuple([z.string(), z.tuple([z.string(), z.string()]), z.string(), z.string()]).safeParse(raw);
  if (!tuple.success) throw new Error('not an encoded task definition');
  const [name, targets, examples, description] = tuple.data;
  const r = customTaskSpecSchema.safeParse({ name, targets, examples, ...(description ? { description } : {}) });
  if (!r.success) throw new Error(r.error.issues[0]?.message ?? 'invalid task definition');
  return r.data;
}
