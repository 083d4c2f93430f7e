import { CheckpointError } from '../errors';

/**
 * A pickle reader for the plain data torch.save writes (protocol 2, and the data opcodes of protocols 0 to 5).
 * Nothing in a file can run: a global is looked up by name in the caller's allow-list (`resolveGlobal`), which
 * either returns one of the caller's own functions or refuses by name; opcodes that exist only to import or call
 * code (INST, OBJ, EXT*) are refused outright. Each opcode consumes at least one byte and every length is checked
 * against the bytes left, so corrupt or truncated input ends in a CheckpointError, never a hang.
 *
 * Python values become: None -> null, bool, int -> number (bigint beyond 2^53), float -> number, str -> string,
 * bytes -> Uint8Array, list -> array, tuple -> frozen array, dict -> Map, set -> Set.
 */

/** A global the allow-list resolved: called by REDUCE/NEWOBJ, and given the state of a BUILD on what it made. */
export interface PickleCallable {
  readonly pickleGlobal: string;
  call(args: readonly unknown[]): unknown;
}

export interface UnpickleOptions {
  /** Names the file in messages. */
  fileName: string;
  /** Resolves `module.name` to a callable, or throws (a refusal that names the global). */
  resolveGlobal(module: string, name: string): PickleCallable;
  /** BINPERSID: the object a persistent id stands for (torch: a storage). */
  persistentLoad(pid: unknown): unknown;
  /** BUILD on an object the allow-list made (default: refused). */
  build?(obj: unknown, state: unknown): void;
}

/** A pickle that asks for code: refused by name, before anything is resolved or called. */
export class UnsafePickleError extends CheckpointError {
  override name = 'UnsafePickleError';
}

export const isTuple = (v: unknown): v is readonly unknown[] => Array.isArray(v) && Object.isFrozen(v);
const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);

/** Opcodes that import or call code by design: their names, for the refusal. */
const CODE_OPCODES: Record<number, string> = { 0x69: 'INST', 0x6f: 'OBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4' };
/** Opcodes of a valid pickle that torch.save never writes (text forms, out-of-band buffers): refused by name. */
const UNSUPPORTED_OPCODES: Record<number, string> = {
  0x49: 'INT', 0x4c: 'LONG', 0x46: 'FLOAT', 0x53: 'STRING', 0x56: 'UNICODE', 0x50: 'PERSID', 0x70: 'PUT', 0x67: 'GET',
  0x92: 'NEWOBJ_EX', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): unknown {
  return unpickleAt(bytes, 0, opts).value;
}

/** One pickle starting at byte `start` -> its value and the byte after its STOP (torch's legacy format, for one,
 *  writes several pickles back to back, then raw storage bytes). */
