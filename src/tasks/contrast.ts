/**
 * The one builder behind every task of the suite. A task is a place in Python code that comes in two forms (form 0
 * and form 1), form k continuing with the task's target token k; a contrast pair puts the same place in both
 * forms. A task only says how to find its places and how to write each form (statementTasks.ts, literalTasks.ts,
 * templateTasks.ts); tokenizing, checking that the target really is the next token, and assembling the pair happen
 * here, once, so every task does them the same way.
 *
 * The shipped task files were made by the hand-written builders this replaced: the draws from `random`, the order of
 * the pairs and which prompt of a pair is `a` are exactly theirs, so the files regenerate bit for bit.
 */
import { eachLine, identifierPool, type SourceFile } from './corpus';
import { promptAt, type PromptTokenizer } from './promptAt';
import type { TaskPair } from './taskSchema';

export interface GenerateOptions {
  /** Prompts are left-truncated to this many tokens. */
  maxTokens: number;
  /** Lines of preceding code kept as context (before truncation). */
  contextLines: number;
  /** Seeded uniform [0, 1). */
  random: () => number;
}

export interface TaskSpec {
  name: string;
  description: string;
  /** The two target strings, each one token: targets[k] is what follows form k of the task's place. */
  targets: [string, string];
  generate(files: readonly SourceFile[], tok: PromptTokenizer, opts: GenerateOptions): TaskPair[];
}

/** One form of a place: the text up to the decision point, and the true continuation (starting with the target). */
export type Form = readonly [prefix: string, continuation: string];
/** The texts a task's two forms are written from (regex groups of the found line, plus what an edit invents). */
export type Fields = Readonly<Record<string, string>>;
/** What a task's find and template code may draw on: the task's seeded stream and frequent held-out identifiers. */
export interface Draws {
  random: () => number;
  pool: readonly string[];
}
/** A place found in a real line: which form the line really has, and the fields both forms are written from. */
export interface Found {
  form: 0 | 1;
  fields: Fields;
}

function tokenOf(tok: PromptTokenizer, s: string): number {
  const id = tok.tokenId(s);
  if (id === null) throw new Error(`target ${JSON.stringify(s)} is not a single token of this tokenizer`);
  return id;
}

/** A pair from two forms whose next tokens must be targets ta and tb; null if either is not (see promptAt). */
function makePair(tok: PromptTokenizer, a: Form, b: Form, ta: number, tb: number, maxTokens: number, source: string): TaskPair | null {
  const pa = promptAt(tok, a[0], a[1], maxTokens, ta);
  const pb = promptAt(tok, b[0], b[1], maxTokens, tb);
  if (!pa || !pb) return null;
  return {
    a: { text: pa.text, tokens: pa.tokens, correct: ta, alternative: tb },
    b: { text: pb.text, tokens: pb.tokens, correct: tb, alternative: ta },
    source,
  };
}

interface TaskText {
  name: string;
  description: string;
  targets: [string, string];
}

export interface MinedTaskDef extends TaskText {
  /** The places of one code line (eachLine), left to right. Called on every line in order: its draws are part of the seed. */
  find(line: string, draws: Draws): Found[];
  /** Both forms of a place, [form 0, form 1], without the file's context before or its next line after. */
  render(fields: Fields): [Form, Form];
  /**
   * Which prompt is a pair's `a`: the form the line really has ('found'), or always form 0 ('form0'). The
   * shipped files were made with both orders (per task, as here), and their pairs must not change.
   */
  pairA: 'found' | 'form0';
  /** How many frequent identifiers `draws.pool` holds, for edits that must invent a name (default none). */
  identifiers?: number;
}

/**
 * What both builders share: resolve the target ids, set up the draws, and make a pair of each place `places` offers
 * (its two forms, which of them is `a`, and where it came from); places that fail promptAt are dropped.
 */
function buildTask(
  def: TaskText & { identifiers?: number },
  places: (files: readonly SourceFile[], opts: GenerateOptions, draws: Draws, emit: (forms: [Form, Form], a: 0 | 1, source: string) => void) => void,
): TaskSpec {
  const { name, description, targets } = def;
  const generate: TaskSpec['generate'] = (files, tok, opts) => {
    const ids = [tokenOf(tok, targets[0]), tokenOf(tok, targets[1])] as const;
    const draws: Draws = { random: opts.random, pool: def.identifiers ? identifierPool(files, def.identifiers) : [] };
    const out: TaskPair[] = [];
    places(files, opts, draws, (forms, a, source) => {
      const p = makePair(tok, forms[a], forms[1 - a], ids[a], ids[1 - a], opts.maxTokens, source);
      if (p) out.push(p);
    });
    return out;
  };
  return { name, description, targets, generate };
}

/** A task mined from real lines of the held-out files: each place found becomes a pair of its real and edited form. */
export function minedTask(def: MinedTaskDef): TaskSpec {
  return buildTask(def, (files, opts, draws, emit) =>
    eachLine(files, opts.contextLines, (line, ctx, next, where) => {
      for (const { form, fields } of def.find(line, draws)) {
        const inFile = (f: Form): Form => [ctx + f[0], f[1] + next];
        const [f0, f1] = def.render(fields);
        emit([inFile(f0), inFile(f1)], def.pairA === 'found' ? form : 0, where);
      }
    }),
  );
}

/** How a whole line of one form is recognised: named regex groups become fields; `fields` may add or veto some. */
export interface LineRule {
  re: RegExp;
  /** Keep only this share of matching lines (one draw per match): for a form far commoner than the other. */
  keep?: number;
  /** Fields from the groups, adding what the other form needs that the line lacks; null rejects the line. */
  fields?: (groups: Fields, draws: Draws) => Fields | null;
}

/**
 * `find` for tasks about a whole statement: the first rule (form 0's, then form 1's) that accepts the line gives its
 * one place. A rule's draws (keep, fields) happen only when its regex matches, so lines of neither form draw nothing.
 */
export function wholeLine(form0: LineRule, form1: LineRule): MinedTaskDef['find'] {
  const rules = [form0, form1] as const;
  return (line, draws) => {
    for (const form of [0, 1] as const) {
      const { re, keep, fields } = rules[form];
      const m = re.exec(line);
      if (!m || (keep !== undefined && !(draws.random() < keep))) continue;
      const found = fields ? fields(m.groups ?? {}, draws) : (m.groups ?? {});
      if (found) return [{ form, fields: found }];
    }
    return [];
  };
}

export interface TemplateTaskDef extends TaskText {
  /** Templates tried (some are rejected: a draw of make that gives null, or a form that fails promptAt). */
  draws: number;
  /** How many frequent identifiers `draws.pool` holds for names in the template. */
  identifiers: number;
  /** One template filled in: its [form 0, form 1], or null to skip this draw. */
  make(draws: Draws): [Form, Form] | null;
}

/** A task from a template filled with held-out identifiers, form 0 as `a`; pairs' source is "template". */
export function templateTask(def: TemplateTaskDef): TaskSpec {
  return buildTask(def, (_files, _opts, draws, emit) => {
    for (let i = 0; i < def.draws; i++) {
      const forms = def.make(draws);
      if (forms) emit(forms, 0, 'template');
    }
  });
}
