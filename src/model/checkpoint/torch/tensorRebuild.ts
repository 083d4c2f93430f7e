import { CheckpointError } from '../errors';
import { halfToFloat } from '../safetensors';
import { describe, isTuple, UnsafePickleError, type PickleCallable } from './pickleVm';

/**
 * What a torch.save state dict is made of, and the allow-list that admits only that: storages (persistent ids
 * pointing at zip entries), torch._utils._rebuild_tensor_v2 / _rebuild_parameter, and collections.OrderedDict.
 * Every other global is refused by name before anything could be made from it.
 */

export type TorchDtype = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** torch.<X>Storage -> the dtype of its elements. */
export const STORAGE_DTYPES: Readonly<Record<string, TorchDtype>> = {
  DoubleStorage: 'float64', FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool',
};
const ITEM_BYTES: Readonly<Record<TorchDtype, number>> = {
  float64: 8, float32: 4, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

export const isFloatDtype = (d: TorchDtype) => d === 'float64' || d === 'float32' || d === 'float16' || d === 'bfloat16';

/**
 * A tensor read from a .pt file, contiguous (row-major). float16/bfloat16/float32 values are Float32Array (widened
 * exactly), float64 and every integer dtype Float64Array (an int64 beyond 2^53 is refused by name).
 */
export class TorchTensor {
  constructor(
    readonly dtype: TorchDtype,
    readonly shape: readonly number[],
    readonly data: Float32Array | Float64Array,
  ) {}

  get numel(): number {
    return this.data.length;
  }
}

/** A storage's type as the pickle names it (the GLOBAL torch.FloatStorage). */
class StorageType implements PickleCallable {
  constructor(readonly pickleGlobal: string, readonly dtype: TorchDtype) {}
  call(): never {
    throw new CheckpointError(`${this.pickleGlobal} is a storage type and is not called in a torch.save file`);
  }
}

/** A storage's decoded elements. */
export interface Storage {
  readonly key: string;
  readonly dtype: TorchDtype;
  readonly values: Float32Array | Float64Array;
}

export interface TorchGlobalsOptions {
  fileName: string;
  /** The bytes of the zip entry `data/<key>`, or null when missing. */
  storageBytes(key: string): Uint8Array | null;
  littleEndian: boolean;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes a storage's raw bytes (`numel` elements of `dtype`). */
export function decodeStorage(bytes: Uint8Array, dtype: TorchDtype, numel: number, littleEndian: boolean, what: string): Float32Array | Float64Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = littleEndian;
  switch (dtype) {
    case 'float32': {
      if (le && LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, numel);
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = dv.getFloat32(4 * i, le);
      return out;
    }
    case 'float16': {
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = halfToFloat(dv.getUint16(2 * i, le));
      return out;
    }
    case 'bfloat16': {
      const out = new Float32Array(numel);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < numel; i++) u[i] = dv.getUint16(2 * i, le) << 16;
      return out;
    }
    case 'float64': {
      const out = new Float64Array(numel);
      for (let i = 0; i < numel; i++) out[i] = dv.getFloat64(8 * i, le);
      return out;
    }
    case 'int64': {
      const out = new Float64Array(numel);
      for (let i = 0; i < numel; i++) {
        const v = dv.getBigInt64(8 * i, le);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new CheckpointError(`${what}: int64 value ${v} at element ${i} is beyond 2^53 and cannot be read exactly`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'int32': { const out = new Float64Array(numel); for (let i = 0; i < numel; i++) out[i] = dv.getInt32(4 * i, le); return out; }
    case 'int16': { const out = new Float64Array(numel); for (let i = 0; i < numel; i++) out[i] = dv.getInt16(2 * i, le); return out; }
    case 'int8': { const out = new Float64Array(numel); for (let i = 0; i < numel; i++) out[i] = dv.getInt8(i); return out; }
    case 'uint8': case 'bool': { const out = new Float64Array(numel); for (let i = 0; i < numel; i++) out[i] = dv.getUint8(i); return out; }
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...): the tensor as a contiguous copy (or a
 * view, when it is the whole storage in order). Every index the strides reach is checked to lie inside the storage.
 */
export function rebuildTensor(storage: unknown, offset: unknown, size: unknown, stride: unknown, fileName: string): TorchTensor {
  const bad = (why: string): never => {
    throw new CheckpointError(`${fileName}: corrupt tensor: ${why}`, { file: fileName });
  };
  if (!isStorage(storage)) return bad(`its storage is a ${describe(storage)}`);
  if (!isCount(offset)) return bad(`storage offset ${String(offset)}`);
  if (!isTuple(size) || !size.every(isCount)) return bad(`size ${describe(size)} is not a tuple of counts`);
  if (!isTuple(stride) || stride.length !== size.length || !stride.every(isCount)) return bad('stride does not match its size');
  const shape = size as number[];
  const strides = stride as number[];
  let numel = 1;
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    numel *= shape[d]!;
    if (shape[d]! > 0) last += (shape[d]! - 1) * strides[d]!;
  }
  const values = storage.values;
  // A state dict's tensors cover at most their storage; more would be a broadcast view (stride 0), which a file could
  // use to make the reader allocate far more than the file holds.
  if (numel > values.length) return bad(`shape [${shape.join(',')}] has ${numel} elements, more than its storage's ${values.length}`);
  if (numel > 0 && last >= values.length) {
    return bad(`shape [${shape.join(',')}] with stride [${strides.join(',')}] at offset ${offset} reaches element ${last} of a storage of ${values.length}`);
  }
  const Ctor = values instanceof Float32Array ? Float32Array : Float64Array;
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d]! > 1 && strides[d] !== expect) contiguous = false;
    expect *= shape[d]!;
  }
  if (contiguous) {
    const view = values.subarray(offset, offset + numel);
    // The whole storage in order is used as is (tensors are only read); a part is copied so it does not keep the
    // rest of a large storage alive.
    return new TorchTensor(storage.dtype, shape, view.length === values.length ? view : (new Ctor(view) as Float32Array | Float64Array));
  }
  const out = new Ctor(numel);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < numel; i++) {
    let src = offset;
    for (let d = 0; d < shape.length; d++) src += idx[d]! * strides[d]!;
    out[i] = values[src]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return new TorchTensor(storage.dtype, shape, out);
}

