import { describe, expect, it } from 'vitest';
import { collectDropped, dropRoots, type EntryLike, type HandleLike } from './dropFolder';

// Fakes of the browser's entry and handle trees: a dropped folder "m" with subfolders, listed in batches of two as
// Chromium lists large folders in batches of 100 (readEntries must be called until it answers with an empty batch).
const TREE: Record<string, string> = {
  'm/config.json': '{}',
  'm/tokenizer/encoder.json': 'E',
  'm/tokenizer/vocab.bpe': 'V',
  'm/tasks/index.json': '{"tasks":["q"]}',
  'm/tasks/q.json': 'T',
  'm/circuits/q.json': 'C',
};

function entry(path: string): EntryLike {
  const name = path.split('/').pop()!;
  if (TREE[path] !== undefined) {
    return { isFile: true, isDirectory: false, name, fullPath: `/${path}`, file: (ok) => ok(new File([TREE[path]!], name)) };
  }
  const children = [...new Set(Object.keys(TREE).filter((p) => p.startsWith(path + '/')).map((p) => path + '/' + p.slice(path.length + 1).split('/')[0]))];
  return {
    isFile: false, isDirectory: true, name, fullPath: `/${path}`,
    createReader: () => {
      let at = 0;
      return { readEntries: (ok) => { const batch = children.slice(at, at + 2).map(entry); at += 2; ok(batch); } };
    },
  };
}

function handle(path: string): HandleLike {
  const name = path.split('/').pop()!;
  if (TREE[path] !== undefined) return { kind: 'file', name, getFile: async () => new File([TREE[path]!], name) };
  const children = [...new Set(Object.keys(TREE).filter((p) => p.startsWith(path + '/')).map((p) => path + '/' + p.slice(path.length + 1).split('/')[0]))];
  return { kind: 'directory', name, values: async function* () { for (const c of children) yield handle(c); } };
}

const read = async (files: { path: string; file: Blob }[]) =>
  Object.fromEntries(await Promise.all(files.map(async (f) => [f.path, await f.file.text()] as const)));

describe('reading a dropped folder', () => {
  it('walks webkitGetAsEntry trees into every subfolder, keeping paths', async () => {
    const roots = dropRoots({ items: [{ kind: 'file', webkitGetAsEntry: () => entry('m'), getAsFile: () => null }] });
    expect(await read(await collectDropped(roots))).toEqual(TREE);
  });

  it('falls back to getAsFileSystemHandle, then to plain files', async () => {
    const byHandle = dropRoots({ items: [{ kind: 'file', getAsFileSystemHandle: async () => handle('m'), getAsFile: () => null }] });
    expect(await read(await collectDropped(byHandle))).toEqual(TREE);
    const loose = new File(['{}'], 'config.json');
    const flat = dropRoots({ items: [{ kind: 'file', getAsFile: () => loose }, { kind: 'string', getAsFile: () => null }] });
    expect(await read(await collectDropped(flat))).toEqual({ 'config.json': '{}' });
    expect(await read(await collectDropped(dropRoots({ files: [loose] })))).toEqual({ 'config.json': '{}' });
  });

  it('takes the item\'s File when its handle resolves to null (no file system behind it: a file made by a script)', async () => {
    const made = new File(['W'], 'final_model.pt');
    const roots = dropRoots({ items: [{ kind: 'file', webkitGetAsEntry: () => null, getAsFileSystemHandle: async () => null, getAsFile: () => made }] });
    expect(await read(await collectDropped(roots))).toEqual({ 'final_model.pt': 'W' });
  });
});
