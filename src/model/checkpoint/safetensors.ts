import { z } from 'zod';
import { CheckpointError } from './errors';

/**
 * A reader for the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON header, then raw little-endian tensor data. Nothing in the file is executed: the header is
 * decoded with JSON.parse and validated with zod, and tensor data is only ever viewed as numbers.
 */

/** Refuse headers above this size (the reference implementation uses the same limit). */
export const MAX_HEADER_BYTES = 100_000_000;

export const DTYPE_BYTES = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1,
} as const;
export type Dtype = keyof typeof DTYPE_BYTES;
const DTYPES = Object.keys(DTYPE_BYTES) as Dtype[];
const FLOAT_DTYPES: readonly Dtype[] = ['F64', 'F32', 'F16', 'BF16'];

export interface SafetensorsEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  numel: number;
  /** The tensor's raw little-endian bytes: a view into the file's bytes (no copy). */
  data: Uint8Array;
}

export interface SafetensorsFile {
  fileName: string;
  /** The header's `__metadata__` (string -> string); empty when absent. */
  metadata: Record<string, string>;
  /** Tensors in header order. */
  tensors: Map<string, SafetensorsEntry>;
}

const nonNegInt = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const tensorInfoSchema = z.object({
  dtype: z.string(),
  shape: z.array(nonNegInt),
  data_offsets: z.tuple([nonNegInt, nonNegInt]),
});
const metadataSchema = z.record(z.string(), z.string());

function zodProblem(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ');
}

/** Product of a shape, refusing anything that is not a safe integer. */
export function shapeNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function asBytes(data: ArrayBuffer | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

/** One tensor as the header describes it (its bytes are [begin, end) of the data section). */
export interface SafetensorsTensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  numel: number;
  begin: number;
  end: number;
}

/** A safetensors header on its own: enough to plan a load before the data is downloaded. */
export interface SafetensorsHeader {
  /** 8 + the JSON header's length: where the data section starts. */
  dataStart: number;
  metadata: Record<string, string>;
  /** Tensors in header order. */
  infos: SafetensorsTensorInfo[];
}

/**
 * Parses the 8-byte length and the JSON header. `bytes` must hold at least the whole header (a file's first
 * `8 + N` bytes); the data section is not looked at. Throws CheckpointError as parseSafetensors does.
 */
