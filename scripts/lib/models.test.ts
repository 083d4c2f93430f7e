import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { taskFileSchema } from '../../src/tasks/taskSchema';
import { circuitFilePath, MODELS_DIR, readTask } from './models';

describe('readTask', () => {
  const stored = taskFileSchema.parse(JSON.parse(readFileSync(join(MODELS_DIR, 'dense-py-2l/tasks/if_equals.json'), 'utf8')));

  it('reads a shipped task file whole, or with its test pairs cut to the first n', () => {
    expect(stored.test.length).toBeGreaterThan(10);
    expect(readTask('dense-py-2l', 'if_equals')).toEqual(stored);
    const cut = readTask('dense-py-2l', 'if_equals', 10);
    expect(cut).toEqual({ ...stored, test: stored.test.slice(0, 10) });
  });

  it('names the missing task, the model and the command that makes task files', () => {
    expect(() => readTask('dense-py-2l', 'no_such_task')).toThrow(/no task "no_such_task" for dense-py-2l: .*no_such_task\.json is missing \(run npm run make-tasks first\)/);
    expect(() => readTask('../x', 'if_equals')).toThrow(/bad model id/);
  });
});

describe('circuitFilePath', () => {
  it('is the shipped circuit file, or the one under a run folder as --out lays it out', () => {
    expect(circuitFilePath('sparse-py-2l', 'quote')).toBe(join(MODELS_DIR, 'sparse-py-2l', 'circuits', 'quote.json'));
    expect(circuitFilePath('m', 'quote', '/tmp/runs')).toBe('/tmp/runs/m/quote.json');
  });
});
