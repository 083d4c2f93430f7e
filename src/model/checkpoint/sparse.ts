import type { HostTensor } from '../weights';
import { CheckpointError, formatBytes } from './errors';
import { isFloatDtype, shapeNumel, toFloat32, toInt32, type SafetensorsFile } from './safetensors';

/**
 * Compact sparse tensors (docs/model-folder.md): tensor `K` stored as `K.__indices` (I32 [nnz], flat row-major,
 * strictly increasing) and `K.__values` (F32 [nnz]), with its dense shape in `__metadata__["sparse:K"]`.
 */
export const SPARSE_INDICES_SUFFIX = '.__indices';
export const SPARSE_VALUES_SUFFIX = '.__values';
export const SPARSE_META_PREFIX = 'sparse:';

export interface ExpandOptions {
  /** Refuse to allocate more than this many bytes of dense float32 data in total. */
  maxDenseBytes?: number;
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

/**
 * Turns every tensor of a parsed model file into a dense float32 HostTensor, expanding compact sparse pairs.
 * Validates the sparse encoding (dtypes, matching lengths, indices strictly increasing and in range).
 */
export function expandTensors(file: SafetensorsFile, opts: ExpandOptions = {}): Map<string, HostTensor> {
  const { fileName } = file;
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

  // Sparse keys come from the metadata and from component names; both must agree.
  const sparseKeys = new Set<string>();
  for (const k of Object.keys(file.metadata)) if (k.startsWith(SPARSE_META_PREFIX)) sparseKeys.add(k.slice(SPARSE_META_PREFIX.length));
  for (const name of file.tensors.keys()) {
    for (const suffix of [SPARSE_INDICES_SUFFIX, SPARSE_VALUES_SUFFIX]) {
      if (name.endsWith(suffix)) sparseKeys.add(name.slice(0, -suffix.length));
    }
  }

  // Dense tensors of a compact file are copied out so that the (small) file buffer can be freed; those of a fully
  // dense file stay zero-copy views of it (copying would double the memory of the largest download).
  const copyDense = sparseKeys.size > 0;
  const out = new Map<string, HostTensor>();
  for (const [name, e] of file.tensors) {
    if (name.endsWith(SPARSE_INDICES_SUFFIX) || name.endsWith(SPARSE_VALUES_SUFFIX)) continue;
    if (sparseKeys.has(name)) throw err(`tensor "${name}" is stored both densely and as a compact sparse pair`, name);
    if (!isFloatDtype(e.dtype)) throw err(`tensor "${name}" has dtype ${e.dtype}; weights must be F32, F16 or BF16`, name);
    charge(e.numel, name);
    const data = toFloat32(e);
    out.set(name, { shape: [...e.shape], data: copyDense && data.buffer === e.data.buffer ? data.slice() : data });
  }

  for (const key of sparseKeys) {
    const idxE = file.tensors.get(key + SPARSE_INDICES_SUFFIX);
    const valE = file.tensors.get(key + SPARSE_VALUES_SUFFIX);
    const shapeText = file.metadata[SPARSE_META_PREFIX + key];
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
    const idx = toInt32(idxE, fileName);
    const vals = toFloat32(valE);
    charge(numel, key);
    const dense = new Float32Array(numel);
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
      dense[j] = vals[i]!;
    }
    out.set(key, { shape, data: dense });
  }
  return out;
}
