import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkArchitecture, unusedTestExceptions, type Violation } from './architecture';

const show = (v: Violation) => `${v.file}:${v.line} ${v.specifier}: ${v.problem}`;

describe('room order (DESIGN.md; rules in src/architecture.ts)', () => {
  it('no import under src/ breaks it', () => {
    expect(checkArchitecture(__dirname).map(show)).toEqual([]);
  });

  it('every listed test exception is still needed', () => {
    expect(unusedTestExceptions(__dirname)).toEqual([]);
  });

  // The checker itself, on a fake tree with one kind of violation per file (test-fixtures/architecture/): it must
  // find exactly these, and nothing in the files marked allowed.
  it('fails on forbidden imports (fixture tree)', () => {
    const found = checkArchitecture(resolve(__dirname, '../test-fixtures/architecture/src')).map(show);
    expect(found).toEqual([
      'circuit/bisect.test.ts:2 ../state/store: circuit/ may import only model, tasks, tokenizer, sw, not state/',
      'extras/helper.ts:2 zod: src/extras/ is not a known room: add it to ALLOWED in src/architecture.ts (and to the README)',
      'model/forward.ts:2 ../circuit/prune: model/ may import only tasks, tokenizer, sw, not circuit/',
      'model/forward.ts:3 d3-shape: d3 may be imported only in ui/',
      'model/forward.ts:4 ../ui/App: model/ may import only tasks, tokenizer, sw, not ui/',
      'tasks/split.ts:2 ../circuit/prune: tasks/ is a leaf and imports no other room, but imports circuit/',
      'tasks/split.ts:3 zustand: zustand may be imported only in state/',
      'worker/job.ts:2 ../model/testing/fakeFolder: production code imports test support (model/testing/fakeFolder)',
      'worker/job.ts:3 ../../outside: imports a file outside src/',
    ]);
  });
});
