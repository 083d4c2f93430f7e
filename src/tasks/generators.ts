/**
 * The task suite: binary next-token tasks on Python code, after the paper's (Gao et al. 2025, section 5). Every
 * example is a contrast pair (a, b): two prompts that differ in the feature the task is about, whose correct next
 * tokens are the task's two target tokens, swapped. Most tasks mine real lines from held-out Python files and build
 * b by editing the line; bracket_counting and the set_or_string tasks use templates filled with identifiers from
 * those files. Targets are single tokens of the model's tokenizer, and every prompt is tokenized as part of its real
 * continuation (promptAt), so a target is what the tokenizer actually produces at that point.
 */
import { contextBefore, promptAt, type PromptTokenizer } from './promptAt';
import { shuffleInPlace } from './seeded';
import type { TaskPair } from './taskSchema';

export interface SourceFile {
  path: string;
  text: string;
}

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
  /** The two target strings, each one token: targets[0] is the a-side answer of a pair whose a is "class 1". */
  targets: [string, string];
  generate(files: readonly SourceFile[], tok: PromptTokenizer, opts: GenerateOptions): TaskPair[];
}

const KEYWORDS = new Set(
  ('False None True and as assert async await break class continue def del elif else except finally for from global if ' +
    'import in is lambda nonlocal not or pass raise return try while with yield self cls print len range str int list ' +
    'dict set tuple float bool object super type').split(' '),
);

