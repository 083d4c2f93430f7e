import { zipSync, type Zippable } from 'fflate';
import { normalizePath } from './folderPaths';
import { filesSource, withPaths, type FolderSource, type PathedFile } from './sources';
import { readZipEntries } from './torch/zipEntries';

/**
 * A model folder as one .zip file: written when a converted model is saved ("Save as model folder"), and opened
 * again like a picked folder (the entries become path + file pairs for filesSource, so the folder inside the zip is
 * found by its config.json exactly as in a picked parent folder).
 */

/** Zips a folder's files under `root/` (weights stored as they are: compressing them gains little and takes long). */
export function zipFolder(files: ReadonlyMap<string, Uint8Array>, root: string): Uint8Array {
  const tree: Zippable = {};
  for (const [path, bytes] of files) tree[`${root}/${normalizePath(path)}`] = [bytes, { level: path.endsWith('.safetensors') ? 0 : 6 }];
  return zipSync(tree);
}

export const isZipName = (name: string) => /\.zip$/i.test(name);

/** A zip's file entries (directories left out) as picked files with their paths. */
export async function zipEntriesAsFiles(zip: Blob, fileName: string): Promise<PathedFile[]> {
  const entries = readZipEntries(new Uint8Array(await zip.arrayBuffer()), fileName);
  return entries.names
    .filter((n) => !n.endsWith('/') && !n.startsWith('__MACOSX/'))
    .map((n) => ({ path: n, file: new Blob([entries.read(n)! as Uint8Array<ArrayBuffer>]) }));
}

/**
 * A zipped model folder as a folder source. The zip is opened on the first read (a source is made synchronously), and
 * its model folder is found among the entries as in a picked parent folder.
 */
export function zipFolderSource(zip: PathedFile): FolderSource {
  let opened: Promise<FolderSource> | null = null;
  const open = () => (opened ??= zipEntriesAsFiles(zip.file, zip.path).then((files) => filesSource(files)));
  return {
    label: `the zip ${zip.path}`,
    name: normalizePath(zip.path).split('/').pop()!.replace(/\.zip$/i, ''),
    async read(path, ro) {
      return (await open()).read(path, ro);
    },
    async readHead(path, length, ro) {
      const inner = await open();
      return inner.readHead ? inner.readHead(path, length, ro) : null;
    },
    async has(path, ro) {
      const inner = await open();
      return inner.has ? inner.has(path, ro) : (await inner.read(path, { stage: 'extras', signal: ro?.signal })) !== null;
    },
  };
}

/** Picked or dropped files as a folder source: a single .zip is opened as a zipped folder, anything else read as is. */
export function localFolderSource(files: ReadonlyArray<File | PathedFile>): FolderSource {
  const pathed = withPaths(files);
  return pathed.length === 1 && isZipName(pathed[0]!.path) ? zipFolderSource(pathed[0]!) : filesSource(pathed);
}
