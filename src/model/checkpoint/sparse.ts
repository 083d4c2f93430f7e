import { SparseMatrix } from '../sparseMatrix';
import type { HostTensor } from '../weights';
import { CheckpointError, formatBytes } from './errors';
import { isFloatDtype, shapeNumel, toFloat32, toInt32, type Dtype, type SafetensorsFile } from './safetensors';
import { nonFiniteError } from './validate';

/**
 * Compact sparse tensors (docs/model-folder.md): tensor `K` stored as `K.__indices` (I32 [nnz], flat row-major,
 * strictly increasing) and `K.__values` (F32 [nnz]), with its dense shape in `__metadata__["sparse:K"]`.
 */
export const SPARSE_INDICES_SUFFIX = '.__indices';
export const SPARSE_VALUES_SUFFIX = '.__values';
export const SPARSE_META_PREFIX = 'sparse:';

export interface ExpandOptions {
  /** Refuse to allocate more than this many bytes of weights in total (dense float32 and sparse matrices). */
  maxDenseBytes?: number;
  /** Keys to hold as SparseMatrix instead of dense (2-D only; the sparse representation's linear weights). */
  keepSparse?: (key: string) => boolean;
}

export interface ReadTensors {
  dense: Map<string, HostTensor>;
  /** Only keys for which keepSparse said yes; finite-checked here (the dense ones are checked by checkFinite). */
  sparse: Map<string, SparseMatrix>;
}

function parseDenseShape(text: string, fileName: string, key: string): number[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (
    !Array.isArray(v) ||
    !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) ||
    !Number.isSafeInteger(shapeNumel(v as number[]))
  ) {
    throw new CheckpointError(
      `${fileName}: __metadata__["${SPARSE_META_PREFIX}${key}"] must be a JSON array of dimension sizes, got ${JSON.stringify(text)}`,
      { file: fileName, tensor: key },
    );
  }
  return v as number[];
}

/** What the layout needs of a tensor: its header entry (a parsed file's entries and a bare header's infos both fit). */
export interface TensorHeaderEntry {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
  numel: number;
}

/** One model tensor as the file stores it: dense under its own name, or as a compact pair of `nnz` entries. */
export interface StoredTensor {
  shape: number[];
  numel: number;
  /** Stored entries of a compact pair; null when stored dense. */
  nnz: number | null;
}

/**
 * The model's tensors as the file stores them, compact pairs merged under their key, checked as far as the header
 * allows (dtypes, pair completeness, dense shapes, lengths). The one reading of the compact format's header: the
 * memory planner uses it before the download, readTensors before it touches the data. Dense tensors come first in
 * file order, then the compact ones.
 */
export function storedLayout(fileName: string, metadata: Record<string, string>, entries: Iterable<TensorHeaderEntry>): Map<string, StoredTensor> {
  const err = (msg: string, tensor?: string) => new CheckpointError(`${fileName}: ${msg}`, { file: fileName, tensor });
  const byName = new Map<string, TensorHeaderEntry>();
  for (const e of entries) byName.set(e.name, e);

  // Sparse keys come from the metadata and from component names; both must agree.
  const sparseKeys = new Set<string>();
  for (const k of Object.keys(metadata)) if (k.startsWith(SPARSE_META_PREFIX)) sparseKeys.add(k.slice(SPARSE_META_PREFIX.length));
  for (const name of byName.keys()) {
    for (const suffix of [SPARSE_INDICES_SUFFIX, SPARSE_VALUES_SUFFIX]) {
      if (name.endsWith(suffix)) sparseKeys.add(name.slice(0, -suffix.length));
    }
  }

  const out = new Map<string, StoredTensor>();
  for (const [name, e] of byName) {
    if (name.endsWith(SPARSE_INDICES_SUFFIX) || name.endsWith(SPARSE_VALUES_SUFFIX)) continue;
    if (sparseKeys.has(name)) throw err(`tensor "${name}" is stored both densely and as a compact sparse pair`, name);
    if (!isFloatDtype(e.dtype)) throw err(`tensor "${name}" has dtype ${e.dtype}; weights must be F32, F16 or BF16`, name);
    out.set(name, { shape: [...e.shape], numel: e.numel, nnz: null });
  }
  for (const key of sparseKeys) {
    const idxE = byName.get(key + SPARSE_INDICES_SUFFIX);
    const valE = byName.get(key + SPARSE_VALUES_SUFFIX);
    const shapeText = metadata[SPARSE_META_PREFIX + key];
    if (!idxE || !valE || shapeText === undefined) {
      const missing = [
        !idxE && `"${key}${SPARSE_INDICES_SUFFIX}"`,
        !valE && `"${key}${SPARSE_VALUES_SUFFIX}"`,
        shapeText === undefined && `__metadata__["${SPARSE_META_PREFIX}${key}"]`,
      ].filter(Boolean);
      throw err(`compact sparse tensor "${key}" is incomplete: missing ${missing.join(' and ')}`, key);
    }
    const shape = parseDenseShape(shapeText, fileName, key);
    const numel = shapeNumel(shape);
    if (idxE.dtype !== 'I32') throw err(`tensor "${idxE.name}" has dtype ${idxE.dtype}, expected I32`, key);
    if (!isFloatDtype(valE.dtype)) throw err(`tensor "${valE.name}" has dtype ${valE.dtype}, expected F32`, key);
    if (idxE.shape.length !== 1 || valE.shape.length !== 1 || idxE.numel !== valE.numel) {
      throw err(
        `compact sparse tensor "${key}": indices [${idxE.shape.join(',')}] and values [${valE.shape.join(',')}] must be 1-D of equal length`,
        key,
      );
    }
    if (idxE.numel > numel) throw err(`compact sparse tensor "${key}" has ${idxE.numel} entries but only ${numel} elements`, key);
    out.set(key, { shape, numel, nnz: idxE.numel });
  }
  return out;
}

