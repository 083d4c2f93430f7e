import { zipSync } from 'fflate';

/**
 * Hand-written torch.save files for the reader's tests: pickle opcodes as bytes (protocol 2, as torch.save writes
 * them) and the zip layout around them (`<archive>/data.pkl`, `<archive>/data/<key>`, `<archive>/byteorder`).
 */

const enc = new TextEncoder();
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

export const P = {
  proto: (v = 2) => [0x80, v],
  stop: [0x2e],
  mark: [0x28],
  tuple: [0x74],
  emptyTuple: [0x29],
  emptyDict: [0x7d],
  setitem: [0x73],
  reduce: [0x52],
  binpersid: [0x51],
  newFalse: [0x89],
  none: [0x4e],
  int: (n: number) => (n >= 0 && n < 256 ? [0x4b, n] : [0x4a, ...u32(n)]),
  str: (s: string) => {
    const b = enc.encode(s);
    return [0x58, ...u32(b.length), ...b];
  },
  shortStr: (s: string) => {
    const b = enc.encode(s);
    return [0x8c, b.length, ...b];
  },
  global: (module: string, name: string) => [0x63, ...enc.encode(`${module}\n${name}\n`)],
  stackGlobal: [0x93],
  inst: (module: string, name: string) => [0x69, ...enc.encode(`${module}\n${name}\n`)],
  tupleOf: (...items: number[][]) => [0x28, ...items.flat(), 0x74],
  float: (x: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return [0x47, ...b];
  },
};

export interface TensorSpec {
  name: string;
  storage: string;
  key: string;
  numel: number;
  offset?: number;
  size: number[];
  stride: number[];
}

/** A state dict pickle: OrderedDict of name -> _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
export function stateDictPickle(tensors: TensorSpec[]): Uint8Array {
  const out: number[] = [...P.proto(), ...P.global('collections', 'OrderedDict'), ...P.emptyTuple, ...P.reduce];
  for (const t of tensors) {
    out.push(...P.str(t.name), ...P.global('torch._utils', '_rebuild_tensor_v2'), ...P.mark);
    out.push(...P.tupleOf(P.str('storage'), P.global('torch', t.storage), P.str(t.key), P.str('cpu'), P.int(t.numel)), ...P.binpersid);
    out.push(...P.int(t.offset ?? 0), ...P.tupleOf(...t.size.map(P.int)), ...P.tupleOf(...t.stride.map(P.int)), ...P.newFalse);
    out.push(...P.global('collections', 'OrderedDict'), ...P.emptyTuple, ...P.reduce, ...P.tuple, ...P.reduce, ...P.setitem);
  }
  out.push(...P.stop);
  return Uint8Array.from(out);
}

/** A torch.save zip: the pickle plus one entry per storage. */
export function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, opts: { archive?: string; byteorder?: string } = {}): Uint8Array {
  const a = opts.archive ?? 'archive';
  const files: Record<string, Uint8Array> = { [`${a}/data.pkl`]: pickle };
  if (opts.byteorder !== undefined) files[`${a}/byteorder`] = enc.encode(opts.byteorder);
  for (const [k, v] of Object.entries(storages)) files[`${a}/data/${k}`] = v;
  files[`${a}/version`] = enc.encode('3\n');
  return zipSync(files, { level: 0 });
}