export function unpickleAt(bytes: Uint8Array, start: number, opts: UnpickleOptions): { value: unknown; end: number } {
  const { fileName } = opts;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const corrupt = (why: string): never => {
    throw new CheckpointError(`${fileName}: corrupt pickle: ${why} (at byte ${pos} of ${bytes.length})`, { file: fileName });
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) {
      throw new CheckpointError(`${fileName}: the pickle ends early (needs ${n} more bytes at byte ${pos} of ${bytes.length}): truncated or corrupt`, { file: fileName });
    }
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u8 = () => { need(1); return bytes[pos++]!; };
  const u16 = () => { need(2); const v = view.getUint16(pos, true); pos += 2; return v; };
  const u32 = () => { need(4); const v = view.getUint32(pos, true); pos += 4; return v; };
  const i32 = () => { need(4); const v = view.getInt32(pos, true); pos += 4; return v; };
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) corrupt(`a length of ${v} bytes`);
    return Number(v);
  };
  const text = (b: Uint8Array) => {
    try {
      return utf8.decode(b);
    } catch {
      return corrupt('a string that is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) return corrupt('a text argument without its end of line');
    const s = bytes.subarray(pos, end);
    pos = end + 1;
    return Array.from(s, (c) => String.fromCharCode(c)).join('');
  };
  const pop = (): unknown => {
    if (stack.length === 0) corrupt('an opcode needs a value but the stack is empty');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) corrupt('an opcode needs a value but the stack is empty');
    return stack[stack.length - 1];
  };
  // `push(popMark())`, never `stack.push(popMark())`: the latter reads `stack` before popMark swaps it.
  const push = (v: unknown) => { stack.push(v); };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) return corrupt('an opcode needs a MARK but there is none');
    stack = prev;
    return items;
  };
  const global = (module: string, name: string): PickleCallable => opts.resolveGlobal(module, name);
  const call = (fn: unknown, args: unknown, op: string): unknown => {
    if (!isCallable(fn)) return corrupt(`${op} on a ${describe(fn)}, which is not a global the file imported`);
    if (!Array.isArray(args)) return corrupt(`${op} with arguments that are a ${describe(args)}, not a tuple`);
    return fn.call(args);
  };
  const longFromBytes = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) corrupt(`SETITEMS on a ${describe(dict)}, not a dict`);
    if (items.length % 2) corrupt('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (dict as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (list: unknown, items: unknown[]) => {
    if (!Array.isArray(list) || isTuple(list)) corrupt(`APPENDS on a ${describe(list)}, not a list`);
    for (const it of items) (list as unknown[]).push(it);
  };
  const addItems = (set: unknown, items: unknown[]) => {
    if (!(set instanceof Set)) corrupt(`ADDITEMS on a ${describe(set)}, not a set`);
    for (const it of items) (set as Set<unknown>).add(it);
  };

  while (pos < bytes.length) {
    const at = pos;
    const op = bytes[pos++]!;
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) corrupt(`pickle protocol ${v} (known: 0 to 5)`);
        break;
      }
      case 0x95: u64(); break; // FRAME: a length hint only
      case 0x2e: { // STOP
        if (marks.length) corrupt('STOP inside an open MARK');
        if (stack.length !== 1) corrupt(`STOP with ${stack.length} values on the stack (expected 1)`);
        return { value: stack[0], end: pos };
      }
      case 0x28: marks.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(longFromBytes(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) corrupt('LONG4 with a negative length');
        stack.push(longFromBytes(take(n)));
        break;
      }
      case 0x47: { // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: stack.push(text(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(text(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text(take(u64()))); break; // BINUNICODE8
      case 0x54: { // BINSTRING (Python 2 str): read as latin-1
        const n = i32();
        if (n < 0) corrupt('BINSTRING with a negative length');
        stack.push(Array.from(take(n), (c) => String.fromCharCode(c)).join(''));
        break;
      }
      case 0x55: stack.push(Array.from(take(u8()), (c) => String.fromCharCode(c)).join('')); break; // SHORT_BINSTRING
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: push(popMark()); break; // LIST
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x74: push(tuple(popMark())); break; // TUPLE
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(tuple([a, b, c])); break; } // TUPLE3
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const d = new Map(); setItems(d, popMark()); push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x90: { const items = popMark(); addItems(top(), items); break; } // ADDITEMS
      case 0x91: push(Object.freeze(new Set(popMark()))); break; // FROZENSET
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) corrupt(`${op === 0x68 ? 'BINGET' : 'LONG_BINGET'} of memo slot ${i}, which was never stored`);
        stack.push(memo.get(i));
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') corrupt('STACK_GLOBAL without a module and a name');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args, 'REDUCE')); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(call(cls, args, 'NEWOBJ')); break; } // NEWOBJ
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (!opts.build) corrupt(`BUILD on a ${describe(obj)}`);
        opts.build!(obj, state);
        break;
      }
      case 0x51: stack.push(opts.persistentLoad(pop())); break; // BINPERSID
      default: {
        const code = CODE_OPCODES[op];
        if (code) {
          let what = '';
          if (op === 0x69) {
            try {
              what = ` (global ${line()}.${line()})`;
            } catch {
              // a truncated INST: the opcode alone is named
            }
          }
          throw new UnsafePickleError(`refused: ${fileName} uses pickle opcode ${code}${what}, which imports or calls code; only tensor rebuilds, storages and OrderedDict are allowed`, { file: fileName });
        }
        pos = at;
        const unsupported = UNSUPPORTED_OPCODES[op];
        if (unsupported) corrupt(`opcode ${unsupported}, which torch.save does not write`);
        corrupt(`byte 0x${op.toString(16).padStart(2, '0')} is not a pickle opcode`);
      }
    }
  }
  return corrupt('the pickle ends without its STOP opcode (truncated)');
}

function isCallable(v: unknown): v is PickleCallable {
  return typeof v === 'object' && v !== null && typeof (v as PickleCallable).call === 'function' && typeof (v as PickleCallable).pickleGlobal === 'string';
}

/** A value's Python-ish type, for messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (isTuple(v)) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (v instanceof Uint8Array) return 'bytes';
  if (isCallable(v)) return v.pickleGlobal;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v === 'number' || typeof v === 'bigint' ? 'number' : typeof v;
}
