import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from './randomCheckpoint';
import { checkpointToFolderFiles, SPARSE_FORMAT, toFloat16Bits, writeSafetensors } from './safetensorsWriter';

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** A deliberately plain safetensors parse, independent of the runtime's reader. */
function parse(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  delete header.__metadata__;
  const start = 8 + n;
  const tensors = new Map<string, { dtype: string; shape: number[]; values: number[] }>();
  for (const [name, e] of Object.entries(header as Record<string, Entry>)) {
    const [b, en] = e.data_offsets;
    const values: number[] = [];
    for (let o = start + b; o < start + en; ) {
      if (e.dtype === 'F32') values.push(view.getFloat32(o, true)), (o += 4);
      else if (e.dtype === 'I32') values.push(view.getInt32(o, true)), (o += 4);
      else values.push(view.getUint16(o, true)), (o += 2);
    }
    tensors.set(name, { dtype: e.dtype, shape: e.shape, values });
  }
  return { headerLength: n, metadata, tensors, dataLength: bytes.length - start };
}

describe('writeSafetensors', () => {
  it('writes an aligned header, contiguous data in insertion order, and metadata', () => {
    const bytes = writeSafetensors(
      {
        b: { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1, -2, 3.5, 0]) },
        a: { dtype: 'I32', shape: [3], data: Int32Array.from([7, -1, 2 ** 30]) },
        h: { dtype: 'F16', shape: [1], data: Uint16Array.from([0x3c00]) },
      },
      { format: 'x' },
    );
    const p = parse(bytes);
    expect((8 + p.headerLength) % 8).toBe(0);
    expect(p.metadata).toEqual({ format: 'x' });
    expect([...p.tensors.keys()]).toEqual(['b', 'a', 'h']);
    expect(p.tensors.get('b')).toEqual({ dtype: 'F32', shape: [2, 2], values: [1, -2, 3.5, 0] });
    expect(p.tensors.get('a')!.values).toEqual([7, -1, 2 ** 30]);
    expect(p.tensors.get('h')!.values).toEqual([0x3c00]);
    expect(p.dataLength).toBe(16 + 12 + 2);
  });

  it('rejects a size mismatch', () => {
    expect(() => writeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/shape/);
  });
});

describe('toFloat16Bits', () => {
  it('encodes known values with round-to-nearest-even', () => {
    const bits = toFloat16Bits(Float32Array.from([1, -2, 65504, 65520, 0.5, 5.960464477539063e-8, 2.9802322387695312e-8, 1e-9, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -0, Infinity]));
    expect(Array.from(bits)).toEqual([0x3c00, 0xc000, 0x7bff, 0x7c00, 0x3800, 0x0001, 0x0000, 0x0000, 0x3c00, 0x3c02, 0x8000, 0x7c00]);
    expect(toFloat16Bits(Float32Array.from([NaN]))[0]! & 0x7c00).toBe(0x7c00);
  });
});

describe('checkpointToFolderFiles', () => {
  const ckpt = randomCheckpoint({
    config: { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true, bigramTable: true, rmsNorm: false },
    seed: 9,
  });

  /** Expand the compact tensors of a parsed model.safetensors to dense ones. */
  function denseTensors(p: ReturnType<typeof parse>) {
    const out = new Map<string, { shape: number[]; values: number[] }>();
    for (const [name, t] of p.tensors) {
      if (name.endsWith('.__indices') || name.endsWith('.__values')) continue;
      out.set(name, { shape: t.shape, values: t.values });
    }
    for (const [key, shapeJson] of Object.entries(p.metadata)) {
      if (!key.startsWith('sparse:')) continue;
      const name = key.slice('sparse:'.length);
      const shape = JSON.parse(shapeJson) as number[];
      const idx = p.tensors.get(`${name}.__indices`)!;
      const val = p.tensors.get(`${name}.__values`)!;
      expect(idx.dtype).toBe('I32');
      expect(val.dtype).toBe('F32');
      for (let i = 1; i < idx.values.length; i++) expect(idx.values[i]!).toBeGreaterThan(idx.values[i - 1]!);
      const values = new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0);
      idx.values.forEach((flat, i) => (values[flat] = val.values[i]!));
      out.set(name, { shape, values });
    }
    return out;
  }

  for (const sparse of [true, false]) {
    it(`round-trips every tensor (sparse=${sparse})`, () => {
      const files = checkpointToFolderFiles(ckpt, { sparse });
      expect(Object.keys(files).sort()).toEqual(['config.json', 'means.safetensors', 'model.safetensors']);

      const cfg = parseConfig(JSON.parse(new TextDecoder().decode(files['config.json'])));
      expect({ ...cfg, afracLocations: [...cfg.afracLocations] }).toEqual({
        ...ckpt.config, afracLocations: [...ckpt.config.afracLocations],
      });

      const p = parse(files['model.safetensors']!);
      expect(p.metadata.format).toBe(SPARSE_FORMAT);
      const sparseKeys = Object.keys(p.metadata).filter((k) => k.startsWith('sparse:'));
      if (sparse) {
        expect(sparseKeys).toContain('sparse:transformer.h.0.mlp.c_fc.weight');
        expect(sparseKeys).not.toContain('sparse:bigram_table'); // dense
        expect(sparseKeys.every((k) => ckpt.tensors.get(k.slice(7))!.shape.length >= 2)).toBe(true);
      } else {
        expect(sparseKeys).toEqual([]);
      }
      const dense = denseTensors(p);
      expect([...dense.keys()].sort()).toEqual([...ckpt.tensors.keys()].sort());
      for (const [name, t] of ckpt.tensors) {
        expect(dense.get(name)!.shape, name).toEqual(t.shape);
        expect(dense.get(name)!.values, name).toEqual(Array.from(t.data));
      }

      const m = parse(files['means.safetensors']!);
      expect(m.tensors.size).toBe(ckpt.means.size);
      for (const [name, v] of ckpt.means) expect(m.tensors.get(name)!.values).toEqual(Array.from(v));
    });
  }
});
