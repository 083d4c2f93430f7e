import { beforeAll, describe, expect, it } from 'vitest';
import { badFolderCases } from '../model/testing/badFolders';
import { testFolder } from '../model/testing/testFolder';
import { useBackend } from '../model/testing/nodeBackends';
import { Engine } from './engine';
import type { PredictResult } from './protocol';

// Through the app's engine (the worker's logic): after every refused checkpoint, the message names the
// problem and the previously loaded model still answers, with exactly the same predictions as before.
const config = { dModel: 32, nHead: 2, dHead: 8, nLayer: 2 };
const PROMPT = 'print("hi';

function asFiles(files: Record<string, Uint8Array>): File[] {
  return Object.entries(files).map(([path, bytes]) => new File([bytes.slice()], path.split('/').pop()!));
}

const noProgress = () => {};
let engine: Engine;
let before: PredictResult;

beforeAll(async () => {
  await useBackend('cpu');
  engine = new Engine();
  await engine.load({ kind: 'files', files: asFiles(testFolder({ config, seed: 7 }).files) }, noProgress, new AbortController().signal);
  before = await engine.predict(PROMPT, 5, []);
});

describe('engine: a refused checkpoint leaves the old model answering', () => {
  it.each(badFolderCases(testFolder({ config, seed: 7 })).map((c) => [c.kind, c] as const))('%s', async (_kind, c) => {
    const load = engine.load({ kind: 'files', files: asFiles(c.files) }, noProgress, new AbortController().signal);
    await expect(load).rejects.toThrow(c.message);
    const after = await engine.predict(PROMPT, 5, []);
    expect(after.tokens).toEqual(before.tokens);
    expect(after.top.map((p) => [p.id, p.logit])).toEqual(before.top.map((p) => [p.id, p.logit]));
  });

  it('a cancelled load keeps the old model too', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(engine.load({ kind: 'files', files: asFiles(testFolder({ config, seed: 8 }).files) }, noProgress, ctrl.signal)).rejects.toThrow();
    expect((await engine.predict(PROMPT, 5, [])).top[0]!.id).toBe(before.top[0]!.id);
  });

  it('an over-long prompt is refused with the context size, and the model keeps answering', async () => {
    await expect(engine.predict('x = 1\n'.repeat(200), 5, [])).rejects.toThrow(/this model's context holds 32/);
    expect((await engine.predict(PROMPT, 5, [])).top[0]!.id).toBe(before.top[0]!.id);
  });
});
