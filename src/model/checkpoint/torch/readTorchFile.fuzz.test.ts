import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteMutations, cleanly, fuzzParams } from '../../testing/fuzz';
import { stateDictPickle, torchZip } from '../../testing/torchFiles';
import { CheckpointError } from '../errors';
import { unpickle } from './pickleVm';
import { readTorchFile } from './readTorchFile';
import { TorchTensor, torchPickleHooks } from './tensorRebuild';
import { readZipEntries } from './zipEntries';

/**
 * Property: any bytes given to the .pt reader (truncated, corrupted, inserted into or cut from a valid file) give
 * plain values or a CheckpointError that names the file; never an engine error (RangeError, TypeError), a hang, or
 * an allocation the file does not justify (every tensor read is within its storage).
 */
const NAME = 'fuzz.pt';
const names = /fuzz\.pt/;
const OK = [CheckpointError];
const FIX = resolve(__dirname, '../../../../test-fixtures/openai-small/released');

const small = torchZip(stateDictPickle([
  { name: 'a', storage: 'FloatStorage', key: '0', numel: 6, size: [2, 3], stride: [3, 1] },
  { name: 'b', storage: 'HalfStorage', key: '1', numel: 4, size: [4], stride: [1] },
]), { 0: new Uint8Array(24).fill(0x3f), 1: new Uint8Array(8).fill(0x3c) });
const means = new Uint8Array(readFileSync(join(FIX, 'viz/csp_tiny/mean_baseline_pretrain.pt')));
const modelZip = readZipEntries(new Uint8Array(readFileSync(join(FIX, 'models/csp_tiny/final_model.pt'))), 'final_model.pt');
const modelPickle = modelZip.read('final_model/data.pkl')!;

/** What a successful read promises: every tensor's data matches its shape. */
function checkValues(v: unknown, depth = 0): void {
  if (depth > 50) return;
  if (v instanceof TorchTensor) expect(v.data.length).toBe(v.shape.reduce((a, b) => a * b, 1));
  else if (v instanceof Map) for (const x of v.values()) checkValues(x, depth + 1);
  else if (Array.isArray(v)) for (const x of v) checkValues(x, depth + 1);
}

describe('.pt reader, fuzzed', () => {
  it('random bytes: values or a CheckpointError naming the file', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      checkValues(cleanly(() => readTorchFile(bytes, NAME), OK, names));
    }), fuzzParams(300));
  });

  it('every truncation of a small valid file', () => {
    for (let n = 0; n < small.length; n++) checkValues(cleanly(() => readTorchFile(small.slice(0, n), NAME), OK, names));
  });

  it('mutations of a small valid file and of the fixture\'s mean baseline', () => {
    fc.assert(fc.property(fc.oneof(byteMutations(small), byteMutations(means)), (bytes) => {
      checkValues(cleanly(() => readTorchFile(bytes, NAME), OK, names));
    }), fuzzParams(300));
  });

  it('mutations of the checkpoint\'s pickle (inside an intact zip, with its real storages)', () => {
    fc.assert(fc.property(byteMutations(modelPickle), (pickle) => {
      const hooks = torchPickleHooks({ fileName: NAME, littleEndian: true, storageBytes: (k) => modelZip.read(`final_model/data/${k}`) });
      checkValues(cleanly(() => unpickle(pickle, { fileName: NAME, ...hooks }), OK, names));
    }), fuzzParams(400));
  });

  it('every truncation of the checkpoint\'s pickle ends in a clear error', () => {
    for (let n = 0; n < modelPickle.length; n += 7) {
      const hooks = torchPickleHooks({ fileName: NAME, littleEndian: true, storageBytes: (k) => modelZip.read(`final_model/data/${k}`) });
      expect(() => unpickle(modelPickle.slice(0, n), { fileName: NAME, ...hooks })).toThrow(CheckpointError);
    }
  });
});