function isStorage(v: unknown): v is Storage {
  return typeof v === 'object' && v !== null && 'values' in v && 'dtype' in v && 'key' in v;
}

const fn = (pickleGlobal: string, call: (args: readonly unknown[]) => unknown): PickleCallable => ({ pickleGlobal, call });

/** The allow-list, the persistent-id loader and BUILD for a torch.save zip's pickle. */
export function torchPickleHooks(opts: TorchGlobalsOptions) {
  const { fileName } = opts;
  const storages = new Map<string, Storage>();
  const globals = new Map<string, PickleCallable>([
    ['torch._utils._rebuild_tensor_v2', fn('torch._utils._rebuild_tensor_v2', (a) => rebuildTensor(a[0], a[1], a[2], a[3], fileName))],
    ['torch._utils._rebuild_parameter', fn('torch._utils._rebuild_parameter', (a) => {
      if (!(a[0] instanceof TorchTensor)) throw new CheckpointError(`${fileName}: corrupt parameter: its data is a ${describe(a[0])}`, { file: fileName });
      return a[0];
    })],
    ['collections.OrderedDict', fn('collections.OrderedDict', (a) => {
      const out = new Map<unknown, unknown>();
      const items = a[0];
      if (Array.isArray(items)) {
        for (const pair of items) {
          if (!Array.isArray(pair) || pair.length !== 2) throw new CheckpointError(`${fileName}: corrupt OrderedDict: an item is not a (key, value) pair`, { file: fileName });
          out.set(pair[0], pair[1]);
        }
      }
      return out;
    })],
    ...Object.entries(STORAGE_DTYPES).map(([name, dtype]) => [`torch.${name}`, new StorageType(`torch.${name}`, dtype)] as const),
  ]);

  return {
    resolveGlobal(module: string, name: string): PickleCallable {
      const full = `${module}.${name}`;
      const hit = globals.get(full);
      if (!hit) {
        throw new UnsafePickleError(
          `refused: ${fileName} asks for global ${full}; only tensor rebuilds, storages and OrderedDict are allowed`,
          { file: fileName },
        );
      }
      return hit;
    },
    /** ('storage', storage type, key, location, numel) -> the storage's elements, read once per key. */
    persistentLoad(pid: unknown): Storage {
      const bad = (why: string): never => {
        throw new CheckpointError(`${fileName}: corrupt storage reference: ${why}`, { file: fileName });
      };
      if (!isTuple(pid) || pid.length !== 5 || pid[0] !== 'storage') return bad(`expected ('storage', type, key, location, numel), got a ${describe(pid)}`);
      const [, type, key, , numel] = pid;
      if (!(type instanceof StorageType)) return bad(`its type is a ${describe(type)}`);
      if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) return bad(`key ${JSON.stringify(key)}`);
      if (!isCount(numel)) return bad(`element count ${String(numel)}`);
      const known = storages.get(key);
      if (known) {
        if (known.dtype !== type.dtype || known.values.length !== numel) return bad(`storage ${key} is named twice with different types or sizes`);
        return known;
      }
      const bytes = opts.storageBytes(key);
      if (!bytes) return bad(`storage ${key} has no data entry in the zip`);
      const need = numel * ITEM_BYTES[type.dtype];
      if (bytes.length < need) return bad(`storage ${key} should hold ${numel} ${type.dtype} values (${need} bytes) but has ${bytes.length} bytes`);
      const storage: Storage = { key, dtype: type.dtype, values: decodeStorage(bytes, type.dtype, numel, opts.littleEndian, `${fileName} storage ${key}`) };
      storages.set(key, storage);
      return storage;
    },
    /** BUILD on a state dict sets its `_metadata` (module versions): kept out, as torch's own weights-only reader
     *  keeps it out of the tensors. Anything else is not a state dict's. */
    build(obj: unknown, state: unknown): void {
      if (obj instanceof Map && (state instanceof Map || state === null || isTuple(state))) return;
      throw new CheckpointError(`${fileName}: corrupt pickle: BUILD on a ${describe(obj)} with a ${describe(state)}`, { file: fileName });
    },
  };
}

export { UnsafePickleError };