/** Frequent plain identifiers of the held-out files (deterministic order), for templates. */
export function identifierPool(files: readonly SourceFile[], max = 400): string[] {
  const counts = new Map<string, number>();
  for (const f of files) {
    for (const m of f.text.matchAll(/\b[a-z][a-z0-9_]{1,14}\b/g)) {
      const w = m[0];
      if (!KEYWORDS.has(w) && !w.endsWith('_')) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, max).map(([w]) => w);
}

function tokenOf(tok: PromptTokenizer, s: string): number {
  const id = tok.tokenId(s);
  if (id === null) throw new Error(`target ${JSON.stringify(s)} is not a single token of this tokenizer`);
  return id;
}

interface Side {
  prefix: string;
  continuation: string;
}

/** A pair from two (prefix, continuation) sides whose next tokens must be targets ta and tb; null if either fails. */
function makePair(tok: PromptTokenizer, a: Side, b: Side, ta: number, tb: number, maxTokens: number, source: string): TaskPair | null {
  const pa = promptAt(tok, a.prefix, a.continuation, maxTokens, ta);
  const pb = promptAt(tok, b.prefix, b.continuation, maxTokens, tb);
  if (!pa || !pb) return null;
  return {
    a: { text: pa.text, tokens: pa.tokens, correct: ta, alternative: tb },
    b: { text: pb.text, tokens: pb.tokens, correct: tb, alternative: ta },
    source,
  };
}

/** Calls `visit` for every line of every file with its context and the following line. */
function eachLine(
  files: readonly SourceFile[],
  opts: GenerateOptions,
  visit: (line: string, ctx: string, nextLine: string, where: string) => void,
): void {
  for (const f of files) {
    const lines = f.text.split('\n');
    let inString = false; // inside a triple-quoted string (docstring): its lines are prose, not code
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const triple = (line.match(/"""|'''/g) ?? []).length;
      const skip = inString || triple > 0;
      if (triple % 2 === 1) inString = !inString;
      if (skip || line.length > 200) continue;
      visit(line, contextBefore(lines, i, opts.contextLines), (lines[i + 1] ?? '') + '\n', `${f.path}:${i + 1}`);
    }
  }
}

const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;

// --- mined tasks -------------------------------------------------------------------------------------------------

const singleDoubleQuote: TaskSpec = {
  name: 'single_double_quote',
  description: 'Close a string literal with the quote that opened it: the prompt ends just before the closing quote.',
  targets: ['"', "'"],
  generate(files, tok, opts) {
    const dq = tokenOf(tok, '"');
    const sq = tokenOf(tok, "'");
    const out: TaskPair[] = [];
    const lit = /(^|[^"'\w\\])(["'])([^"'\\\n]{1,40})\2/g;
    eachLine(files, opts, (line, ctx, next, where) => {
      if (line.includes('"""') || line.includes("'''") || line.trimStart().startsWith('#')) return;
      for (const m of line.matchAll(lit)) {
        const q = m[2]!;
        const other = q === '"' ? "'" : '"';
        const start = m.index! + m[1]!.length; // opening quote
        const close = start + 1 + m[3]!.length; // closing quote
        const before = line.slice(0, start);
        const body = m[3]!;
        const after = line.slice(close + 1) + '\n' + next;
        const a: Side = { prefix: ctx + before + q + body, continuation: q + after };
        const b: Side = { prefix: ctx + before + other + body, continuation: other + after };
        const p = makePair(tok, a, b, q === '"' ? dq : sq, q === '"' ? sq : dq, opts.maxTokens, where);
        if (p) out.push(p);
      }
    });
    return out;
  },
};

const whileReturnTrue: TaskSpec = {
  name: 'while_return_true',
  description: '"while True" continues with ":\\n", "return True" with a newline.',
  targets: [':\n', '\n'],
  generate(files, tok, opts) {
    const colon = tokenOf(tok, ':\n');
    const nl = tokenOf(tok, '\n');
    const out: TaskPair[] = [];
    eachLine(files, opts, (line, ctx, next, where) => {
      const m = /^(\s*)(while|return) True(:?)\s*$/.exec(line);
      if (!m || (m[2] === 'while') !== (m[3] === ':')) return;
      const ind = m[1]!;
      const w: Side = { prefix: ctx + ind + 'while True', continuation: ':\n' + next };
      const r: Side = { prefix: ctx + ind + 'return True', continuation: '\n' + next };
      const p = m[2] === 'while' ? makePair(tok, w, r, colon, nl, opts.maxTokens, where) : makePair(tok, r, w, nl, colon, opts.maxTokens, where);
      if (p) out.push(p);
    });
    return out;
  },
};

const ifTernary: TaskSpec = {
  name: 'if_ternary',
  description: 'An "if" inside an expression (x = y if c) continues with " else"; an "if" statement with ":\\n".',
  targets: [' else', ':\n'],
  generate(files, tok, opts) {
    const els = tokenOf(tok, ' else');
    const colon = tokenOf(tok, ':\n');
    const pool = identifierPool(files, 200);
    const out: TaskPair[] = [];
    eachLine(files, opts, (line, ctx, next, where) => {
      const tern = /^(\s*)([\w.]+ = [^#]+?) if ([^#:]+?\w) else (.+)$/.exec(line);
      const stmt = /^(\s*)if ([^#:]+?\w):\s*$/.exec(line);
      if (tern) {
        const [, ind, lhs, cond, rest] = tern;
        const a: Side = { prefix: ctx + `${ind}${lhs} if ${cond}`, continuation: ` else ${rest}\n` + next };
        const b: Side = { prefix: ctx + `${ind}if ${cond}`, continuation: ':\n' + next };
        const p = makePair(tok, a, b, els, colon, opts.maxTokens, where);
        if (p) out.push(p);
      } else if (stmt) {
        const [, ind, cond] = stmt;
        const lhs = `${pick(pool, opts.random)} = ${pick(pool, opts.random)}`;
        const a: Side = { prefix: ctx + `${ind}if ${cond}`, continuation: ':\n' + next };
        const b: Side = { prefix: ctx + `${ind}${lhs} if ${cond}`, continuation: ` else None\n` + next };
        const p = makePair(tok, b, a, els, colon, opts.maxTokens, where);
        if (p) out.push(p);
      }
    });
    return out;
  },
};

const ifEquals: TaskSpec = {
  name: 'if_equals',
  description: 'After "if name" a comparison " ==" follows; after a bare "name" at the start of a statement, an assignment " =".',
  targets: [' ==', ' ='],
  generate(files, tok, opts) {
    const eq = tokenOf(tok, ' ==');
    const as = tokenOf(tok, ' =');
    const out: TaskPair[] = [];
    eachLine(files, opts, (line, ctx, next, where) => {
      const cmp = /^(\s*)(?:el)?if ([a-zA-Z_][\w.]*) == ([^#:]+):\s*$/.exec(line);
      const asg = /^(\s*)([a-zA-Z_][\w.]*) = ([^=#]+)$/.exec(line);
      if (cmp) {
        const [, ind, name, rhs] = cmp;
        const a: Side = { prefix: ctx + `${ind}if ${name}`, continuation: ` == ${rhs}:\n` + next };
        const b: Side = { prefix: ctx + `${ind}${name}`, continuation: ` = ${rhs}\n` + next };
        const p = makePair(tok, a, b, eq, as, opts.maxTokens, where);
        if (p) out.push(p);
      } else if (asg && opts.random() < 0.25) {
        // Assignments are far more common than comparisons: sample them so the two directions stay comparable.
        const [, ind, name, rhs] = asg;
        const a: Side = { prefix: ctx + `${ind}${name}`, continuation: ` = ${rhs}\n` + next };
        const b: Side = { prefix: ctx + `${ind}if ${name}`, continuation: ` == ${rhs}:\n` + next };
        const p = makePair(tok, b, a, eq, as, opts.maxTokens, where);
        if (p) out.push(p);
      }
    });
    return out;
  },
};

/**
 * Close a one-line literal `name = <open>a, b, c<close>` with the bracket that opened it, contrasting two kinds of
 * literal: `line` matches such a line (groups: head, opener, items, closer); b swaps both brackets.
 */
function literalCloser(name: string, description: string, a: [string, string], b: [string, string], line: RegExp): TaskSpec {
  return {
    name,
    description,
    targets: [`${a[1]}\n`, `${b[1]}\n`],
    generate(files, tok, opts) {
      const ta = tokenOf(tok, `${a[1]}\n`);
      const tb = tokenOf(tok, `${b[1]}\n`);
      const out: TaskPair[] = [];
      eachLine(files, opts, (text, ctx, next, where) => {
        const m = line.exec(text);
        if (!m || (m[2] === a[0]) !== (m[4] === a[1]) || !m[3]!.includes(',')) return;
        const [, head, open, items] = m;
        const sideA: Side = { prefix: ctx + `${head}${a[0]}${items}`, continuation: `${a[1]}\n` + next };
        const sideB: Side = { prefix: ctx + `${head}${b[0]}${items}`, continuation: `${b[1]}\n` + next };
        const p = open === a[0] ? makePair(tok, sideA, sideB, ta, tb, opts.maxTokens, where) : makePair(tok, sideB, sideA, tb, ta, opts.maxTokens, where);
        if (p) out.push(p);
      });
      return out;
    },
  };
}

const bracketBrace = literalCloser(
  'bracket_brace',
  'Close a one-line literal with the bracket that opened it: a list "[" ends with "]\\n", a set "{" with "}\\n".',
  ['[', ']'], ['{', '}'],
  /^(\s*[\w.]+ = )([[{])([^[\]{}:#'"]*\w)([\]}])\s*$/,
);

const withAs: TaskSpec = {
  name: 'with_as',
  description: '"with <expr>" continues with " as", "for <name>" with " in".',
  targets: [' as', ' in'],
  generate(files, tok, opts) {
    const as = tokenOf(tok, ' as');
    const inn = tokenOf(tok, ' in');
    const out: TaskPair[] = [];
    eachLine(files, opts, (line, ctx, next, where) => {
      const w = /^(\s*)with ([\w.]+(?:\([^()#]*\))?) as (\w+):\s*$/.exec(line);
      const f = /^(\s*)for (\w+(?:, \w+)*) in ([^#]+):\s*$/.exec(line);
      if (w) {
        const [, ind, expr, name] = w;
        const a: Side = { prefix: ctx + `${ind}with ${expr}`, continuation: ` as ${name}:\n` + next };
        const b: Side = { prefix: ctx + `${ind}for ${expr}`, continuation: ` in ${name}:\n` + next };
        const p = makePair(tok, a, b, as, inn, opts.maxTokens, where);
        if (p) out.push(p);
      } else if (f && opts.random() < 0.5) {
        const [, ind, names, iter] = f;
        const a: Side = { prefix: ctx + `${ind}for ${names}`, continuation: ` in ${iter}:\n` + next };
        const b: Side = { prefix: ctx + `${ind}with ${names}`, continuation: ` as ${iter}:\n` + next };
        const p = makePair(tok, b, a, as, inn, opts.maxTokens, where);
        if (p) out.push(p);
      }
    });
    return out;
  },
};

const defOrCall: TaskSpec = {
  name: 'def_or_call',
  description: 'A one-line "def name(args" closes its signature with "):\\n"; a call statement "name(args" closes with ")\\n".',
  targets: ['):\n', ')\n'],
  generate(files, tok, opts) {
    const sig = tokenOf(tok, '):\n');
    const call = tokenOf(tok, ')\n');
    const out: TaskPair[] = [];
    eachLine(files, opts, (line, ctx, next, where) => {
      // Arguments without nested parentheses, so the closing parenthesis is the one the decision is about.
      const d = /^(\s*)def (\w+)\(([^()#:'"]*)\):\s*$/.exec(line);
      const c = /^(\s*)([a-zA-Z_][\w.]*)\(([^()#:'"=]*)\)\s*$/.exec(line);
      if (d) {
        const [, ind, name, args] = d;
        const a: Side = { prefix: ctx + `${ind}def ${name}(${args}`, continuation: '):\n' + next };
        const b: Side = { prefix: ctx + `${ind}${name}(${args}`, continuation: ')\n' + next };
        const p = makePair(tok, a, b, sig, call, opts.maxTokens, where);
        if (p) out.push(p);
      } else if (c && !KEYWORDS.has(c[2]!)) {
        const [, ind, name, args] = c;
        const a: Side = { prefix: ctx + `${ind}${name}(${args}`, continuation: ')\n' + next };
        const b: Side = { prefix: ctx + `${ind}def ${name}(${args}`, continuation: '):\n' + next };
        const p = makePair(tok, b, a, sig, call, opts.maxTokens, where);
        if (p) out.push(p);
      }
    });
    return out;
  },
};

const fromImport: TaskSpec = {
  name: 'from_import',
  description: '"from module" continues with " import"; "import module" ends the line with "\\n".',
  targets: [' import', '\n'],
  generate(files, tok, opts) {
    const imp = tokenOf(tok, ' import');
    const nl = tokenOf(tok, '\n');
    const out: TaskPair[] = [];
    eachLine(files, opts, (line, ctx, next, where) => {
      const f = /^(\s*)from ([a-zA-Z_][\w.]*) import (.+)$/.exec(line);
      const i = /^(\s*)import ([a-zA-Z_][\w.]*)\s*$/.exec(line);
      if (f) {
        const [, ind, mod, names] = f;
        const a: Side = { prefix: ctx + `${ind}from ${mod}`, continuation: ` import ${names}\n` + next };
        const b: Side = { prefix: ctx + `${ind}import ${mod}`, continuation: '\n' + next };
        const p = makePair(tok, a, b, imp, nl, opts.maxTokens, where);
        if (p) out.push(p);
      } else if (i) {
        const [, ind, mod] = i;
        const a: Side = { prefix: ctx + `${ind}import ${mod}`, continuation: '\n' + next };
        const b: Side = { prefix: ctx + `${ind}from ${mod}`, continuation: ' import *\n' + next };
        const p = makePair(tok, b, a, imp, nl, opts.maxTokens, where);
        if (p) out.push(p);
      }
    });
    return out;
  },
};

const tupleList = literalCloser(
  'tuple_list',
  'Close a one-line literal with the bracket that opened it: a tuple "(" ends with ")\\n", a list "[" with "]\\n".',
  ['(', ')'], ['[', ']'],
  /^(\s*[\w.]+ = )([[(])([^[\](){}:#'"]*\w)([\])])\s*$/,
);

const enumerateRange: TaskSpec = {
  name: 'enumerate_range',
  description:
    'A loop over two names "for i, x in" continues with " enumerate" (whose first token is " en"); over one name "for i in" with " range".',
  // " enumerate" is not one token of the shipped tokenizer: the decision is its first token, " en".
  targets: [' en', ' range'],
  generate(files, tok, opts) {
    const en = tokenOf(tok, ' en');
    const rg = tokenOf(tok, ' range');
    const out: TaskPair[] = [];
    eachLine(files, opts, (line, ctx, next, where) => {
      const e = /^(\s*)for (\w+), (\w+) in enumerate\((.+)$/.exec(line);
      const r = /^(\s*)for (\w+) in range\((.+)$/.exec(line);
      if (e) {
        const [, ind, i, x, rest] = e;
        const a: Side = { prefix: ctx + `${ind}for ${i}, ${x} in`, continuation: ` enumerate(${rest}\n` + next };
        const b: Side = { prefix: ctx + `${ind}for ${i} in`, continuation: ` range(${rest}\n` + next };
        const p = makePair(tok, a, b, en, rg, opts.maxTokens, where);
        if (p) out.push(p);
      } else if (r) {
        // The edited side needs a second loop variable: "item", a common name for it.
        const [, ind, i, rest] = r;
        const a: Side = { prefix: ctx + `${ind}for ${i} in`, continuation: ` range(${rest}\n` + next };
        const b: Side = { prefix: ctx + `${ind}for ${i}, item in`, continuation: ` enumerate(${rest}\n` + next };
        const p = makePair(tok, b, a, en, rg, opts.maxTokens, where);
        if (p) out.push(p);
      }
    });
    return out;
  },
};

const fstringBrace: TaskSpec = {
  name: 'fstring_brace',
  description:
    'In an f-string that ends a call at the end of a line, "{name" closes its replacement field with "}"; the same text without the "{" closes the string, the call and the line with "\")\\n".',
  // A lone '"' is rarely a token at a string's end (the tokenizer merges it with what follows), so the string side
  // is the common '")\n' of print(f"...").
  targets: ['}', '")\n'],
  generate(files, tok, opts) {
    const brace = tokenOf(tok, '}');
    const close = tokenOf(tok, '")\n');
    const out: TaskPair[] = [];
    // f"lead {name}tail") at the end of the line; the field is a plain (dotted) name, so "{" + name is the whole field.
    const field = /\bf"([^"{}\\\n]*)\{([a-zA-Z_][\w.]*)\}([^"\\\n]*)"\)\s*$/g;
    eachLine(files, opts, (line, ctx, next, where) => {
      if (line.trimStart().startsWith('#')) return;
      for (const m of line.matchAll(field)) {
        const [, lead, name, tail] = m;
        const before = line.slice(0, m.index);
        // a: inside the field; b: the same characters as plain string text (no "{"), so the string and call end.
        const a: Side = { prefix: ctx + `${before}f"${lead}{${name}`, continuation: `}${tail}")\n` + next };
        const b: Side = { prefix: ctx + `${before}f"${lead}${name}`, continuation: '")\n' + next };
        const p = makePair(tok, a, b, brace, close, opts.maxTokens, where);
        if (p) out.push(p);
      }
    });
    return out;
  },
};

// --- template tasks ----------------------------------------------------------------------------------------------

const bracketCounting: TaskSpec = {
  name: 'bracket_counting',
  description: 'A one-line list of numbers closes with "]]\\n" when it is a list of lists (depth 2) and "]\\n" at depth 1.',
  targets: [']]\n', ']\n'],
  generate(files, tok, opts) {
    const two = tokenOf(tok, ']]\n');
    const one = tokenOf(tok, ']\n');
    const pool = identifierPool(files, 300);
    const r = opts.random;
    const out: TaskPair[] = [];
    for (let i = 0; i < 1500; i++) {
      const name = pick(pool, r);
      const rows = Array.from({ length: 1 + Math.floor(r() * 3) }, () =>
        Array.from({ length: 1 + Math.floor(r() * 5) }, () => String(Math.floor(r() * 20))),
      );
      const sep = r() < 0.5 ? ' ' : '';
      const nested = `${name} =${sep}[[` + rows.map((row) => row.join(', ')).join('], [');
      const flat = `${name} =${sep}[` + rows.flat().join(', ');
      const p = makePair(tok, { prefix: nested, continuation: ']]\n' }, { prefix: flat, continuation: ']\n' }, two, one, opts.maxTokens, 'template');
      if (p) out.push(p);
    }
    return out;
  },
};

function setOrString(fixed: boolean): TaskSpec {
  return {
    name: fixed ? 'set_or_string_fixedvarname' : 'set_or_string',
    description: fixed
      ? 'The variable "current" was initialised as set() or as "": later it is extended with ".add" or " +=".'
      : 'A variable initialised as set() is later extended with ".add", one initialised as "" with " +=".',
    targets: ['.add', ' +='],
    generate(files, tok, opts) {
      const add = tokenOf(tok, '.add');
      const inc = tokenOf(tok, ' +=');
      const pool = identifierPool(files, 300);
      const r = opts.random;
      const out: TaskPair[] = [];
      for (let i = 0; i < 1500; i++) {
        const v = fixed ? 'current' : pick(pool, r);
        const [x, xs, y] = [pick(pool, r), pick(pool, r), pick(pool, r)];
        if (new Set([v, x, xs, y]).size < 4) continue;
        const cond = pick([`${x} not in ${y}`, `${x}.${y}`, `not ${x}`, `${x} in ${y}`, `${x} is not None`], r);
        const ind = r() < 0.5 ? '' : '    ';
        const body = [`for ${x} in ${xs}:`, `    if ${cond}:`, `        ${v}`].map((l) => ind + l).join('\n');
        const setInit = `${ind}${v} = set()\n`;
        const strInit = `${ind}${v} = ""\n`;
        const p = makePair(
          tok,
          { prefix: setInit + body, continuation: `.add(${x})\n` },
          { prefix: strInit + body, continuation: ` += ${x}\n` },
          add, inc, opts.maxTokens, 'template',
        );
        if (p) out.push(p);
      }
      return out;
    },
  };
}

export const TASK_SPECS: readonly TaskSpec[] = [
  singleDoubleQuote,
  bracketCounting,
  setOrString(true),
  setOrString(false),
  whileReturnTrue,
  ifTernary,
  ifEquals,
  bracketBrace,
  withAs,
  defOrCall,
  fromImport,
  tupleList,
  enumerateRange,
  fstringBrace,
];

/**
 * Dedupes pairs (by their two prompts), shuffles them with the seeded generator, caps their number and splits them
 * into train and test. A prompt that occurs in a train pair never occurs in a test pair.
 */
export function splitPairs(pairs: readonly TaskPair[], random: () => number, maxPairs: number, testFraction: number): { train: TaskPair[]; test: TaskPair[] } {
  const seen = new Set<string>();
  const unique: TaskPair[] = [];
  for (const p of pairs) {
    const key = p.a.tokens.join(',') + '|' + p.b.tokens.join(',');
    if (!seen.has(key)) {
      seen.add(key);
      unique.push(p);
    }
  }
  // Test pairs are the first of the shuffled order (not input order, unlike seededHoldout): the shipped task files
  // were made this way, and the cap at maxPairs must drop a random subset.
  const chosen = shuffleInPlace(unique, random).slice(0, maxPairs);
  const nTest = Math.max(1, Math.round(chosen.length * testFraction));
  const test = chosen.slice(0, nTest);
  const testPrompts = new Set(test.flatMap((p) => [p.a.tokens.join(','), p.b.tokens.join(',')]));
  const train = chosen.slice(nTest).filter((p) => !testPrompts.has(p.a.tokens.join(',')) && !testPrompts.has(p.b.tokens.join(',')));
  return { train, test };
}
