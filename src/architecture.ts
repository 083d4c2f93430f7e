/**
 * The room order of DESIGN.md as data, and a checker that reads every import under a `src/` folder against it
 * (src/architecture.test.ts runs it on this repository and on a fixture tree with known violations). Node-only.
 *
 * The rules:
 * - Rooms, left to right: ui -> state -> worker -> circuit -> model. A room imports only rooms to its right.
 * - Leaves (tasks, tokenizer, sw) import no other room; every room may import them.
 * - Pages beside the app (harness.html, bench.html) sit at ui's level: they import state and everything to its right;
 *   bench also reuses harness's checks. Files directly in src/ (main.tsx, this checker) are entries: anything goes.
 * - react and react-dom only in ui (and the entry), d3 only in ui, zustand only in state: model, circuit and tasks
 *   never see React, d3 or the stores, so they run in Node and in the worker.
 * - A `testing/` folder (fixtures, test backends) is imported only by tests, other testing code and the test pages.
 * - Tests are held to the same order; the few that check two rooms against each other are listed, with the reason,
 *   in TEST_EXCEPTIONS.
 * - Nothing under src/ imports a file outside src/ (packages aside).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export const ROOM_ORDER = ['ui', 'state', 'worker', 'circuit', 'model'] as const;
export const LEAVES = ['tasks', 'tokenizer', 'sw'] as const;
/** The room of a file directly in src/. */
export const ENTRY = '.';

const rightOf = (room: (typeof ROOM_ORDER)[number]) => ROOM_ORDER.slice(ROOM_ORDER.indexOf(room) + 1);

/** Rooms each room may import (besides itself). A folder missing here is an error: place it first. */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  ...Object.fromEntries(ROOM_ORDER.map((r) => [r, [...rightOf(r), ...LEAVES]])),
  ...Object.fromEntries(LEAVES.map((r) => [r, []])),
  harness: [...rightOf('ui'), ...LEAVES],
  bench: ['harness', ...rightOf('ui'), ...LEAVES],
  [ENTRY]: [...ROOM_ORDER, ...LEAVES, 'harness', 'bench'],
};

/** Packages only some rooms may import (a d3-* subpackage counts as d3). Any other package is free. */
export const PACKAGE_ROOMS: Readonly<Record<string, readonly string[]>> = {
  react: ['ui', ENTRY],
  'react-dom': ['ui', ENTRY],
  d3: ['ui'],
  zustand: ['state'],
};

/** Tests that deliberately reach rooms to their left, each with why. Paths are relative to src/. */
export const TEST_EXCEPTIONS: readonly { file: string; imports: string; why: string }[] = [
  { file: 'circuit/prune.test.ts', imports: 'state', why: 'the page\'s circuit variant (state/variants) must reproduce the circuit file\'s loss' },
  { file: 'circuit/prune.test.ts', imports: 'worker', why: 'the worker\'s task evaluation must reproduce the circuit file\'s loss' },
  { file: 'worker/taskEval.test.ts', imports: 'state', why: 'evaluates the variants the page builds (state/variants)' },
  { file: 'model/openaiImport.test.ts', imports: 'circuit', why: 'an imported OpenAI folder\'s circuits are read with circuit/\'s schema' },
  { file: 'tasks/customTask.test.ts', imports: 'tokenizer', why: 'targets must be single tokens of a real tokenizer' },
  { file: 'tasks/generators.test.ts', imports: 'tokenizer', why: 'prompts are tokenized as the real tokenizer splits them' },
];

export interface Violation {
  /** Path relative to the checked src/ folder, with forward slashes. */
  file: string;
  line: number;
  specifier: string;
  problem: string;
}

const SOURCE = /\.(ts|tsx|js|mjs|cjs)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return SOURCE.test(e.name) ? [p] : [];
  });
}

/** The room of a path relative to src/ ('ui/App.tsx' -> 'ui', 'main.tsx' -> ENTRY). */
function roomOf(rel: string): string {
  const parts = rel.split('/');
  return parts.length === 1 ? ENTRY : parts[0]!;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return /^d3-/.test(name) ? 'd3' : name;
}

const isTest = (rel: string) => /\.test\.[cm]?[jt]sx?$/.test(rel);
const isTestingCode = (rel: string) => isTest(rel) || rel.split('/').includes('testing') || ['harness', 'bench'].includes(roomOf(rel));

/** Module specifiers of one file (static and dynamic imports, re-exports), with their line numbers. */
export function importsOf(text: string): { specifier: string; line: number }[] {
  const info = ts.preProcessFile(text, true, true);
  const lineOf = (pos: number) => text.slice(0, pos).split('\n').length;
  return info.importedFiles.map((f) => ({ specifier: f.fileName, line: lineOf(f.pos) }));
}

/** The problem with one import, or null when the rules allow it. */
export function checkImport(fromRel: string, specifier: string, targetRel: string | null): string | null {
  const from = roomOf(fromRel);
  const allowed = ALLOWED[from];
  if (!allowed) return `src/${from}/ is not a known room: add it to ALLOWED in src/architecture.ts (and to the README)`;
  if (targetRel === null) {
    const pkg = packageName(specifier);
    const rooms = PACKAGE_ROOMS[pkg];
    return rooms && !rooms.includes(from) ? `${pkg} may be imported only in ${rooms.map((r) => (r === ENTRY ? 'src/*' : `${r}/`)).join(', ')}` : null;
  }
  if (targetRel.startsWith('..')) return 'imports a file outside src/';
  const to = roomOf(targetRel);
  if (targetRel.split('/').includes('testing') && !isTestingCode(fromRel)) return `production code imports test support (${targetRel})`;
  if (to === from || allowed.includes(to)) return null;
  if (isTest(fromRel) && TEST_EXCEPTIONS.some((e) => e.file === fromRel && e.imports === to)) return null;
  const leaf = (LEAVES as readonly string[]).includes(from);
  return leaf ? `${from}/ is a leaf and imports no other room, but imports ${to}/` : `${from}/ may import only ${allowed.join(', ') || 'nothing'}, not ${to}/`;
}

/** Every import under `srcDir` that breaks the rules. */
export function checkArchitecture(srcDir: string): Violation[] {
  const root = resolve(srcDir);
  const out: Violation[] = [];
  for (const abs of sourceFiles(root).sort()) {
    const rel = relative(root, abs).split(sep).join('/');
    for (const { specifier, line } of importsOf(readFileSync(abs, 'utf8'))) {
      const target = specifier.startsWith('.') ? relative(root, resolve(dirname(abs), specifier)).split(sep).join('/') : null;
      const problem = checkImport(rel, specifier, target);
      if (problem) out.push({ file: rel, line, specifier, problem });
    }
  }
  return out;
}

/** Exceptions that no longer match an import (so the list only ever shrinks to what is needed). */
export function unusedTestExceptions(srcDir: string): string[] {
  const root = resolve(srcDir);
  return TEST_EXCEPTIONS.filter((e) => {
    const abs = join(root, e.file);
    return !existsSync(abs) || !importsOf(readFileSync(abs, 'utf8')).some(({ specifier }) =>
      specifier.startsWith('.') && roomOf(relative(root, resolve(dirname(abs), specifier)).split(sep).join('/')) === e.imports);
  }).map((e) => `${e.file} -> ${e.imports}`);
}
