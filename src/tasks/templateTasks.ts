/**
 * Tasks whose places are too rare (or too long-range) to mine: templates filled with frequent identifiers of the
 * held-out files, so the names are ones the model has seen in context.
 */
import { templateTask, type TaskSpec } from './contrast';
import { pick } from './corpus';

export const bracketCounting = templateTask({
  name: 'bracket_counting',
  description: 'A one-line list of numbers closes with "]]\\n" when it is a list of lists (depth 2) and "]\\n" at depth 1.',
  targets: [']]\n', ']\n'],
  draws: 1500,
  identifiers: 300,
  make({ random: r, pool }) {
    const name = pick(pool, r);
    const rows = Array.from({ length: 1 + Math.floor(r() * 3) }, () =>
      Array.from({ length: 1 + Math.floor(r() * 5) }, () => String(Math.floor(r() * 20))),
    );
    const sep = r() < 0.5 ? ' ' : '';
    const nested = `${name} =${sep}[[` + rows.map((row) => row.join(', ')).join('], [');
    const flat = `${name} =${sep}[` + rows.flat().join(', ');
    return [
      [nested, ']]\n'],
      [flat, ']\n'],
    ];
  },
});

/** The variable's type is set a few lines above the decision; `fixed` keeps its name constant ("current"). */
export function setOrString(fixed: boolean): TaskSpec {
  return templateTask({
    name: fixed ? 'set_or_string_fixedvarname' : 'set_or_string',
    description: fixed
      ? 'The variable "current" was initialised as set() or as "": later it is extended with ".add" or " +=".'
      : 'A variable initialised as set() is later extended with ".add", one initialised as "" with " +=".',
    targets: ['.add', ' +='],
    draws: 1500,
    identifiers: 300,
    make({ random: r, pool }) {
      const v = fixed ? 'current' : pick(pool, r);
      const [x, xs, y] = [pick(pool, r), pick(pool, r), pick(pool, r)];
      if (new Set([v, x, xs, y]).size < 4) return null; // a clash would make the template read differently
      const cond = pick([`${x} not in ${y}`, `${x}.${y}`, `not ${x}`, `${x} in ${y}`, `${x} is not None`], r);
      const ind = r() < 0.5 ? '' : '    ';
      const body = [`for ${x} in ${xs}:`, `    if ${cond}:`, `        ${v}`].map((l) => ind + l).join('\n');
      return [
        [`${ind}${v} = set()\n` + body, `.add(${x})\n`],
        [`${ind}${v} = ""\n` + body, ` += ${x}\n`],
      ];
    },
  });
}
