import type { PathedFile } from '../../model/checkpoint/sources';

/**
 * Reading what was dropped on the page, folders included, with each file's path inside the drop ("m/tasks/x.json"),
 * so a dropped model folder reads its tasks/, circuits/ and tokenizer/ like a URL does. DataTransfer.files alone lists
 * a dropped folder as one empty file; the entry APIs walk it: webkitGetAsEntry (every current browser), else
 * getAsFileSystemHandle (Chromium's newer API), else the flat file list.
 */

/** The shapes of FileSystemEntry / FileSystemHandle this file uses (typed here: lib.dom lacks some, tests fake them). */
export interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
  file?(ok: (f: File) => void, fail: (e: unknown) => void): void;
  createReader?(): { readEntries(ok: (batch: EntryLike[]) => void, fail: (e: unknown) => void): void };
}
export interface HandleLike {
  kind: 'file' | 'directory';
  name: string;
  getFile?(): Promise<File>;
  values?(): AsyncIterable<HandleLike>;
}
interface ItemLike {
  kind: string;
  webkitGetAsEntry?(): EntryLike | null;
  getAsFileSystemHandle?(): Promise<HandleLike | null>;
  getAsFile(): File | null;
}

/** One dropped thing, taken during the drop event (the items cannot be read once the handler has returned). */
/** `file`: the item's File, taken as well in case the handle resolves to null (an item with no file system behind
 * it, e.g. a file dragged out of another page or made by a script). */
export type DropRoot = { entry: EntryLike } | { handle: Promise<HandleLike | null>; file: File | null } | { file: File };

/** A runaway drop (a home folder) stops here with a message instead of walking for minutes. */
export const MAX_DROPPED_FILES = 20_000;

/** Takes the dropped roots synchronously; call inside the drop handler. */
export function dropRoots(dt: { items?: ArrayLike<ItemLike> | null; files?: ArrayLike<File> | null }): DropRoot[] {
  const roots: DropRoot[] = [];
  const items = dt.items ? Array.from(dt.items).filter((i) => i.kind === 'file') : [];
  for (const item of items) {
    const entry = item.webkitGetAsEntry?.();
    if (entry) roots.push({ entry });
    else if (item.getAsFileSystemHandle) roots.push({ handle: item.getAsFileSystemHandle(), file: item.getAsFile() });
    else {
      const file = item.getAsFile();
      if (file) roots.push({ file });
    }
  }
  if (items.length === 0 && dt.files) for (const file of Array.from(dt.files)) roots.push({ file });
  return roots;
}

function tooMany(): Error {
  return new Error(`the drop holds more than ${MAX_DROPPED_FILES.toLocaleString('en-US')} files: drop a single model folder`);
}

async function walkEntry(entry: EntryLike, out: PathedFile[]): Promise<void> {
  if (entry.isFile && entry.file) {
    if (out.length >= MAX_DROPPED_FILES) throw tooMany();
    const file = await new Promise<File>((ok, fail) => entry.file!(ok, fail));
    out.push({ path: (entry.fullPath || entry.name).replace(/^\/+/, ''), file });
  } else if (entry.isDirectory && entry.createReader) {
    const reader = entry.createReader();
    // readEntries answers in batches (100 at a time in Chromium) until it returns an empty one.
    for (;;) {
      const batch = await new Promise<EntryLike[]>((ok, fail) => reader.readEntries(ok, fail));
      if (batch.length === 0) break;
      for (const child of batch) await walkEntry(child, out);
    }
  }
}

async function walkHandle(handle: HandleLike, prefix: string, out: PathedFile[]): Promise<void> {
  const path = prefix + handle.name;
  if (handle.kind === 'file' && handle.getFile) {
    if (out.length >= MAX_DROPPED_FILES) throw tooMany();
    out.push({ path, file: await handle.getFile() });
  } else if (handle.kind === 'directory' && handle.values) {
    for await (const child of handle.values()) await walkHandle(child, path + '/', out);
  }
}

/** Every file under the dropped roots, with its path from the dropped item down ("m/tokenizer/vocab.bpe"). */
export async function collectDropped(roots: readonly DropRoot[]): Promise<PathedFile[]> {
  const out: PathedFile[] = [];
  for (const root of roots) {
    if ('entry' in root) await walkEntry(root.entry, out);
    else if ('handle' in root) {
      const handle = await root.handle;
      if (handle) await walkHandle(handle, '', out);
      else if (root.file) out.push({ path: root.file.name, file: root.file });
    } else out.push({ path: root.file.name, file: root.file });
  }
  return out;
}