export function parseSafetensorsHeader(data: ArrayBuffer | Uint8Array, fileName = 'file.safetensors'): SafetensorsHeader {
  const bytes = asBytes(data);
  const fail = (msg: string, tensor?: string): never => {
    throw new CheckpointError(`${fileName}: ${msg}`, { file: fileName, tensor });
  };
  if (bytes.length < 8) {
    throw new CheckpointError(
      `${fileName} is truncated: it has ${bytes.length} bytes, fewer than the 8-byte header length field`,
      { file: fileName },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length field says ${headerLen64} bytes, above the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  }
  const headerLen = Number(headerLen64);
  if (8 + headerLen > bytes.length) {
    throw new CheckpointError(
      `${fileName} is truncated or corrupt: its header length field says ${headerLen} bytes of JSON header, ` +
        `but the file has only ${bytes.length - 8} bytes after the length field`,
      { file: fileName },
    );
  }
  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('header is corrupt: not valid UTF-8 (not a safetensors file?)');
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    return fail(`header is corrupt: not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    return fail('header is corrupt: the JSON header is not an object');
  }

  let metadata: Record<string, string> = {};
  const infos: SafetensorsTensorInfo[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      const m = metadataSchema.safeParse(raw);
      if (!m.success) fail(`header is corrupt: __metadata__ must map strings to strings (${zodProblem(m.error)})`);
      else metadata = { ...m.data };
      continue;
    }
    const r = tensorInfoSchema.safeParse(raw);
    if (!r.success) {
      fail(`header is corrupt: entry for tensor "${name}" is malformed (${zodProblem(r.error)})`, name);
      continue;
    }
    const info = r.data;
    if (!(DTYPES as string[]).includes(info.dtype)) {
      fail(`tensor "${name}" has unsupported dtype "${info.dtype}" (supported: ${DTYPES.join(', ')})`, name);
    }
    const dtype = info.dtype as Dtype;
    const numel = shapeNumel(info.shape);
    if (!Number.isSafeInteger(numel)) fail(`tensor "${name}" has an absurd shape [${info.shape.join(',')}]`, name);
    const [begin, end] = info.data_offsets;
    if (end < begin) fail(`header is corrupt: tensor "${name}" has data_offsets [${begin},${end}] with end before begin`, name);
    if (end - begin !== numel * DTYPE_BYTES[dtype]) {
      fail(
        `header is corrupt: tensor "${name}" (${dtype} [${info.shape.join(',')}]) needs ${numel * DTYPE_BYTES[dtype]} bytes ` +
          `but its data_offsets [${begin},${end}] span ${end - begin}`,
        name,
      );
    }
    infos.push({ name, dtype, shape: info.shape, numel, begin, end });
  }
  return { dataStart: 8 + headerLen, metadata, infos };
}

/** Parses a safetensors file. Throws CheckpointError naming `fileName` for any malformed or truncated input. */
export function parseSafetensors(data: ArrayBuffer | Uint8Array, fileName = 'file.safetensors'): SafetensorsFile {
  const bytes = asBytes(data);
  const fail = (msg: string, tensor?: string): never => {
    throw new CheckpointError(`${fileName}: ${msg}`, { file: fileName, tensor });
  };
  const { dataStart, metadata, infos } = parseSafetensorsHeader(bytes, fileName);
  const dataLength = bytes.length - dataStart;
  const dataNeeded = infos.reduce((m, t) => Math.max(m, t.end), 0);
  if (dataNeeded > dataLength) {
    throw new CheckpointError(
      `${fileName} is truncated: header says ${dataNeeded} bytes of data, file has ${dataLength}`,
      { file: fileName },
    );
  }
  const sorted = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.begin < prev.end) {
      fail(`header is corrupt: the data of tensors "${prev.name}" and "${cur.name}" overlap`, cur.name);
    }
  }

  const tensors = new Map<string, SafetensorsEntry>();
  for (const t of infos) {
    tensors.set(t.name, {
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      numel: t.numel,
      data: bytes.subarray(dataStart + t.begin, dataStart + t.end),
    });
  }
  return { fileName, metadata, tensors };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function dataView(e: SafetensorsEntry): DataView {
  return new DataView(e.data.buffer, e.data.byteOffset, e.data.byteLength);
}

/** IEEE 754 half -> float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 0x1f) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function isFloatDtype(d: Dtype): boolean {
  return FLOAT_DTYPES.includes(d);
}

/**
 * The tensor's values as float32: a zero-copy view for aligned F32 data, otherwise a new array
 * (F16 and BF16 are widened exactly; F64 and integers are rounded to the nearest float32).
 */
export function toFloat32(e: SafetensorsEntry): Float32Array {
  const n = e.numel;
  if (e.dtype === 'F32' && LITTLE_ENDIAN && e.data.byteOffset % 4 === 0) {
    return new Float32Array(e.data.buffer, e.data.byteOffset, n);
  }
  const out = new Float32Array(n);
  const dv = dataView(e);
  switch (e.dtype) {
    case 'F32': for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true); break;
    case 'F64': for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true); break;
    case 'F16': for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true)); break;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      break;
    }
    case 'I64': for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true)); break;
    case 'U64': for (let i = 0; i < n; i++) out[i] = Number(dv.getBigUint64(8 * i, true)); break;
    case 'I32': for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true); break;
    case 'U32': for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, true); break;
    case 'I16': for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true); break;
    case 'U16': for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true); break;
    case 'I8': for (let i = 0; i < n; i++) out[i] = dv.getInt8(i); break;
    case 'U8': case 'BOOL': for (let i = 0; i < n; i++) out[i] = dv.getUint8(i); break;
  }
  return out;
}

/**
 * The tensor's values as int32 (I32 zero-copy when aligned; I64/U32/U64 and smaller integer types converted, with a
 * range check). Float dtypes are refused.
 */
export function toInt32(e: SafetensorsEntry, fileName = 'file.safetensors'): Int32Array {
  const n = e.numel;
  if (e.dtype === 'I32' && LITTLE_ENDIAN && e.data.byteOffset % 4 === 0) {
    return new Int32Array(e.data.buffer, e.data.byteOffset, n);
  }
  if (isFloatDtype(e.dtype)) {
    throw new CheckpointError(`${fileName}: tensor "${e.name}" has dtype ${e.dtype}, expected an integer dtype`, {
      file: fileName, tensor: e.name,
    });
  }
  const out = new Int32Array(n);
  const dv = dataView(e);
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (e.dtype) {
      case 'I32': v = dv.getInt32(4 * i, true); break;
      case 'I64': v = Number(dv.getBigInt64(8 * i, true)); break;
      case 'U64': v = Number(dv.getBigUint64(8 * i, true)); break;
      case 'U32': v = dv.getUint32(4 * i, true); break;
      case 'I16': v = dv.getInt16(2 * i, true); break;
      case 'U16': v = dv.getUint16(2 * i, true); break;
      case 'I8': v = dv.getInt8(i); break;
      default: v = dv.getUint8(i); break;
    }
    if (v > 2147483647 || v < -2147483648) {
      throw new CheckpointError(`${fileName}: tensor "${e.name}" value ${v} at index ${i} does not fit in int32`, {
        file: fileName, tensor: e.name,
      });
    }
    out[i] = v;
  }
  return out;
}
