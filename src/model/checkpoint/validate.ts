import type { ModelConfig } from '../config';
import type { HostTensor } from '../weights';
import { CheckpointError, formatBytes } from './errors';

export { CheckpointError } from './errors';

/** Default budget for the dense float32 weights of one model (the "oversized" guard). */
export const DEFAULT_MAX_DENSE_BYTES = 2 * 1024 ** 3;

export interface ExpectedTensor {
  name: string;
  shape: number[];
  /** false: may be absent (final_logits_bias -> zeros; lm_head.weight when tied to wte). */
  required: boolean;
}

/** Every tensor model.safetensors may hold for this config, with its exact shape (docs/model-folder.md). */
export function expectedTensors(c: ModelConfig): ExpectedTensor[] {
  const d = c.dModel;
  const V = c.vocabSize;
  const Q = c.nHead * c.dHead;
  const out: ExpectedTensor[] = [];
  const add = (name: string, shape: number[], required = true) => out.push({ name, shape, required });
  const norm = (prefix: string) => {
    add(`${prefix}.weight`, [d]);
    if (!c.rmsNorm && c.lnBias) add(`${prefix}.bias`, [d]);
  };
  const linear = (prefix: string, outDim: number, inDim: number) => {
    add(`${prefix}.weight`, [outDim, inDim]);
    if (c.bias) add(`${prefix}.bias`, [outDim]);
  };
  add('transformer.wte.weight', [V, d]);
  add('transformer.wpe.weight', [c.blockSize, d]);
  for (let i = 0; i < c.nLayer; i++) {
    const h = `transformer.h.${i}`;
    norm(`${h}.ln_1`);
    linear(`${h}.attn.c_attn`, 3 * Q, d);
    linear(`${h}.attn.c_proj`, d, Q);
    if (c.sink) add(`${h}.attn.attn_imp.sink_logit`, [c.nHead]);
    norm(`${h}.ln_2`);
    linear(`${h}.mlp.c_fc`, c.dMlp, d);
    linear(`${h}.mlp.c_proj`, d, c.dMlp);
  }
  norm('transformer.ln_f');
  add('lm_head.weight', [V, d], !c.tiedUnembed);
  add('final_logits_bias', [V], false);
  if (c.bigramTable) add('bigram_table', [V, V]);
  return out;
}

/** Bytes of dense float32 weights the runtime holds for this config (every expected tensor, tied head counted once). */
export function estimateDenseBytes(c: ModelConfig): number {
  let n = 0;
  for (const t of expectedTensors(c)) {
    if (t.name === 'lm_head.weight' && c.tiedUnembed) continue;
    n += t.shape.reduce((a, b) => a * b, 1);
  }
  return n * 4;
}

/** The "oversized" guard: refuses a model whose dense weights exceed the budget, before anything is downloaded. */
export function checkMemoryBudget(c: ModelConfig, maxDenseBytes: number = DEFAULT_MAX_DENSE_BYTES): void {
  const need = estimateDenseBytes(c);
  if (need > maxDenseBytes) {
    throw new CheckpointError(
      `model is too large to load: its dense float32 weights need ${formatBytes(need)}, ` +
        `over the ${formatBytes(maxDenseBytes)} budget (n_layer=${c.nLayer}, d_model=${c.dModel}, d_mlp=${c.dMlp}, ` +
        `vocab_size=${c.vocabSize}${c.bigramTable ? ', with a bigram table' : ''})`,
      { file: 'config.json' },
    );
  }
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * Checks that every required tensor exists with exactly the expected shape and that optional ones, when present, have
 * the right shape. Returns warnings for tensors the config does not use (they are kept but ignored by the runtime).
 */
export function validateTensorShapes(
  c: ModelConfig,
  tensors: ReadonlyMap<string, { shape: readonly number[] }>,
  fileName = 'model.safetensors',
): string[] {
  const expected = expectedTensors(c);
  const missing: string[] = [];
  for (const e of expected) {
    const t = tensors.get(e.name);
    if (!t) {
      if (e.required) missing.push(e.name);
      continue;
    }
    if (t.shape.length !== e.shape.length || t.shape.some((v, i) => v !== e.shape[i])) {
      throw new CheckpointError(
        `${fileName}: tensor "${e.name}" has shape ${fmt(t.shape)}, expected ${fmt(e.shape)}`,
        { file: fileName, tensor: e.name },
      );
    }
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).map((m) => `"${m}"`).join(', ');
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
    throw new CheckpointError(
      `${fileName}: missing required tensor${missing.length > 1 ? 's' : ''} ${shown}${more} (the config needs them)`,
      { file: fileName, tensor: missing[0] },
    );
  }
  const known = new Set(expected.map((e) => e.name));
  const unused = [...tensors.keys()].filter((k) => !known.has(k));
  return unused.length
    ? [`${fileName}: ${unused.length} tensor(s) not used by this config are ignored: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ', ...' : ''}`]
    : [];
}

/** The error for a NaN or ±Infinity at a flat index of a tensor. */
export function nonFiniteError(fileName: string, name: string, shape: readonly number[], i: number, v: number): CheckpointError {
  const multi: number[] = [];
  let r = i;
  for (let k = shape.length - 1; k >= 0; k--) {
    multi.unshift(r % shape[k]!);
    r = Math.floor(r / shape[k]!);
  }
  return new CheckpointError(
    `${fileName}: tensor "${name}" has a non-finite value (${v}) at flat index ${i} ${fmt(multi)}`,
    { file: fileName, tensor: name },
  );
}

/** Refuses NaN or ±Infinity anywhere, naming the tensor and the first bad index. */
export function checkFinite(tensors: ReadonlyMap<string, HostTensor>, fileName = 'model.safetensors'): void {
  for (const [name, t] of tensors) {
    const a = t.data;
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      // v - v is 0 for finite numbers and NaN for NaN and ±Infinity.
      if (v - v !== 0) throw nonFiniteError(fileName, name, t.shape, i, v);
    }
  }
}
