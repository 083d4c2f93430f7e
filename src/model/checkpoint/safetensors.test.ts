import { describe, expect, it } from 'vitest';
import { toFloat16Bits, writeSafetensors } from '../testing/safetensorsWriter';
import { CheckpointError } from './errors';
import { halfToFloat, MAX_HEADER_BYTES, parseSafetensors, toFloat32, toInt32 } from './safetensors';
import { editHeader } from '../testing/testFolder';

function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('parseSafetensors', () => {
  const file = writeSafetensors(
    {
      a: { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) },
      idx: { dtype: 'I32', shape: [3], data: Int32Array.from([0, 7, -2]) },
      h: { dtype: 'F16', shape: [4], data: toFloat16Bits(Float32Array.from([1.5, -2, 65504, 1e-7])) },
    },
    { format: 'x', note: 'hi' },
  );

  it('reads tensors, metadata and widens F16', () => {
    const f = parseSafetensors(file, 'w.safetensors');
    expect(f.metadata).toEqual({ format: 'x', note: 'hi' });
    expect([...f.tensors.keys()]).toEqual(['a', 'idx', 'h']);
    const a = f.tensors.get('a')!;
    expect(a.shape).toEqual([2, 3]);
    expect([...toFloat32(a)]).toEqual([1, 2, 3, 4, 5, -6.5]);
    expect([...toInt32(f.tensors.get('idx')!)]).toEqual([0, 7, -2]);
    const h = toFloat32(f.tensors.get('h')!);
    expect([h[0], h[1], h[2]]).toEqual([1.5, -2, 65504]);
    expect(h[3]).toBeCloseTo(1.19e-7, 8); // nearest half subnormal
  });

  it('returns zero-copy views for aligned F32 and copies misaligned data', () => {
    const f = parseSafetensors(file);
    const a = toFloat32(f.tensors.get('a')!);
    expect(a.buffer).toBe(file.buffer);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const g = parseSafetensors(shifted.subarray(1));
    const b = toFloat32(g.tensors.get('a')!);
    expect(b.buffer).not.toBe(shifted.buffer);
    expect([...b]).toEqual([1, 2, 3, 4, 5, -6.5]);
  });

  it('widens BF16 and reads F64 / I64', () => {
    const bf = new Uint8Array([0x80, 0x3f, 0x00, 0xc0]); // 1.0, -2.0
    const f64 = new Uint8Array(new Float64Array([0.25]).buffer);
    const i64 = new Uint8Array(new BigInt64Array([-3n]).buffer);
    const data = new Uint8Array([...bf, ...f64, ...i64]);
    const f = parseSafetensors(
      rawFile(
        {
          b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] },
          d: { dtype: 'F64', shape: [], data_offsets: [4, 12] },
          l: { dtype: 'I64', shape: [1], data_offsets: [12, 20] },
        },
        data,
      ),
    );
    expect([...toFloat32(f.tensors.get('b')!)]).toEqual([1, -2]);
    expect([...toFloat32(f.tensors.get('d')!)]).toEqual([0.25]);
    expect([...toInt32(f.tensors.get('l')!)]).toEqual([-3]);
    expect(() => toInt32(f.tensors.get('b')!, 'x.safetensors')).toThrow('x.safetensors: tensor "b" has dtype BF16, expected an integer dtype');
  });

  it('converts half floats exactly', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('reports a truncated file with the byte counts', () => {
    const cut = file.subarray(0, file.length - 20);
    expect(() => parseSafetensors(cut, 'model.safetensors')).toThrow(
      /^model\.safetensors is truncated: header says 44 bytes of data, file has 24$/,
    );
    expect(() => parseSafetensors(file.subarray(0, 5), 'model.safetensors')).toThrow(
      'model.safetensors is truncated: it has 5 bytes, fewer than the 8-byte header length field',
    );
    expect(() => parseSafetensors(file.subarray(0, 30), 'model.safetensors')).toThrow(
      /model\.safetensors is truncated or corrupt: its header length field says \d+ bytes of JSON header, but the file has only 22 bytes/,
    );
  });

  it('refuses corrupt headers with clear messages', () => {
    const p = (b: Uint8Array) => () => parseSafetensors(b, 'm.safetensors');
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expect(p(huge)).toThrow(`m.safetensors: header length field says ${MAX_HEADER_BYTES + 1} bytes, above the 100000000-byte limit`);
    expect(p(rawFile('{"a": '))).toThrow(/^m\.safetensors: header is corrupt: not valid JSON/);
    expect(p(rawFile('[1,2]'))).toThrow('m.safetensors: header is corrupt: the JSON header is not an object');
    const bad = rawFile('{}');
    bad[8] = 0xff;
    expect(p(bad)).toThrow('header is corrupt: not valid UTF-8');
    expect(p(rawFile({ a: { dtype: 'F32', shape: [2] } }))).toThrow(
      'm.safetensors: header is corrupt: entry for tensor "a" is malformed (data_offsets:',
    );
    expect(p(rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }))).toThrow('entry for tensor "a" is malformed (shape.0:');
    expect(p(rawFile({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)))).toThrow(
      'm.safetensors: tensor "a" has unsupported dtype "Q4"',
    );
    expect(p(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(12)))).toThrow(
      'm.safetensors: header is corrupt: tensor "a" (F32 [3]) needs 12 bytes but its data_offsets [0,8] span 8',
    );
    expect(p(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, new Uint8Array(8)))).toThrow('end before begin');
    expect(
      p(
        rawFile(
          { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
          new Uint8Array(12),
        ),
      ),
    ).toThrow('m.safetensors: header is corrupt: the data of tensors "a" and "b" overlap');
    expect(p(rawFile({ __metadata__: { n: 1 } }))).toThrow('__metadata__ must map strings to strings');
    expect(p(editHeader(file, (h) => (h['a'] = 'x')))).toThrow('entry for tensor "a" is malformed');
    try {
      parseSafetensors(rawFile('{"a": '), 'm.safetensors');
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      expect((e as CheckpointError).file).toBe('m.safetensors');
    }
  });

  it('never executes anything in the header', () => {
    const evil = rawFile({ __proto__: { dtype: 'F32' }, constructor: { dtype: 'F32', shape: [0], data_offsets: [0, 0] } });
    const f = parseSafetensors(evil);
    expect(f.tensors.get('constructor')!.numel).toBe(0);
    expect(({} as Record<string, unknown>)['dtype']).toBeUndefined();
  });
});
