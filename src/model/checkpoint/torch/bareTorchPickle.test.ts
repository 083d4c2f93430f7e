import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { P } from '../../testing/torchFiles';
import { CheckpointError } from '../errors';
import { isLegacyTorchSave, readTorchFileOrPickle } from './bareTorchPickle';
import { isTuple, UnsafePickleError } from './pickleVm';
import { readTorchFile } from './readTorchFile';
import { TorchTensor } from './tensorRebuild';

/**
 * Files read by content (train/openai_import/viz_load.py's rules): the fixture's circuits pickle.dump'ed as
 * viz_data.pkl (test-fixtures/openai-small/viz-pkl, written by `python train/openai_fixtures.py --viz-pickles` from
 * the released viz_data.pt; protocol 2 for one task, 4 for the other) read to exactly the values of the .pt, and bare
 * pickles that ask for code refused by name with nothing called.
 */
const FIX = resolve(__dirname, '../../../../test-fixtures/openai-small');
const bytesOf = (p: string) => new Uint8Array(readFileSync(join(FIX, p)));
const TASKS = ['single_double_quote', 'while_return_true_beeg'];
const pt = (task: string) => bytesOf(`released/viz/csp_tiny/${task}/prune_v4/k_optim/viz_data.pt`);
const pkl = (task: string) => bytesOf(`viz-pkl/csp_tiny/${task}/prune_v4/k_optim/viz_data.pkl`);

/** Exact equality of read values: Map keys in order, tuples as tuples, tensors' dtype, shape and every element. */
function differences(a: unknown, b: unknown, at = '', out: string[] = []): string[] {
  if (a instanceof TorchTensor || b instanceof TorchTensor) {
    if (!(a instanceof TorchTensor && b instanceof TorchTensor)) out.push(`${at}: a tensor and a ${typeof (a instanceof TorchTensor ? b : a)}`);
    else if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join() || a.data.some((v, i) => !Object.is(v, b.data[i]))) out.push(`${at}: tensors differ`);
  } else if (a instanceof Map && b instanceof Map) {
    if ([...a.keys()].join() !== [...b.keys()].join()) out.push(`${at}: keys ${[...a.keys()].join()} vs ${[...b.keys()].join()}`);
    else for (const k of a.keys()) differences(a.get(k), b.get(k), `${at}.${String(k)}`, out);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length || isTuple(a) !== isTuple(b)) out.push(`${at}: ${a.length} vs ${b.length} items (tuple ${isTuple(a)} vs ${isTuple(b)})`);
    else a.forEach((v, i) => differences(v, b[i], `${at}[${i}]`, out));
  } else if (!Object.is(a, b)) {
    out.push(`${at}: ${String(a)} vs ${String(b)}`);
  }
  return out;
}

