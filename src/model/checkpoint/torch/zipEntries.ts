import { unzipSync, type UnzipFileInfo } from 'fflate';
import { CheckpointError } from '../errors';

/**
 * The entries of a zip file (torch.save's format since torch 1.6, and a model folder saved as a zip), read with
 * fflate. Before fflate sees the bytes, the end-of-central-directory record is checked here: its entry count and
 * directory must fit inside the file, so a corrupt count (up to 2^32 in zip64) cannot keep the reader looping over
 * garbage. Every failure is a CheckpointError that names the file.
 */

export interface ZipEntryInfo {
  name: string;
  /** Bytes once extracted. */
  size: number;
}

export interface ZipEntries {
  readonly names: readonly string[];
  /** An entry's bytes (a fresh copy), or null when the zip has no such entry. */
  read(name: string): Uint8Array | null;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL_HEADER_BYTES = 46;
/** Entries larger than this are refused rather than allocated (a declared size is only a claim). */
const MAX_ENTRY_BYTES = 2 ** 32;

export const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04] as const;

export function isZip(bytes: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 2 ** 24;
}

function u64(bytes: Uint8Array, at: number): number {
  return u32(bytes, at) + u32(bytes, at + 4) * 2 ** 32;
}

/** Where the central directory is and how many entries it claims, checked against the file's size. */
function centralDirectory(bytes: Uint8Array, fail: (why: string) => never): { count: number } {
  const n = bytes.length;
  let e = n - 22;
  const stop = Math.max(0, n - 22 - 0xffff);
  while (e >= stop && u32(bytes, e) !== EOCD) e--;
  if (e < stop || n < 22) fail('no end-of-central-directory record (the file is truncated, or not a zip)');
  let count = bytes[e + 10]! | (bytes[e + 11]! << 8);
  let size = u32(bytes, e + 12);
  let offset = u32(bytes, e + 16);
  if (e >= 20 && u32(bytes, e - 20) === ZIP64_LOCATOR) {
    const z = u64(bytes, e - 12);
    if (z + 56 > n || u32(bytes, z) !== ZIP64_EOCD) fail('its zip64 directory record points outside the file');
    count = u64(bytes, z + 32);
    size = u64(bytes, z + 40);
    offset = u64(bytes, z + 48);
  }
  if (offset + size > n) fail(`its central directory (${size} bytes at ${offset}) lies outside the file of ${n} bytes: truncated?`);
  if (count * CENTRAL_HEADER_BYTES > size) fail(`its central directory claims ${count} entries but has room for ${Math.floor(size / CENTRAL_HEADER_BYTES)}`);
  return { count };
}

/** Opens a zip; `fileName` names it in every message. */
export function readZipEntries(bytes: Uint8Array, fileName: string): ZipEntries {
  const fail = (why: string): never => {
    throw new CheckpointError(`${fileName}: not a readable zip: ${why}`, { file: fileName });
  };
  if (!isZip(bytes)) fail('no zip header');
  centralDirectory(bytes, fail);
  const infos: ZipEntryInfo[] = [];
  const run = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      return fail((e as Error).message || String(e));
    }
  };
  // A first pass lists the entries without extracting any (the filter says no to each).
  run(() => unzipSync(bytes, {
    filter: (f: UnzipFileInfo) => {
      // Sizes are only claims: a stored entry is as long as its data, and deflate expands at most ~1032 times.
      if (f.originalSize > MAX_ENTRY_BYTES) fail(`entry "${f.name}" claims ${f.originalSize} bytes`);
      if (f.compression === 0 && f.originalSize !== f.size) fail(`entry "${f.name}" is stored uncompressed but claims ${f.originalSize} bytes for ${f.size}`);
      if (f.compression !== 0 && f.originalSize > f.size * 1032 + 1024) fail(`entry "${f.name}" claims ${f.originalSize} bytes from ${f.size} compressed`);
      infos.push({ name: f.name, size: f.originalSize });
      return false;
    },
  }));
  const byName = new Map(infos.map((i) => [i.name, i]));
  if (byName.size !== infos.length) fail('it holds two entries of the same name');
  return {
    names: infos.map((i) => i.name),
    read(name) {
      const info = byName.get(name);
      if (!info) return null;
      // One entry at a time: the storages of a large checkpoint are never all copied at once before use.
      const out = run(() => unzipSync(bytes, { filter: (f) => f.name === name }))[name];
      if (!out || out.length !== info.size) {
        fail(`entry "${name}" should hold ${info.size} bytes but ${out ? out.length : 'none'} could be read (truncated?)`);
      }
      return out!;
    },
  };
}
