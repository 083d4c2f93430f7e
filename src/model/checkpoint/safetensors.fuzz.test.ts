import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteMutations, cleanly, fuzzParams, jsonMutations } from '../testing/fuzz';
import { writeSafetensors } from '../testing/safetensorsWriter';
import { testFolder } from '../testing/testFolder';
import { CheckpointError } from './errors';
import { readMeans } from './means';
import { DTYPE_BYTES, parseSafetensors, parseSafetensorsHeader, toFloat32, toInt32, type SafetensorsFile } from './safetensors';
import { readTensors } from './sparse';

/**
 * Property: any bytes given to the safetensors reader (and the compact-sparse expansion and means reader on top of
 * it) give a file or a CheckpointError naming the file; never an engine error (RangeError from a typed array,
 * TypeError from a missing entry), a hang or an allocation the file does not justify.
 */
const NAME = 'fuzz.safetensors';
const names = /fuzz\.safetensors/;
const OK = [CheckpointError];

function withHeader(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function split(file: Uint8Array): { header: unknown; data: Uint8Array } {
  const len = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + len))), data: file.subarray(8 + len) };
}

/** Everything a loader does with a parsed file, each step clean; checks what a successful read promises. */
function readAll(file: SafetensorsFile, keepSparse: boolean): void {
  for (const e of file.tensors.values()) {
    expect(e.data.length).toBe(e.numel * DTYPE_BYTES[e.dtype]);
    expect(cleanly(() => toFloat32(e), OK, names)?.length ?? e.numel).toBe(e.numel);
    cleanly(() => toInt32(e, NAME), OK, names);
  }
  const read = cleanly(() => readTensors(file, { maxDenseBytes: 4 << 20, keepSparse: () => keepSparse }), OK, names);
  if (!read) return;
  for (const [k, t] of read.dense) expect(t.data.length, k).toBe(t.shape.reduce((a, b) => a * b, 1));
  for (const [k, m] of read.sparse) expect(m.nnz, k).toBeLessThanOrEqual(m.rows * m.cols);
}

const sparseFile = testFolder({ sparse: true, config: { nLayer: 1 } });
const denseFile = testFolder({ sparse: false, config: { nLayer: 1 } });
const validFiles = [sparseFile.files['model.safetensors']!, denseFile.files['model.safetensors']!];

describe('safetensors reader, fuzzed', () => {
  it('random bytes: a file or a CheckpointError naming it', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      cleanly(() => parseSafetensorsHeader(bytes, NAME), OK, names);
      const f = cleanly(() => parseSafetensors(bytes, NAME), OK, names);
      if (f) readAll(f, false);
    }), fuzzParams(300));
  });

  it('a valid length field with random JSON or random text as header', () => {
    const header = fc.oneof(fc.json({ maxDepth: 3 }), fc.string({ maxLength: 60, unit: 'binary' }));
    fc.assert(fc.property(header, fc.uint8Array({ maxLength: 64 }), (h, data) => {
      const f = cleanly(() => parseSafetensors(withHeader(h, data), NAME), OK, names);
      if (f) readAll(f, false);
    }), fuzzParams(200));
  });

  it('headers shaped like tensor entries, with random dtypes, shapes and offsets', () => {
    const dtype = fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I32', 'I64', 'U64', 'U8', 'BOOL', 'I8', 'X', '');
    const dim = fc.oneof(fc.nat(6), fc.constantFrom(2 ** 31, 2 ** 53 - 1, 2 ** 40));
    const entry = fc.record({ dtype, shape: fc.array(dim, { maxLength: 3 }), data_offsets: fc.tuple(fc.nat(80), fc.nat(80)) });
    const meta = fc.dictionary(fc.constantFrom('sparse:w', 'sparse:x', 'format'), fc.oneof(fc.constantFrom('[2,3]', '[6]', '[1e9,1e9]', '[-1]', '[]', '"x"'), fc.string({ maxLength: 8 })));
    const tensorNames = fc.constantFrom('w', 'w.__indices', 'w.__values', 'x.__indices', 'x.__values', 'y');
    const header = fc.tuple(fc.dictionary(tensorNames, entry, { maxKeys: 4 }), meta).map(([h, m]) => JSON.stringify({ ...h, __metadata__: m }));
    fc.assert(fc.property(header, fc.uint8Array({ minLength: 0, maxLength: 96 }), fc.boolean(), (h, data, keepSparse) => {
      const f = cleanly(() => parseSafetensors(withHeader(h, data), NAME), OK, names);
      if (f) readAll(f, keepSparse);
    }), fuzzParams(400));
  });

  it('byte mutations and truncations of valid dense and compact model files', () => {
    const mutated = fc.constantFrom(...validFiles).chain((valid) => {
      const headerEnd = 8 + Number(new DataView(valid.buffer, valid.byteOffset, 8).getBigUint64(0, true));
      // Mostly edit the header (where the structure is); sometimes anywhere.
      return fc.oneof({ arbitrary: byteMutations(valid, headerEnd), weight: 3 }, { arbitrary: byteMutations(valid), weight: 1 });
    });
    fc.assert(fc.property(mutated, fc.boolean(), (bytes, keepSparse) => {
      const f = cleanly(() => parseSafetensors(bytes, NAME), OK, names);
      if (f) readAll(f, keepSparse);
    }), fuzzParams(300));
  });

  it('structural mutations of the JSON header of a compact model file', () => {
    const { header, data } = split(validFiles[0]!);
    fc.assert(fc.property(jsonMutations(header), fc.boolean(), (h, keepSparse) => {
      const f = cleanly(() => parseSafetensors(withHeader(JSON.stringify(h), data), NAME), OK, names);
      if (f) readAll(f, keepSparse);
    }), fuzzParams(400));
  });

  it('means.safetensors: mutations give means for every site or a CheckpointError', () => {
    const valid = sparseFile.files['means.safetensors']!;
    const { header, data } = split(valid);
    const mutated = fc.oneof(byteMutations(valid), jsonMutations(header).map((h) => withHeader(JSON.stringify(h), data)));
    fc.assert(fc.property(mutated, (bytes) => {
      const r = cleanly(() => readMeans(bytes, sparseFile.ckpt.config, NAME), OK, names);
      if (r) for (const m of r.means.values()) expect(m.every(Number.isFinite)).toBe(true);
    }), fuzzParams(200));
  });

  it('a tiny compact file whose dense shape cannot be allocated is refused by name, without a byte budget', () => {
    const file = writeSafetensors(
      { 'w.__indices': { dtype: 'I32', shape: [1], data: Int32Array.from([5]) }, 'w.__values': { dtype: 'F32', shape: [1], data: Float32Array.from([1]) } },
      { 'sparse:w': '[100000, 100000]' },
    );
    const f = parseSafetensors(file, NAME);
    expect(() => readTensors(f)).toThrow(CheckpointError);
    expect(() => readTensors(f)).toThrow(/"w".*too large/);
  });
});
