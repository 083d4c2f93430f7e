import type { ModelConfig } from '../../config';
import type { HostTensor } from '../../weights';
import { writeSafetensorsFile, type TensorToWrite } from '../writeSafetensors';

/**
 * The model-folder files a conversion writes, as train/model_folder.py writes them: model.safetensors with compact
 * sparse tensors where the density is below 1/2 (to_compact), means.safetensors, JSON with two-space indents and a
 * final newline (write_json), and the card's size fields (param_counts).
 */

export const FOLDER_FORMAT = 'sparse-circuit-explorer/1';

/** model_folder.to_compact: every tensor with numel > 0 and fewer than half its entries nonzero is stored compactly. */
export function compactModelFile(tensors: ReadonlyMap<string, HostTensor>): Uint8Array {
  const out = new Map<string, TensorToWrite>();
  const metadata: Record<string, string> = { format: FOLDER_FORMAT };
  for (const [name, t] of tensors) {
    let nnz = 0;
    for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0) nnz++;
    if (t.shape.length >= 1 && t.data.length > 0 && nnz < t.data.length / 2) {
      const indices = new Int32Array(nnz);
      const values = new Float32Array(nnz);
      for (let i = 0, j = 0; i < t.data.length; i++) {
        if (t.data[i] !== 0) {
          indices[j] = i;
          values[j++] = t.data[i]!;
        }
      }
      out.set(`${name}.__indices`, { dtype: 'I32', shape: [nnz], data: indices });
      out.set(`${name}.__values`, { dtype: 'F32', shape: [nnz], data: values });
      metadata[`sparse:${name}`] = JSON.stringify(t.shape);
    } else {
      out.set(name, { dtype: 'F32', shape: t.shape, data: t.data });
    }
  }
  return writeSafetensorsFile(out, metadata);
}

export function meansFile(means: ReadonlyMap<string, Float32Array>): Uint8Array {
  const out = new Map<string, TensorToWrite>();
  for (const [site, m] of means) out.set(site, { dtype: 'F32', shape: [m.length], data: m });
  return writeSafetensorsFile(out, { format: FOLDER_FORMAT });
}

export function jsonFile(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');
}

export interface ParamCounts {
  nonzero_params: number;
  total_params: number;
  weight_l0_fraction: number;
  sparsified_nonzero: number;
  sparsified_total: number;
}

/**
 * model_folder.param_counts: nonzeros over all parameters (a tied head once; final_logits_bias is a buffer, not a
 * parameter) and over the sparsified tensors only (every >= 2-D tensor and every bias; not norms, bigram, sink).
 */
export function paramCounts(tensors: ReadonlyMap<string, HostTensor>, config: ModelConfig): ParamCounts {
  const nz = (t: HostTensor) => {
    let n = 0;
    for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0) n++;
    return n;
  };
  let nonzero = 0;
  let total = 0;
  let spNonzero = 0;
  let spTotal = 0;
  for (const [name, t] of tensors) {
    if (name === 'final_logits_bias' || (config.tiedUnembed && name === 'lm_head.weight')) continue;
    const n = nz(t);
    nonzero += n;
    total += t.data.length;
    const exempt = name === 'bigram_table' || name.endsWith('sink_logit');
    if (!exempt && (t.shape.length >= 2 || name.endsWith('.bias'))) {
      spNonzero += n;
      spTotal += t.data.length;
    }
  }
  return {
    nonzero_params: nonzero, total_params: total, weight_l0_fraction: spTotal ? spNonzero / spTotal : 0,
    sparsified_nonzero: spNonzero, sparsified_total: spTotal,
  };
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
