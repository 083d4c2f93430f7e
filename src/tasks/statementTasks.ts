/**
 * Tasks about which statement a line is, mined from whole lines of the held-out files: a line of either form is
 * paired with itself rewritten into the other form. Each form has a regex (wholeLine); its named groups are the
 * fields render writes both forms from, and a rule's `fields` adds what the other form needs but the line lacks.
 */
import { minedTask, wholeLine } from './contrast';
import { KEYWORDS, pick } from './corpus';

export const whileReturnTrue = minedTask({
  name: 'while_return_true', targets: [':\n', '\n'], pairA: 'found',
  description: '"while True" continues with ":\\n", "return True" with a newline.',
  find: wholeLine({ re: /^(?<ind>\s*)while True:\s*$/ }, { re: /^(?<ind>\s*)return True\s*$/ }),
  render: ({ ind }) => [
    [`${ind}while True`, ':\n'],
    [`${ind}return True`, '\n'],
  ],
});

export const ifTernary = minedTask({
  name: 'if_ternary', targets: [' else', ':\n'], pairA: 'form0',
  description: 'An "if" inside an expression (x = y if c) continues with " else"; an "if" statement with ":\\n".',
  identifiers: 200,
  find: wholeLine(
    { re: /^(?<ind>\s*)(?<lhs>[\w.]+ = [^#]+?) if (?<cond>[^#:]+?\w) else (?<rest>.+)$/ },
    {
      re: /^(?<ind>\s*)if (?<cond>[^#:]+?\w):\s*$/,
      // A statement has no assignment to put the condition in: invent one from frequent held-out names.
      fields: (g, { random, pool }) => ({ ...g, lhs: `${pick(pool, random)} = ${pick(pool, random)}`, rest: 'None' }),
    },
  ),
  render: ({ ind, lhs, cond, rest }) => [
    [`${ind}${lhs} if ${cond}`, ` else ${rest}\n`],
    [`${ind}if ${cond}`, ':\n'],
  ],
});

export const ifEquals = minedTask({
  name: 'if_equals', targets: [' ==', ' ='], pairA: 'form0',
  description: 'After "if name" a comparison " ==" follows; after a bare "name" at the start of a statement, an assignment " =".',
  find: wholeLine(
    { re: /^(?<ind>\s*)(?:el)?if (?<name>[a-zA-Z_][\w.]*) == (?<rhs>[^#:]+):\s*$/ },
    // Assignments are far more common than comparisons: sample them so the two directions stay comparable.
    { re: /^(?<ind>\s*)(?<name>[a-zA-Z_][\w.]*) = (?<rhs>[^=#]+)$/, keep: 0.25 },
  ),
  render: ({ ind, name, rhs }) => [
    [`${ind}if ${name}`, ` == ${rhs}:\n`],
    [`${ind}${name}`, ` = ${rhs}\n`],
  ],
});

export const withAs = minedTask({
  name: 'with_as', targets: [' as', ' in'], pairA: 'form0',
  description: '"with <expr>" continues with " as", "for <name>" with " in".',
  find: wholeLine(
    { re: /^(?<ind>\s*)with (?<head>[\w.]+(?:\([^()#]*\))?) as (?<tail>\w+):\s*$/ },
    // for loops far outnumber with statements: keep half of them.
    { re: /^(?<ind>\s*)for (?<head>\w+(?:, \w+)*) in (?<tail>[^#]+):\s*$/, keep: 0.5 },
  ),
  render: ({ ind, head, tail }) => [
    [`${ind}with ${head}`, ` as ${tail}:\n`],
    [`${ind}for ${head}`, ` in ${tail}:\n`],
  ],
});

export const defOrCall = minedTask({
  name: 'def_or_call', targets: ['):\n', ')\n'], pairA: 'form0',
  description: 'A one-line "def name(args" closes its signature with "):\\n"; a call statement "name(args" closes with ")\\n".',
  // Arguments without nested parentheses, so the closing parenthesis is the one the decision is about.
  find: wholeLine(
    { re: /^(?<ind>\s*)def (?<name>\w+)\((?<args>[^()#:'"]*)\):\s*$/ },
    {
      re: /^(?<ind>\s*)(?<name>[a-zA-Z_][\w.]*)\((?<args>[^()#:'"=]*)\)\s*$/,
      // Not a keyword or builtin: if(x) is no call, and def print(x) would be nonsense.
      fields: (g) => (KEYWORDS.has(g.name) ? null : g),
    },
  ),
  render: ({ ind, name, args }) => [
    [`${ind}def ${name}(${args}`, '):\n'],
    [`${ind}${name}(${args}`, ')\n'],
  ],
});

export const fromImport = minedTask({
  name: 'from_import', targets: [' import', '\n'], pairA: 'form0',
  description: '"from module" continues with " import"; "import module" ends the line with "\\n".',
  find: wholeLine(
    { re: /^(?<ind>\s*)from (?<mod>[a-zA-Z_][\w.]*) import (?<names>.+)$/ },
    // "import m" names nothing to import from m: the edited line imports "*".
    { re: /^(?<ind>\s*)import (?<mod>[a-zA-Z_][\w.]*)\s*$/, fields: (g) => ({ ...g, names: '*' }) },
  ),
  render: ({ ind, mod, names }) => [
    [`${ind}from ${mod}`, ` import ${names}\n`],
    [`${ind}import ${mod}`, '\n'],
  ],
});

export const enumerateRange = minedTask({
  // " enumerate" is not one token of the shipped tokenizer: the decision is its first token, " en".
  name: 'enumerate_range', targets: [' en', ' range'], pairA: 'form0',
  description:
    'A loop over two names "for i, x in" continues with " enumerate" (whose first token is " en"); over one name "for i in" with " range".',
  find: wholeLine(
    { re: /^(?<ind>\s*)for (?<i>\w+), (?<x>\w+) in enumerate\((?<rest>.+)$/ },
    // The edited side needs a second loop variable: "item", a common name for it.
    { re: /^(?<ind>\s*)for (?<i>\w+) in range\((?<rest>.+)$/, fields: (g) => ({ ...g, x: 'item' }) },
  ),
  render: ({ ind, i, x, rest }) => [
    [`${ind}for ${i}, ${x} in`, ` enumerate(${rest}\n`],
    [`${ind}for ${i} in`, ` range(${rest}\n`],
  ],
});
