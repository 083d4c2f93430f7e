/**
 * Tasks about closing a literal (string, f-string field, bracketed collection) with what opened it: mined from the
 * held-out files, the edited form swaps the opener (and its closer). A line can hold several string literals, so
 * these tasks find places inside a line rather than whole statements.
 */
import { minedTask, type Found, type TaskSpec } from './contrast';

/** A short one-line string literal not preceded by a quote, word character or backslash (no prefix like b"..."). */
const QUOTED = /(^|[^"'\w\\])(["'])([^"'\\\n]{1,40})\2/g;

export const singleDoubleQuote = minedTask({
  name: 'single_double_quote', targets: ['"', "'"], pairA: 'found',
  description: 'Close a string literal with the quote that opened it: the prompt ends just before the closing quote.',
  find(line) {
    if (line.includes('"""') || line.includes("'''") || line.trimStart().startsWith('#')) return [];
    return [...line.matchAll(QUOTED)].map((m): Found => {
      const start = m.index! + m[1]!.length; // opening quote
      const close = start + 1 + m[3]!.length; // closing quote
      return { form: m[2] === '"' ? 0 : 1, fields: { before: line.slice(0, start), body: m[3]!, after: line.slice(close + 1) } };
    });
  },
  render: ({ before, body, after }) => [
    [`${before}"${body}`, `"${after}\n`],
    [`${before}'${body}`, `'${after}\n`],
  ],
});

/**
 * Close a one-line literal `name = <open>a, b, c<close>` with the bracket that opened it, contrasting two kinds of
 * literal: `line` matches such a line (groups: head, opener, items, closer); the edit swaps both brackets.
 */
function literalCloser(name: string, description: string, a: [string, string], b: [string, string], line: RegExp): TaskSpec {
  return minedTask({
    name,
    description,
    targets: [`${a[1]}\n`, `${b[1]}\n`],
    pairA: 'found',
    find(text) {
      const m = line.exec(text);
      if (!m || (m[2] === a[0]) !== (m[4] === a[1]) || !m[3]!.includes(',')) return [];
      return [{ form: m[2] === a[0] ? 0 : 1, fields: { head: m[1]!, items: m[3]! } }];
    },
    render: ({ head, items }) => [
      [`${head}${a[0]}${items}`, `${a[1]}\n`],
      [`${head}${b[0]}${items}`, `${b[1]}\n`],
    ],
  });
}

export const bracketBrace = literalCloser(
  'bracket_brace',
  'Close a one-line literal with the bracket that opened it: a list "[" ends with "]\\n", a set "{" with "}\\n".',
  ['[', ']'], ['{', '}'],
  /^(\s*[\w.]+ = )([[{])([^[\]{}:#'"]*\w)([\]}])\s*$/,
);

export const tupleList = literalCloser(
  'tuple_list',
  'Close a one-line literal with the bracket that opened it: a tuple "(" ends with ")\\n", a list "[" with "]\\n".',
  ['(', ')'], ['[', ']'],
  /^(\s*[\w.]+ = )([[(])([^[\](){}:#'"]*\w)([\])])\s*$/,
);

/** f"lead {name}tail") at the end of the line; the field is a plain (dotted) name, so "{" + name is the whole field. */
const FIELD_AT_END = /\bf"([^"{}\\\n]*)\{([a-zA-Z_][\w.]*)\}([^"\\\n]*)"\)\s*$/g;

export const fstringBrace = minedTask({
  // A lone '"' is rarely a token at a string's end (the tokenizer merges it with what follows), so the string side
  // is the common '")\n' of print(f"..."). Only fields are mined (form 0); form 1 is always the edit.
  name: 'fstring_brace', targets: ['}', '")\n'], pairA: 'form0',
  description:
    'In an f-string that ends a call at the end of a line, "{name" closes its replacement field with "}"; the same text without the "{" closes the string, the call and the line with "\")\\n".',
  find(line) {
    if (line.trimStart().startsWith('#')) return [];
    return [...line.matchAll(FIELD_AT_END)].map(
      (m): Found => ({ form: 0, fields: { before: line.slice(0, m.index), lead: m[1]!, name: m[2]!, tail: m[3]! } }),
    );
  },
  // form 0: inside the field; form 1: the same characters as plain string text (no "{"), so the string and call end.
  render: ({ before, lead, name, tail }) => [
    [`${before}f"${lead}{${name}`, `}${tail}")\n`],
    [`${before}f"${lead}${name}`, '")\n'],
  ],
});
