import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolder, type LoadedModelFolder } from './loadModelFolder';
import { badFolderCases } from '../testing/badFolders';
import { ModelSlot } from './modelSlot';
import { mapSource } from './sources';
import { testFolder, type TestFolder } from '../testing/testFolder';

/**
 * A failed load must leave the previously loaded model in place. Each case starts from a valid folder
 * (randomCheckpoint + checkpointToFolderFiles), breaks one thing, and checks the error text and the old slot value.
 */
const dModelConfig = { dModel: 32, nHead: 2, dHead: 8, nLayer: 2 };
let base: TestFolder;
let slot: ModelSlot<LoadedModelFolder>;
let previous: LoadedModelFolder;

async function expectRefused(files: Record<string, Uint8Array>, message: string | RegExp, opts: { maxDenseBytes?: number } = {}) {
  const before = slot.current;
  const r = await slot.replaceIfValid(() => loadModelFolder(mapSource(files), opts));
  expect(r.ok).toBe(false);
  if (r.ok) return;
  if (typeof message === 'string') expect(r.error.message).toBe(message);
  else expect(r.error.message).toMatch(message);
  expect(slot.error).toBe(r.error);
  expect(slot.current).toBe(before);
  expect(slot.current).toBe(previous);
  // The old model is intact.
  expect(previous.checkpoint.tensors.get('transformer.wte.weight')!.data).toEqual(base.ckpt.tensors.get('transformer.wte.weight')!.data);
}

beforeAll(async () => {
  base = testFolder({ config: dModelConfig, seed: 7 });
  slot = new ModelSlot<LoadedModelFolder>();
  const r = await slot.replaceIfValid(() => loadModelFolder(mapSource(base.files)));
  expect(r.ok).toBe(true);
  previous = slot.current!;
});

describe('a failed load keeps the previous model', () => {
  it.each(badFolderCases(testFolder({ config: dModelConfig, seed: 7 })).map((c) => [c.kind, c] as const))('%s', async (_kind, c) => {
    await expectRefused(c.files, c.message);
  });

  it('oversized for a caller-given budget', async () => {
    await expectRefused(base.files, /^model is too large to load: .* over the 9\.77 KiB \(10000 bytes\) budget/, { maxDenseBytes: 10_000 });
  });

  it('a later valid load replaces the model and disposes the old one', async () => {
    const disposed: number[] = [];
    const s = new ModelSlot<{ n: number }>((old) => disposed.push(old.n));
    await s.replaceIfValid(async () => ({ n: 1 }));
    const fail = await s.replaceIfValid(async () => {
      throw new Error('boom');
    });
    expect(fail).toMatchObject({ ok: false, error: { message: 'boom' } });
    expect(s.current).toEqual({ n: 1 });
    expect(disposed).toEqual([]);
    await s.replaceIfValid(async () => ({ n: 2 }));
    expect(s.current).toEqual({ n: 2 });
    expect(s.error).toBeNull();
    expect(disposed).toEqual([1]);
  });

  it('a load overtaken by a newer one is dropped', async () => {
    const disposed: number[] = [];
    const s = new ModelSlot<{ n: number }>((old) => disposed.push(old.n));
    let release!: () => void;
    const slow = s.replaceIfValid(() => new Promise<{ n: number }>((res) => (release = () => res({ n: 1 }))));
    await s.replaceIfValid(async () => ({ n: 2 }));
    release();
    expect(await slow).toMatchObject({ ok: false, superseded: true });
    expect(s.current).toEqual({ n: 2 });
    expect(disposed).toEqual([1]);
    let calls = 0;
    const unsubscribe = s.subscribe(() => calls++);
    await s.replaceIfValid(async () => ({ n: 3 }));
    unsubscribe();
    await s.replaceIfValid(async () => ({ n: 4 }));
    expect(calls).toBe(1);
  });
});