/**
 * Turns every tensor of a parsed model file into a dense float32 HostTensor, expanding compact sparse pairs.
 * Validates the sparse encoding (dtypes, matching lengths, indices strictly increasing and in range).
 */
export function expandTensors(file: SafetensorsFile, opts: ExpandOptions = {}): Map<string, HostTensor> {
  return readTensors(file, { maxDenseBytes: opts.maxDenseBytes }).dense;
}

/** expandTensors, except that the keys `keepSparse` picks become SparseMatrix (never expanded to dense). */
export function readTensors(file: SafetensorsFile, opts: ExpandOptions = {}): ReadTensors {
  const { fileName } = file;
  const layout = storedLayout(fileName, file.metadata, file.tensors.values());
  const keepSparse = opts.keepSparse ?? (() => false);
  const err = (msg: string, tensor?: string) => new CheckpointError(`${fileName}: ${msg}`, { file: fileName, tensor });
  const maxBytes = opts.maxDenseBytes ?? Infinity;
  let allocated = 0;
  const charge = (numel: number, key: string) => {
    allocated += numel * 4;
    if (allocated > maxBytes) {
      throw err(
        `expanding tensor "${key}" brings the dense weights to ${formatBytes(allocated)}, over the ${formatBytes(maxBytes)} budget`,
        key,
      );
    }
  };

  // Dense tensors of a compact file are copied out so that the (small) file buffer can be freed; those of a fully
  // dense file stay zero-copy views of it (copying would double the memory of the largest download).
  const copyDense = [...layout.values()].some((t) => t.nnz !== null);
  const out = new Map<string, HostTensor>();
  const sparseOut = new Map<string, SparseMatrix>();
  const finite = (name: string, shape: readonly number[], vals: Float32Array, flat: (i: number) => number) => {
    for (let i = 0; i < vals.length; i++) if (vals[i]! - vals[i]! !== 0) throw nonFiniteError(fileName, name, shape, flat(i), vals[i]!);
  };
  for (const [name, t] of layout) {
    if (t.nnz !== null) continue;
    const e = file.tensors.get(name)!;
    const data = toFloat32(e);
    if (e.shape.length === 2 && keepSparse(name)) {
      finite(name, e.shape, data, (i) => i);
      const m = SparseMatrix.fromDense(e.shape, data);
      charge(m.bytes / 4, name);
      sparseOut.set(name, m);
      continue;
    }
    charge(e.numel, name);
    out.set(name, { shape: [...e.shape], data: copyDense && data.buffer === e.data.buffer ? data.slice() : data });
  }

  for (const [key, { shape, numel, nnz }] of layout) {
    if (nnz === null) continue;
    const idx = toInt32(file.tensors.get(key + SPARSE_INDICES_SUFFIX)!, fileName);
    const vals = toFloat32(file.tensors.get(key + SPARSE_VALUES_SUFFIX)!);
    const sparse = shape.length === 2 && keepSparse(key);
    // CSR of W^T: (cols + 1) column pointers, then an int32 row and a float32 value per entry.
    charge(sparse ? (shape[1]! + 1) + 2 * idx.length : numel, key);
    // Without a byte budget, a file of a few bytes can declare a dense shape the engine cannot allocate: refuse it
    // by name rather than let the RangeError of a typed-array constructor out.
    const tooLarge = (e: unknown) => e instanceof RangeError
      ? err(`compact sparse tensor "${key}" has dense shape [${shape.join(',')}] (${numel} elements), too large to allocate`, key)
      : e;
    let dense: Float32Array | null = null;
    try {
      if (!sparse) dense = new Float32Array(numel);
    } catch (e) {
      throw tooLarge(e);
    }
    let prev = -1;
    for (let i = 0; i < idx.length; i++) {
      const j = idx[i]!;
      if (j < 0 || j >= numel) {
        throw err(`compact sparse tensor "${key}": index ${j} at position ${i} is out of range for shape [${shape.join(',')}] (${numel} elements)`, key);
      }
      if (j <= prev) {
        throw err(`compact sparse tensor "${key}": indices are not strictly increasing at position ${i} (${prev} then ${j})`, key);
      }
      prev = j;
      if (dense) dense[j] = vals[i]!;
    }
    if (dense) {
      out.set(key, { shape, data: dense });
    } else {
      finite(key, shape, vals, (i) => idx[i]!);
      try {
        sparseOut.set(key, SparseMatrix.fromCompact(shape, idx, vals));
      } catch (e) {
        throw tooLarge(e);
      }
    }
  }
  return { dense: out, sparse: sparseOut };
}
