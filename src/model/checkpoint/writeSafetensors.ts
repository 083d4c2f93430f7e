/**
 * Writing safetensors files (the format safetensors.ts reads): an 8-byte little-endian header length, the JSON header
 * (`__metadata__` first, then the tensors in the given order, padded with spaces so the data starts 8-byte aligned),
 * then the raw little-endian data, contiguous in the given order. Used where a model folder is made in the page (an
 * OpenAI release converted in the browser); src/model/testing has its own small writer for fixtures.
 */

export interface TensorToWrite {
  dtype: 'F32' | 'I32';
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function writeSafetensorsFile(tensors: ReadonlyMap<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('"__metadata__" is not a tensor name');
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== numel) throw new Error(`tensor "${name}" has ${t.data.length} values for shape [${t.shape.join(',')}]`);
    if ((t.dtype === 'F32') !== t.data instanceof Float32Array) throw new Error(`tensor "${name}": data does not match dtype ${t.dtype}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + 4 * numel] };
    offset += 4 * numel;
  }
  const enc = new TextEncoder();
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + enc.encode(json).length) % 8)) % 8);
  const headerBytes = enc.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else if (t.data instanceof Float32Array) t.data.forEach((v, i) => view.setFloat32(at + 4 * i, v, true));
    else t.data.forEach((v, i) => view.setInt32(at + 4 * i, v, true));
    at += t.data.byteLength;
  }
  return out;
}
