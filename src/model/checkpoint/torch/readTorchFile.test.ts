import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toFloat16Bits } from '../../testing/safetensorsWriter';
import { P, stateDictPickle, torchZip } from '../../testing/torchFiles';
import { CheckpointError } from '../errors';
import { parseSafetensors } from '../safetensors';
import { expandTensors } from '../sparse';
import { UnsafePickleError } from './pickleVm';
import { readTorchFile } from './readTorchFile';
import { TorchTensor } from './tensorRebuild';

const FIX = resolve(__dirname, '../../../../test-fixtures/openai-small');
const bytesOf = (p: string) => new Uint8Array(readFileSync(join(FIX, p)));
const f32Bytes = (v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

describe('reading torch.save files', () => {
  it('final_model.pt of the fixture: every tensor, bit for bit what the Python conversion stored', () => {
    const sd = readTorchFile(bytesOf('released/models/csp_tiny/final_model.pt'), 'final_model.pt') as Map<string, TorchTensor>;
    expect(sd).toBeInstanceOf(Map);
    expect(sd.size).toBe(27);
    const converted = expandTensors(parseSafetensors(bytesOf('converted/model.safetensors'), 'model.safetensors'));
    for (const [k, t] of sd) {
      expect(t).toBeInstanceOf(TorchTensor);
      expect(t.dtype, k).toBe('float32');
      expect(t.shape, k).toEqual(converted.get(k)!.shape);
      expect(Array.from(t.data), k).toEqual(Array.from(converted.get(k)!.data));
    }
  });

  it('viz_data.pt: nested dicts, lists, tuples, Python floats and int64 tensors', () => {
    const viz = readTorchFile(bytesOf('released/viz/csp_tiny/single_double_quote/prune_v4/k_optim/viz_data.pt'), 'viz_data.pt') as Map<string, unknown>;
    expect([...viz.keys()]).toEqual(['circuit_data', 'samples', 'importances', 'all_loss', 'num_total_nodes', 'prune_config']);
    expect(viz.get('num_total_nodes')).toBe(608);
    const imp = viz.get('importances') as Map<string, unknown>;
    expect(imp.get('loss')).toBeCloseTo(1.6886969759352772, 15);
    const chans = (viz.get('circuit_data') as Map<string, TorchTensor>).get('0.attn.act_in')!;
    expect(chans.dtype).toBe('int64');
    expect(chans.shape).toEqual([3]);
    const curve = viz.get('all_loss') as unknown[][];
    expect(Object.isFrozen(curve[0])).toBe(true); // a tuple
    expect(curve[0]![0]).toBe(0);
  });

  it('widens float16 and bfloat16 exactly, follows strides and offsets, and reads big-endian storages', () => {
    const half = toFloat16Bits(Float32Array.from([1, -2, 0.5, 65504]));
    const bf = new Uint16Array(Float32Array.from([3, -0.25, 2 ** 100, 7]).buffer.slice(0)).filter((_, i) => i % 2 === 1); // high halves
    const pickle = stateDictPickle([
      { name: 'h', storage: 'HalfStorage', key: '0', numel: 4, size: [2, 2], stride: [2, 1] },
      { name: 'b', storage: 'BFloat16Storage', key: '1', numel: 4, size: [4], stride: [1] },
      { name: 't', storage: 'FloatStorage', key: '2', numel: 6, size: [3, 2], stride: [1, 3] }, // a transpose
      { name: 'o', storage: 'FloatStorage', key: '2', numel: 6, offset: 4, size: [2], stride: [1] }, // shares storage 2
    ]);
    const sd = readTorchFile(torchZip(pickle, {
      0: new Uint8Array(half.buffer), 1: new Uint8Array(bf.buffer), 2: f32Bytes([0, 1, 2, 3, 4, 5]),
    }), 'mixed.pt') as Map<string, TorchTensor>;
    expect(Array.from(sd.get('h')!.data)).toEqual([1, -2, 0.5, 65504]);
    expect(sd.get('h')!.dtype).toBe('float16');
    expect(Array.from(sd.get('b')!.data)).toEqual(Array.from(Float32Array.from([3, -0.25, 2 ** 100, 7])));
    expect(Array.from(sd.get('t')!.data)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(sd.get('o')!.data)).toEqual([4, 5]);

    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.5, false);
    new DataView(be.buffer).setFloat32(4, -3, false);
    const big = readTorchFile(torchZip(stateDictPickle([{ name: 'w', storage: 'FloatStorage', key: '0', numel: 2, size: [2], stride: [1] }]), { 0: be }, { byteorder: 'big' }), 'be.pt') as Map<string, TorchTensor>;
    expect(Array.from(big.get('w')!.data)).toEqual([1.5, -3]);
  });

  it.each([
    ['an empty file', new Uint8Array(0), /not a PyTorch checkpoint: 0 bytes \(an empty file; an interrupted or failed download\?\)/],
    ['an HTML error page', new TextEncoder().encode('<!DOCTYPE html><html>Not found</html>'), /no zip or pickle header: first bytes 3c 21 44 4f 43 54 59 50 \.\.\. \(37 bytes\), which read as text "<!DOCTYPE html><"/],
    ['random bytes', Uint8Array.from([0x3f, 0xa1, 0, 1, 2, 3, 4, 5, 6]), /no zip or pickle header: first bytes 3f a1 00 01 02 03 04 05 \.\.\. \(9 bytes\)/],
    ['a legacy (pre-1.6) pickle checkpoint', Uint8Array.from([0x80, 0x02, 0x8a, 0x0a]), /the legacy torch\.save format/],
    ['a truncated zip', torchZip(stateDictPickle([])).slice(0, 40), /not a readable zip: no end-of-central-directory record/],
    ['a zip that is not a torch.save file', torchZip(new Uint8Array(0), {}, { archive: 'x/y' }), /not a torch\.save file: a zip without an <archive>\/data\.pkl entry/],
    ['a tensor that reaches past its storage', torchZip(stateDictPickle([{ name: 'w', storage: 'FloatStorage', key: '0', numel: 2, size: [3], stride: [1] }]), { 0: f32Bytes([1, 2]) }),
      /shape \[3\] has 3 elements, more than its storage's 2/],
    ['a storage shorter than it claims', torchZip(stateDictPickle([{ name: 'w', storage: 'FloatStorage', key: '0', numel: 4, size: [4], stride: [1] }]), { 0: f32Bytes([1, 2]) }),
      /storage 0 should hold 4 float32 values \(16 bytes\) but has 8 bytes/],
  ])('names %s', (_what, bytes, message) => {
    expect(() => readTorchFile(bytes, 'ckpt.pt')).toThrow(CheckpointError);
    expect(() => readTorchFile(bytes, 'ckpt.pt')).toThrow(message);
  });
});

/**
 * Pickles that would run code under Python's pickle: each is refused by the name of what it asks for, before anything
 * of it is resolved or called, and nothing runs (eval and Function, the only ways JavaScript could run text, are never
 * called).
 */
describe('malicious pickles are refused by name', () => {
  afterEach(() => vi.restoreAllMocks());
  const payload = P.str('touch /tmp/pwned');
  const cases: [string, number[], RegExp][] = [
    ['os.system + REDUCE', [...P.proto(), ...P.global('os', 'system'), ...P.tupleOf(payload), ...P.reduce, ...P.stop], /asks for global os\.system;/],
    ['builtins.eval', [...P.proto(), ...P.global('builtins', 'eval'), ...P.tupleOf(payload), ...P.reduce, ...P.stop], /asks for global builtins\.eval;/],
    ['__builtin__.getattr (Python 2 name)', [...P.proto(), ...P.global('__builtin__', 'getattr'), ...P.tupleOf(P.global('collections', 'OrderedDict'), P.str('__reduce__')), ...P.reduce, ...P.stop], /asks for global __builtin__\.getattr;/],
    ['a nested torch.load', [...P.proto(), ...P.global('torch', 'load'), ...P.tupleOf(P.str('/tmp/other.pt')), ...P.reduce, ...P.stop], /asks for global torch\.load;/],
    ['STACK_GLOBAL builtins.exec (protocol 4)', [...P.proto(4), ...P.shortStr('builtins'), ...P.shortStr('exec'), ...P.stackGlobal, ...P.tupleOf(payload), ...P.reduce, ...P.stop], /asks for global builtins\.exec;/],
    ['INST os.system', [...P.proto(), ...P.mark, ...payload, ...P.inst('os', 'system'), ...P.stop], /uses pickle opcode INST \(global os\.system\), which imports or calls code/],
    ['a payload hidden inside a valid state dict', [...stateDictPickle([]).slice(0, -1), ...P.str('x'), ...P.global('subprocess', 'Popen'), ...P.tupleOf(payload), ...P.reduce, ...P.setitem, ...P.stop], /asks for global subprocess\.Popen;/],
  ];
  it.each(cases)('%s', (_what, pickle, message) => {
    const evalSpy = vi.spyOn(globalThis, 'eval');
    const functionSpy = vi.spyOn(globalThis, 'Function');
    const file = torchZip(Uint8Array.from(pickle));
    let error: unknown;
    try {
      readTorchFile(file, 'final_model.pt');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsafePickleError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/^refused: final_model\.pt /);
    expect((error as Error).message).toMatch(/only tensor rebuilds, storages and OrderedDict are allowed/);
    expect(evalSpy).not.toHaveBeenCalled();
    expect(functionSpy).not.toHaveBeenCalled();
  });
});