describe('reading a file by content', () => {
  it.each(TASKS)('%s: viz_data.pkl (pickle.dump) reads to exactly the values of viz_data.pt', (task) => {
    const bare = pkl(task);
    expect(bare[0]).toBe(0x80);
    expect(isLegacyTorchSave(bare)).toBe(false);
    const fromPt = readTorchFile(pt(task), 'viz_data.pt');
    const fromPkl = readTorchFileOrPickle(bare, 'viz_data.pkl', 'viz data');
    expect(differences(fromPkl, fromPt)).toEqual([]);
    const samples = ((fromPkl as Map<string, Map<string, unknown>>).get('importances')!.get('task_samples') as unknown[])[0] as TorchTensor;
    expect(samples.dtype).toBe('int64'); // a real tensor came through, not a placeholder
    expect(samples.shape.length).toBe(2);
  });

  it('a torch.save zip reads as itself whatever its name', () => {
    expect(differences(readTorchFileOrPickle(pt('single_double_quote'), 'viz_data.pkl', 'viz data'), readTorchFile(pt('single_double_quote'), 'viz_data.pt'))).toEqual([]);
  });

  it.each([
    ['an empty file', new Uint8Array(0), /^viz_data\.pkl: not a torch\.save zip or a pickle: 0 bytes \(an empty file; an interrupted or failed download\?\) \(expected viz data\)$/],
    ['an HTML page', new TextEncoder().encode('<html><body>Not Found</body></html>'), /^viz_data\.pkl: not a torch\.save zip or a pickle: no zip or pickle header: first bytes 3c 68 74 6d 6c 3e 3c 62 \.\.\. \(35 bytes\), which read as text "<html><body>Not " \(expected viz data\)$/],
    ['a protocol 0 pickle', new TextEncoder().encode("(dp0\nS'a'\np1\nI1\ns."), /^viz_data\.pkl: not a torch\.save zip or a pickle: no zip or pickle header/],
    ['torch.save\'s legacy format', Uint8Array.from([...P.proto(), 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, ...P.stop]), /^viz_data\.pkl: not a PyTorch checkpoint: a pickle stream: the legacy torch\.save format/],
  ])('refuses %s, naming the file', (_what, bytes, message) => {
    expect(() => readTorchFileOrPickle(bytes, 'viz_data.pkl', 'viz data')).toThrow(CheckpointError);
    expect(() => readTorchFileOrPickle(bytes, 'viz_data.pkl', 'viz data')).toThrow(message);
  });

  it('a truncated or corrupted viz_data.pkl gives a CheckpointError naming the file, at every cut', () => {
    const bare = pkl('single_double_quote');
    for (let cut = 2; cut < bare.length; cut += 397) {
      expect(() => readTorchFileOrPickle(bare.subarray(0, cut), 'viz_data.pkl', 'viz data'), `cut at ${cut}`).toThrow(/^viz_data\.pkl: /);
      const flipped = bare.slice();
      flipped[cut] ^= 0xff;
      try {
        readTorchFileOrPickle(flipped, 'viz_data.pkl', 'viz data');
      } catch (e) {
        expect(e, `byte ${cut} flipped`).toBeInstanceOf(CheckpointError);
        expect((e as Error).message).toContain('viz_data.pkl');
      }
    }
  });
});

/** A legacy torch.save of one storage, as torch.storage._load_from_bytes is given it; `main` replaces its storage pickle. */
function legacyStorage(opts: { main?: number[]; count?: number } = {}): number[] {
  const key = P.str('94409685624080');
  const storage = opts.main ?? [...P.tupleOf(P.str('storage'), P.global('torch', 'FloatStorage'), key, P.str('cpu'), P.int(2), P.none), ...P.binpersid];
  const data = new Uint8Array(new Float32Array([1.5, -2]).buffer);
  return [
    ...P.proto(), 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, ...P.stop, // the magic number
    ...P.proto(), 0x4d, 0xe9, 0x03, ...P.stop, // protocol 1001
    ...P.proto(), ...P.emptyDict, ...P.stop, // sys_info
    ...P.proto(), ...storage, ...P.stop,
    ...P.proto(), 0x5d, ...key, 0x61, ...P.stop, // [key]
    opts.count ?? 2, 0, 0, 0, 0, 0, 0, 0, ...data,
  ];
}
const binbytes = (b: number[]) => [0x42, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b];
/** {'x': _rebuild_tensor_v2(_load_from_bytes(<legacy>), 0, (2,), (1,), False, OrderedDict())}, protocol 4 style. */
const tensorPickle = (legacy: number[]) => Uint8Array.from([
  ...P.proto(4), ...P.emptyDict, ...P.shortStr('x'),
  ...P.shortStr('torch._utils'), ...P.shortStr('_rebuild_tensor_v2'), ...P.stackGlobal, ...P.mark,
  ...P.shortStr('torch.storage'), ...P.shortStr('_load_from_bytes'), ...P.stackGlobal, ...binbytes(legacy), 0x85, ...P.reduce,
  ...P.int(0), ...P.tupleOf(P.int(2)), ...P.tupleOf(P.int(1)), ...P.newFalse,
  ...P.global('collections', 'OrderedDict'), ...P.emptyTuple, ...P.reduce, ...P.tuple, ...P.reduce,
  ...P.setitem, ...P.stop,
]);

