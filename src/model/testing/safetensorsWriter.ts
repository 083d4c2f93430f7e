/**
 * A minimal in-memory safetensors writer for tests: builds checkpoint folders (docs/model-folder.md) from a
 * LoadedCheckpoint, optionally with compact sparse tensors.
 */
import { configToJson } from '../config';
import type { LoadedCheckpoint } from '../weights';

export type WritableDtype = 'F32' | 'I32' | 'F16';

export interface WritableTensor {
  dtype: WritableDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint16Array;
}

export const SPARSE_FORMAT = 'sparse-circuit-explorer/1';

const BYTES: Record<WritableDtype, number> = { F32: 4, I32: 4, F16: 2 };

/**
 * Serialises tensors as safetensors: 8-byte little-endian header length, JSON header (`__metadata__` first, then
 * the tensors in insertion order, padded with spaces so the data starts 8-byte aligned), then the raw
 * little-endian data, contiguous in insertion order (no gaps, as the format requires; put F16 tensors last if
 * 4-byte alignment of the others matters to a reader).
 */
export function writeSafetensors(tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const parts: { bytes: Uint8Array; offset: number }[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new Error('writeSafetensors: "__metadata__" is not a tensor name');
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) {
      throw new Error(`writeSafetensors: "${name}" has ${t.data.length} values for shape [${t.shape.join(',')}]`);
    }
    const expected = t.dtype === 'F32' ? Float32Array : t.dtype === 'I32' ? Int32Array : Uint16Array;
    if (!(t.data instanceof expected)) throw new Error(`writeSafetensors: "${name}" data does not match dtype ${t.dtype}`);
    const nbytes = size * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + nbytes] };
    parts.push({ bytes: littleEndianBytes(t.data), offset });
    offset += nbytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - ((8 + headerBytes.length) % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  const dataStart = 8 + headerBytes.length;
  for (const p of parts) out.set(p.bytes, dataStart + p.offset);
  return out;
}

function littleEndianBytes(data: Float32Array | Int32Array | Uint16Array): Uint8Array {
  const out = new Uint8Array(data.length * data.BYTES_PER_ELEMENT);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else if (data instanceof Int32Array) data.forEach((v, i) => view.setInt32(i * 4, v, true));
  else data.forEach((v, i) => view.setUint16(i * 2, v, true));
  return out;
}

/** float32 -> IEEE half bits, round to nearest even (overflow -> inf, NaN kept). For writing F16 test tensors. */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i]!;
    const x = u[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      // subnormal half (or zero)
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && (h & 1))) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent, which is correct
    out[i] = sign | h;
  }
  return out;
}

/**
 * The files of a model folder for a checkpoint: config.json, model.safetensors and means.safetensors.
 * With `sparse`, every tensor of rank >= 2 whose density is below 1/2 is stored compactly as
 * `K.__indices` (I32 flat row-major, strictly increasing) + `K.__values` (F32) with `__metadata__["sparse:K"]`
 * = its dense shape as JSON.
 */
export function checkpointToFolderFiles(ckpt: LoadedCheckpoint, opts: { sparse: boolean }): Record<string, Uint8Array> {
  const enc = new TextEncoder();
  const cfg = configToJson(ckpt.config);
  if (cfg.tokenizer_name === undefined) delete cfg.tokenizer_name;

  const tensors: Record<string, WritableTensor> = {};
  const metadata: Record<string, string> = { format: SPARSE_FORMAT };
  for (const [name, t] of ckpt.tensors) {
    let nnz = 0;
    for (const v of t.data) if (v !== 0) nnz++;
    if (opts.sparse && t.shape.length >= 2 && nnz < t.data.length / 2) {
      const indices = new Int32Array(nnz);
      const values = new Float32Array(nnz);
      let j = 0;
      t.data.forEach((v, i) => {
        if (v !== 0) {
          indices[j] = i;
          values[j++] = v;
        }
      });
      tensors[`${name}.__indices`] = { dtype: 'I32', shape: [nnz], data: indices };
      tensors[`${name}.__values`] = { dtype: 'F32', shape: [nnz], data: values };
      metadata[`sparse:${name}`] = JSON.stringify(t.shape);
    } else {
      tensors[name] = { dtype: 'F32', shape: [...t.shape], data: t.data };
    }
  }

  const means: Record<string, WritableTensor> = {};
  for (const [site, m] of ckpt.means) means[site] = { dtype: 'F32', shape: [m.length], data: m };

  return {
    'config.json': enc.encode(JSON.stringify(cfg, null, 2)),
    'model.safetensors': writeSafetensors(tensors, metadata),
    'means.safetensors': writeSafetensors(means),
  };
}
