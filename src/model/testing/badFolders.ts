/**
 * Test fixtures: one broken model folder per failure kind the loader must refuse, each with the exact message
 * the user sees. Built from a valid folder (testFolder) by breaking one thing. Used by the slot-level and the
 * engine-level "a failed load keeps the previous model" tests.
 */
import { checkpointToFolderFiles } from './safetensorsWriter';
import type { LoadedCheckpoint } from '../weights';
import type { TestFolder } from './testFolder';

export interface BadFolderCase {
  kind: string;
  files: Record<string, Uint8Array>;
  message: string | RegExp;
}

export function badFolderCases(base: TestFolder): BadFolderCase[] {
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
  const weights = base.files['model.safetensors']!;
  const headerLen = Number(new DataView(weights.buffer, weights.byteOffset, 8).getBigUint64(0, true));
  const dataLen = weights.length - 8 - headerLen;
  const corrupt = weights.slice();
  corrupt[8] = '['.charCodeAt(0);
  const d = base.ckpt.config.dModel;
  const q3 = 3 * base.ckpt.config.nHead * base.ckpt.config.dHead;

  return [
    {
      kind: 'corrupt header',
      files: { ...base.files, 'model.safetensors': corrupt },
      message: /^model\.safetensors: header is corrupt: not valid JSON \(/,
    },
    {
      kind: 'truncated data',
      files: { ...base.files, 'model.safetensors': weights.subarray(0, weights.length - 1000) },
      message: `model.safetensors is truncated: header says ${dataLen} bytes of data, file has ${dataLen - 1000}`,
    },
    {
      kind: 'wrong shape',
      files: withTensors((t) => t.set('transformer.h.0.attn.c_attn.weight', { shape: [q3, d / 2], data: new Float32Array(q3 * (d / 2)).fill(0.5) })),
      message: `model.safetensors: tensor "transformer.h.0.attn.c_attn.weight" has shape [${q3},${d / 2}], expected [${q3},${d}]`,
    },
    {
      kind: 'NaN',
      files: withTensors((t) => {
        const w = t.get('transformer.h.1.mlp.c_fc.weight')!;
        const data = w.data.slice();
        data[37] = NaN;
        t.set('transformer.h.1.mlp.c_fc.weight', { shape: w.shape, data });
      }),
      message: `model.safetensors: tensor "transformer.h.1.mlp.c_fc.weight" has a non-finite value (NaN) at flat index 37 [${Math.floor(37 / d)},${37 % d}]`,
    },
    {
      kind: 'oversized',
      files: withConfig((c) => {
        c.n_layer = 64;
        c.d_model = 2048;
        c.d_mlp = 8192;
      }),
      // The memory plan's refusal: the dense size against the weight budget, the sparse alternative, what would help.
      message: /^model is too large to load: its dense float32 weights need 8\.\d\d GiB \(\d+ bytes\), over the 2\.00 GiB \(2147483648 bytes\) budget \(n_layer=64, d_model=2048, d_mlp=8192, vocab_size=\d+\); with its linear weights kept sparse .*, its weights take \d+\.\d\d GiB .*What would help: .+\.$/,
    },
    {
      kind: 'missing required config key',
      files: withConfig((c) => delete c.d_model),
      message: 'config.json is invalid: d_model: Invalid input: expected number, received undefined',
    },
    {
      kind: 'unknown afrac location',
      files: withConfig((c) => {
        c.afrac = 0.25;
        c.afrac_loctypes = 'attn_in,mlp_gate';
      }),
      message: 'config.json is invalid: afrac_loctypes: unknown location "mlp_gate" (known: attn_in, attn_out, mlp_in, mlp_out, mlp_neuron, attn_q, attn_k, attn_v)',
    },
    {
      kind: 'missing tensor',
      files: withTensors((t) => t.delete('transformer.h.1.attn.c_proj.bias')),
      message: 'model.safetensors: missing required tensor "transformer.h.1.attn.c_proj.bias" (the config needs them)',
    },
  ];
}
