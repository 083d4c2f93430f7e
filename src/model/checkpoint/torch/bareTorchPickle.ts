import { CheckpointError } from '../errors';
import { describe, isTuple, UnsafePickleError, unpickle, unpickleAt, type PickleCallable, type UnpickleOptions } from './pickleVm';
import { readTorchFile, torchHeaderProblem } from './readTorchFile';
import { torchPickleHooks, type Storage } from './tensorRebuild';
import { isZip } from './zipEntries';

/**
 * Reading a file by its content, whatever it is named, as train/openai_import/viz_load.py does: a torch.save zip
 * through readTorchFile, and a bare pickle stream (pickle.dump of torch tensors, e.g. a released circuit saved as
 * OpenAI's README names it, viz_data.pkl) through the same pickle VM and allow-list.
 *
 * pickle.dump writes a tensor as _rebuild_tensor_v2(torch.storage._load_from_bytes(b), ...), where b is
 * torch.save(storage) in torch's legacy format. That global is never torch's (which would unpickle b with no
 * allow-list): it is answered by storageFromLegacyBytes, which reads b's pickles with storage types as the only
 * globals and takes its elements as raw bytes. Protocol 2 pickles bytes as _codecs.encode(str, 'latin1'), which is
 * allowed in that one form. Nothing in the file can run.
 */

export const LOAD_FROM_BYTES = 'torch.storage._load_from_bytes';
/** torch.serialization.MAGIC_NUMBER and PROTOCOL_VERSION, the first two pickles of the legacy format. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** LONG1 of 10 bytes: the magic number as the legacy format's first pickle writes it. */
const LEGACY_MAGIC_OPCODES = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

const isPickleHeader = (b: Uint8Array) => b.length >= 2 && b[0] === 0x80 && b[1]! >= 2 && b[1]! <= 5;

/** Whether a pickle stream is torch.save's legacy format: PROTO, an optional FRAME, then the magic number. */
export function isLegacyTorchSave(bytes: Uint8Array): boolean {
  if (!isPickleHeader(bytes)) return false;
  const at = bytes[2] === 0x95 ? 11 : 2; // FRAME and its 8-byte length
  return LEGACY_MAGIC_OPCODES.every((b, i) => bytes[at + i] === b);
}

const fn = (pickleGlobal: string, call: (args: readonly unknown[]) => unknown): PickleCallable => ({ pickleGlobal, call });

/**
 * torch.storage._load_from_bytes(b): b = torch.save(storage, _use_new_zipfile_serialization=False), five pickles
 * (the magic number, the protocol, sys_info, ('storage', torch.<X>Storage, key, location, numel, None) as a
 * persistent id, the list [key]) followed by the storage's element count (int64) and its elements, little-endian.
 */