describe('bare pickles', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a hand-written tensor through torch.storage._load_from_bytes reads as written (the test pickles are real)', () => {
    const x = (readTorchFileOrPickle(tensorPickle(legacyStorage()), 'v.pkl', 'viz data') as Map<string, TorchTensor>).get('x')!;
    expect([x.dtype, x.shape, Array.from(x.data)]).toEqual(['float32', [2], [1.5, -2]]);
    // protocol 2 pickles bytes as _codecs.encode(str, 'latin1')
    const latin = (s: number[]) => [...P.global('_codecs', 'encode'), ...P.tupleOf(P.str(String.fromCharCode(...s)), P.str('latin1')), ...P.reduce];
    const p2 = Uint8Array.from([...P.proto(2), ...P.global('torch.storage', '_load_from_bytes'), ...P.tupleOf(latin(legacyStorage())), ...P.reduce, ...P.stop]);
    const storage = readTorchFileOrPickle(p2, 'v.pkl', 'viz data') as { values: Float32Array };
    expect(Array.from(storage.values)).toEqual([1.5, -2]);
  });

  const payload = P.str('touch /tmp/pwned');
  const evil = (module: string, name: string) => [...P.global(module, name), ...P.tupleOf(payload), ...P.reduce];
  const cases: [string, Uint8Array, RegExp][] = [
    ['os.system', Uint8Array.from([...P.proto(), ...evil('os', 'system'), ...P.stop]), /^refused: v\.pkl asks for global os\.system; only tensor rebuilds/],
    ['builtins.exec, protocol 4', Uint8Array.from([...P.proto(4), ...P.shortStr('builtins'), ...P.shortStr('exec'), ...P.stackGlobal, ...P.tupleOf(payload), ...P.reduce, ...P.stop]), /^refused: v\.pkl asks for global builtins\.exec;/],
    ['os.system inside the bytes of _load_from_bytes', tensorPickle(legacyStorage({ main: evil('os', 'system') })), /^refused: v\.pkl asks for global os\.system inside the bytes given to torch\.storage\._load_from_bytes; only storage types are allowed there/],
    ['a tensor rebuild inside the bytes of _load_from_bytes', tensorPickle(legacyStorage({ main: [...P.global('torch._utils', '_rebuild_tensor_v2'), ...P.emptyTuple, ...P.reduce] })), /asks for global torch\._utils\._rebuild_tensor_v2 inside the bytes given to torch\.storage\._load_from_bytes/],
    ['_codecs.encode of another encoding', Uint8Array.from([...P.proto(), ...P.global('_codecs', 'encode'), ...P.tupleOf(P.str('x'), P.str('rot13')), ...P.reduce, ...P.stop]), /^refused: v\.pkl calls _codecs\.encode with string, "rot13"; only \(str, 'latin1'\)/],
    ['BUILD', Uint8Array.from([...P.proto(), ...P.global('collections', 'OrderedDict'), ...P.emptyTuple, ...P.reduce, ...P.emptyDict, 0x62, ...P.stop]), /^refused: v\.pkl uses pickle opcode BUILD on a dict/],
  ];
  it.each(cases)('refuses %s by name, calling nothing', (_what, bytes, message) => {
    const evalSpy = vi.spyOn(globalThis, 'eval');
    const functionSpy = vi.spyOn(globalThis, 'Function');
    let error: unknown;
    try {
      readTorchFileOrPickle(bytes, 'v.pkl', 'viz data');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsafePickleError);
    expect((error as Error).message).toMatch(message);
    expect(evalSpy).not.toHaveBeenCalled();
    expect(functionSpy).not.toHaveBeenCalled();
  });

  it.each([
    ['a storage count that differs from its reference', legacyStorage({ count: 3 }), /v\.pkl: corrupt pickle: the bytes given to torch\.storage\._load_from_bytes count 3 elements for a storage of 2/],
    ['a value that is not a storage', legacyStorage({ main: P.int(7) }), /the bytes given to torch\.storage\._load_from_bytes hold a number, not a storage/],
    ['truncated storage bytes', legacyStorage().slice(0, -3), /storage 94409685624080 should hold 2 float32 values \(8 bytes\) but has 5 bytes/],
    ['no magic number', legacyStorage().slice(15), /do not start with torch\.save's magic number/],
  ])('refuses embedded bytes with %s', (_what, legacy, message) => {
    expect(() => readTorchFileOrPickle(tensorPickle(legacy), 'v.pkl', 'viz data')).toThrow(CheckpointError);
    expect(() => readTorchFileOrPickle(tensorPickle(legacy), 'v.pkl', 'viz data')).toThrow(message);
  });
});
