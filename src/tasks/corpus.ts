/**
 * Reading the held-out Python files for the task suite: which lines are code worth mining (eachLine) and which
 * plain identifiers the template tasks and edits may draw on (identifierPool). Kept apart from the pair builder
 * (contrast.ts) so both kinds of task read the files the same way.
 */
import { contextBefore } from './promptAt';

export interface SourceFile {
  path: string;
  text: string;
}

/** Python keywords and the commonest builtins: never taken as plain identifiers, nor as the name of a call. */
export const KEYWORDS = new Set(
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

/** A uniform pick from `xs` (one draw of `r`). */
export const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;

/**
 * Calls `visit` for every code line of every file (in file and line order) with its left context (up to
 * `contextLines` preceding lines), the following line (with its newline) and its place, "path:line".
 */
export function eachLine(
  files: readonly SourceFile[],
  contextLines: number,
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
      visit(line, contextBefore(lines, i, contextLines), (lines[i + 1] ?? '') + '\n', `${f.path}:${i + 1}`);
    }
  }
}
