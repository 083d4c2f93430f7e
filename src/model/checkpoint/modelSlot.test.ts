import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointToFolderFiles } from '../testing/safetensorsWriter';
import type { LoadedCheckpoint } from '../weights';
import { loadModelFolder, type LoadedModelFolder } from './loadModelFolder';
import { ModelSlot } from './modelSlot';
import { mapSource } from './sources';
import { testFolder, type TestFolder } from './testFolder';

/**
 * A failed load must leave the previously loaded model in place. Each case starts from a valid folder
 * (randomCheckpoint + checkpointToFolderFiles), breaks one thing, and checks the error text and the old slot value.
 */
const dModelConfig = { dModel: 32, nHead: 2, dHead: 8, nLayer: 2 };
let base: TestFolder;
let slot: ModelSlot<LoadedModelFolder>;
let previous: LoadedModelFolder;

const withTensors = (edit: (t: LoadedCheckpoint['tensors']) => void): Record<string, Uint8Array> => {
  const ckpt: LoadedCheckpoint = { ...base.ckpt, tensors: new Map(base.ckpt.tensors) };
  edit(ckpt.tensors);
  return { ...base.files, ...checkpointToFolderFiles(ckpt, { sparse: true }) };
};
const withConfig = (edit: (c: Record<string, unknown>) => void): Record<string, Uint8Array> => {
  const cfg = JSON.parse(new TextDecoder().decode(base.files['config.json'])) as Record<string, unknown>;
  edit(cfg);
  return { ...base.files, 'config.json': new TextEncoder().encode(JSON.stringify(cfg)) };
};

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
  it('corrupt header', async () => {
    const m = base.files['model.safetensors']!.slice();
    m[8] = '['.charCodeAt(0);
    await expectRefused({ ...base.files, 'model.safetensors': m }, /^model\.safetensors: header is corrupt: not valid JSON \(/);
  });

  it('truncated data', async () => {
    const m = base.files['model.safetensors']!;
    const headerLen = Number(new DataView(m.buffer, m.byteOffset, 8).getBigUint64(0, true));
    const dataLen = m.length - 8 - headerLen;
    await expectRefused(
      { ...base.files, 'model.safetensors': m.subarray(0, m.length - 1000) },
      `model.safetensors is truncated: header says ${dataLen} bytes of data, file has ${dataLen - 1000}`,
    );
  });

  it('wrong shape', async () => {
    const files = withTensors((t) =>
      t.set('transformer.h.0.attn.c_attn.weight', { shape: [48, 16], data: new Float32Array(48 * 16).fill(0.5) }),
    );
    await expectRefused(files, 'model.safetensors: tensor "transformer.h.0.attn.c_attn.weight" has shape [48,16], expected [48,32]');
  });

  it('NaN', async () => {
    const files = withTensors((t) => {
      const w = t.get('transformer.h.1.mlp.c_fc.weight')!;
      const data = w.data.slice();
      data[37] = NaN;
      t.set('transformer.h.1.mlp.c_fc.weight', { shape: w.shape, data });
    });
    await expectRefused(files, 'model.safetensors: tensor "transformer.h.1.mlp.c_fc.weight" has a non-finite value (NaN) at flat index 37 [1,5]');
  });

  it('oversized', async () => {
    const files = withConfig((c) => {
      c.n_layer = 64;
      c.d_model = 2048;
      c.d_mlp = 8192;
    });
    await expectRefused(
      files,
      /^model is too large to load: its dense float32 weights need 8\.\d\d GiB \(\d+ bytes\), over the 2\.00 GiB \(2147483648 bytes\) budget \(n_layer=64, d_model=2048, d_mlp=8192, vocab_size=377\)$/,
    );
    await expectRefused(base.files, /^model is too large to load: .* over the 9\.77 KiB \(10000 bytes\) budget/, { maxDenseBytes: 10_000 });
  });

  it('missing required config key', async () => {
    await expectRefused(
      withConfig((c) => delete c.d_model),
      'config.json is invalid: d_model: Invalid input: expected number, received undefined',
    );
  });

  it('unknown afrac location', async () => {
    await expectRefused(
      withConfig((c) => {
        c.afrac = 0.25;
        c.afrac_loctypes = 'attn_in,mlp_gate';
      }),
      'config.json is invalid: afrac_loctypes: unknown location "mlp_gate" (known: attn_in, attn_out, mlp_in, mlp_out, mlp_neuron, attn_q, attn_k, attn_v)',
    );
  });

  it('missing tensor', async () => {
    const files = withTensors((t) => t.delete('transformer.h.1.attn.c_proj.bias'));
    await expectRefused(files, 'model.safetensors: missing required tensor "transformer.h.1.attn.c_proj.bias" (the config needs them)');
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