function storageFromLegacyBytes(b: unknown, fileName: string): Storage {
  const where = `the bytes given to ${LOAD_FROM_BYTES}`;
  const corrupt = (why: string): never => {
    throw new CheckpointError(`${fileName}: corrupt pickle: ${where} ${why}`, { file: fileName });
  };
  if (!(b instanceof Uint8Array)) return corrupt(`are a ${describe(b)}, not bytes`);
  // A fresh allow-list per storage: each embedded file names its storage by a key of its own.
  const storageData = new Map<string, Uint8Array>();
  const hooks = torchPickleHooks({ fileName, littleEndian: true, storageBytes: (key) => storageData.get(key) ?? null });
  const refuseAll: UnpickleOptions['resolveGlobal'] = (module, name) => {
    throw new UnsafePickleError(`refused: ${fileName} asks for global ${module}.${name} inside ${where}; only storage types are allowed there`, { file: fileName });
  };
  const plain: UnpickleOptions = { fileName, resolveGlobal: refuseAll, persistentLoad: () => corrupt('hold a persistent id outside the storage') };
  let at = 0;
  const next = (opts: UnpickleOptions) => {
    const r = unpickleAt(b, at, opts);
    at = r.end;
    return r.value;
  };
  if (next(plain) !== LEGACY_MAGIC) corrupt('do not start with torch.save\'s magic number');
  const protocol = next(plain);
  if (protocol !== LEGACY_PROTOCOL) corrupt(`have protocol ${String(protocol)}, expected ${LEGACY_PROTOCOL}`);
  if (!(next(plain) instanceof Map)) corrupt('have no sys_info dict');
  // The persistent id of the one storage, kept when the main pickle names it.
  const found: { ref: readonly unknown[] | null } = { ref: null };
  const marker = {};
  const value = next({
    fileName,
    resolveGlobal: (module, name) => (module === 'torch' && /^\w+Storage$/.test(name) ? hooks.resolveGlobal(module, name) : refuseAll(module, name)),
    persistentLoad: (pid) => {
      if (found.ref) corrupt('hold more than one storage');
      if (!isTuple(pid) || pid.length !== 6 || pid[0] !== 'storage' || pid[5] !== null) return corrupt(`hold a ${describe(pid)} where ('storage', type, key, location, numel, None) belongs`);
      found.ref = pid;
      return marker;
    },
  });
  const ref = found.ref;
  if (value !== marker || !ref) return corrupt(`hold a ${describe(value)}, not a storage`);
  const [, , key, , numel] = ref;
  const keys = next(plain);
  if (!Array.isArray(keys) || keys.length !== 1 || keys[0] !== key) corrupt(`list their storages as a ${describe(keys)} other than [${JSON.stringify(key)}]`);
  if (at + 8 > b.length) corrupt('end before the storage\'s element count (truncated)');
  const count = new DataView(b.buffer, b.byteOffset + at, 8).getBigInt64(0, true);
  if (count !== BigInt(numel as number)) corrupt(`count ${count} elements for a storage of ${String(numel)}`);
  storageData.set(String(key), b.subarray(at + 8));
  return hooks.persistentLoad(Object.freeze(ref.slice(0, 5)));
}

/** _codecs.encode(text, 'latin1'): how protocol 2 pickles bytes. Nothing else is encoded. */
function latin1(args: readonly unknown[], fileName: string): Uint8Array {
  const [text, encoding] = args;
  if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1') || args.length !== 2) {
    throw new UnsafePickleError(`refused: ${fileName} calls _codecs.encode with ${describe(text)}, ${JSON.stringify(encoding)}; only (str, 'latin1'), protocol 2's bytes, is allowed`, { file: fileName });
  }
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new CheckpointError(`${fileName}: corrupt pickle: latin-1 bytes with character ${c}`, { file: fileName });
    out[i] = c;
  }
  return out;
}

/** A bare pickle stream (pickle.dump) of plain data and torch tensors -> plain values, as readTorchFile gives. */
export function readBareTorchPickle(bytes: Uint8Array, fileName: string): unknown {
  const hooks = torchPickleHooks({ fileName, littleEndian: true, storageBytes: () => null });
  const extra = new Map<string, PickleCallable>([
    [LOAD_FROM_BYTES, fn(LOAD_FROM_BYTES, (a) => storageFromLegacyBytes(a[0], fileName))],
    ['_codecs.encode', fn('_codecs.encode', (a) => latin1(a, fileName))],
  ]);
  return unpickle(bytes, {
    fileName,
    resolveGlobal: (module, name) => extra.get(`${module}.${name}`) ?? hooks.resolveGlobal(module, name),
    persistentLoad: () => {
      throw new CheckpointError(`${fileName}: corrupt pickle: a persistent id, which pickle.dump does not write (a torch.save pickle outside its zip?)`, { file: fileName });
    },
    build: (obj) => {
      throw new UnsafePickleError(`refused: ${fileName} uses pickle opcode BUILD on a ${describe(obj)}, which sets an object's state; pickle.dump of plain data and tensors does not`, { file: fileName });
    },
  });
}

/**
 * A file that is a torch.save zip or a bare pickle, told apart by content; `what` says what it should be. Anything
 * else (empty, an HTML page, torch's legacy format) is refused with the reason, naming the file.
 */
export function readTorchFileOrPickle(bytes: Uint8Array, fileName: string, what: string): unknown {
  if (isZip(bytes) || isLegacyTorchSave(bytes)) return readTorchFile(bytes, fileName, what);
  if (isPickleHeader(bytes)) return readBareTorchPickle(bytes, fileName);
  throw new CheckpointError(`${fileName}: not a torch.save zip or a pickle: ${torchHeaderProblem(bytes)} (expected ${what})`, { file: fileName });
}
