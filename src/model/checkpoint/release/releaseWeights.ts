import type { ModelConfig } from '../../config';
import type { HostTensor } from '../../weights';
import { CheckpointError } from '../errors';
import { isFloatDtype, TorchTensor } from '../torch/tensorRebuild';
import { describe } from '../torch/pickleVm';
import { expectedTensors } from '../validate';
import { listed, shapeStr } from './pyRepr';

/**
 * The released state dict (final_model.pt, read by torch/readTorchFile.ts) -> float32 tensors under our key names,
 * refusing whatever could change the model: the rules of train/openai_import/weights.py (normalize_state), with its
 * messages. torch.compile / DistributedDataParallel prefixes are stripped, fp16/bf16 (and fp64) become float32, a
 * missing final_logits_bias becomes zeros, a tied head is filled from the embedding, shapes must match the config.
 */

const PREFIXES = ['_orig_mod.', 'module.'];

export interface ReleaseWeights {
  /** Every tensor the config needs, in expectedTensors order, float32. */
  tensors: Map<string, HostTensor>;
  notes: string[];
}

/** Python's type name of a pickled value, for messages ("int", "dict", ...). */
function pyType(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  return describe(v);
}

export function normalizeReleaseState(raw: unknown, config: ModelConfig, configJson: Record<string, unknown>, src: string, dropKeys: readonly string[] = []): ReleaseWeights {
  const notes: string[] = [];
  const err = (msg: string, tensor?: string) => new CheckpointError(`${src}: ${msg}`, { file: src, tensor });
  if (!(raw instanceof Map)) throw err(`expected a state dict (a mapping of names to tensors), got ${pyType(raw)}`);
  let state = raw as Map<unknown, unknown>;
  if (![...state.values()].some((v) => v instanceof TorchTensor)) {
    const nested = ['model', 'state_dict'].filter((k) => state.get(k) instanceof Map);
    if (!nested.length) throw err(`holds no tensors at top level (keys: ${[...state.keys()].slice(0, 8).map(String).join(', ')})`);
    notes.push(`state dict taken from key '${nested[0]}'`);
    state = state.get(nested[0]) as Map<unknown, unknown>;
  }
  const expected = expectedTensors(config);
  const expectedNames = new Set(expected.map((t) => t.name));
  const got = new Map<string, TorchTensor>();
  const dtypes = new Map<string, number>();
  for (const [k, v] of state) {
    let name = String(k);
    for (const p of PREFIXES) if (name.startsWith(p)) name = name.slice(p.length);
    if (dropKeys.includes(name)) {
      notes.push(`dropped tensor ${name} (--drop-key)`);
      continue;
    }
    if (!(v instanceof TorchTensor)) throw err(`entry "${name}" is a ${pyType(v)}, not a tensor`, name);
    dtypes.set(v.dtype, (dtypes.get(v.dtype) ?? 0) + 1);
    if (!isFloatDtype(v.dtype)) throw err(`tensor "${name}" has dtype torch.${v.dtype}; expected a floating-point tensor`, name);
    got.set(name, v);
  }
  const unexpected = [...got.keys()].filter((k) => !expectedNames.has(k)).sort();
  if (unexpected.length) {
    throw err(
      `tensor(s) the configured architecture does not use: ${listed(unexpected)}. They may change the forward pass, so the ` +
        'import stops; drop each one known to be harmless',
      unexpected[0],
    );
  }
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array | Float64Array }>(got);
  if (!tensors.has('final_logits_bias')) {
    tensors.set('final_logits_bias', { shape: [config.vocabSize], data: new Float32Array(config.vocabSize) });
    notes.push('final_logits_bias missing: zeros');
  }
  if (config.tiedUnembed && !tensors.has('lm_head.weight') && tensors.has('transformer.wte.weight')) {
    tensors.set('lm_head.weight', tensors.get('transformer.wte.weight')!);
  }
  const missing = expected.map((t) => t.name).filter((k) => !tensors.has(k)).sort();
  if (missing.length) throw err(`missing tensor(s) the config needs: ${listed(missing)}`, missing[0]);
  const c = configJson;
  for (const { name, shape } of expected) {
    const have = tensors.get(name)!.shape;
    if (have.length !== shape.length || have.some((s, i) => s !== shape[i])) {
      throw err(
        `tensor "${name}" has shape ${shapeStr(have)}, expected ${shapeStr(shape)} (from beeg_config.json: n_layer=${c.n_layer}, ` +
          `d_model=${c.d_model}, n_head=${c.n_head}, d_head=${c.d_head}, d_mlp=${c.d_mlp}, vocab_size=${c.vocab_size}, block_size=${c.block_size})`,
        name,
      );
    }
  }
  const out = new Map<string, HostTensor>();
  for (const { name } of expected) {
    const t = tensors.get(name)!;
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw err(`tensor "${name}" has a non-finite value at flat index ${i}`, name);
    }
    out.set(name, { shape: [...t.shape], data });
  }
  if ([...dtypes.keys()].some((d) => d !== 'float32')) {
    notes.push(`checkpoint dtypes {${[...dtypes].map(([d, n]) => `'${d}': ${n}`).join(', ')}}: widened to float32`);
  }
  return { tensors: out, notes };
}
