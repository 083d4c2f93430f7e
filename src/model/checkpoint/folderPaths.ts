import { CheckpointError } from './errors';

/**
 * Finding a model folder's files among a flat list of named entries: a picked folder (webkitRelativePath), a dropped
 * folder (entry paths), loose picked files (names only) or an in-memory map. Shared by filesSource and mapSource so
 * that picked, dropped and in-memory folders resolve paths the same way.
 */

/**
 * Files of a model folder (docs/model-folder.md) that the loader reads, as paths relative to the folder. Only these
 * may also be found by name alone (a pick of loose files has no folder paths).
 */
export const FOLDER_FILES = [
  'config.json',
  'model.safetensors',
  'means.safetensors',
  'tokenizer/encoder.json',
  'tokenizer/vocab.bpe',
  'model-card.json',
] as const;
export type FolderFile = (typeof FOLDER_FILES)[number];
const NAMED_FILES: readonly string[] = FOLDER_FILES;

export interface NamedEntry<T> {
  path: string;
  value: T;
}

/** Forward slashes, no leading "./" or "/": dropped entries start with "/", Windows paths use "\". */
export function normalizePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
}

function baseName(path: string): string {
  const parts = normalizePath(path).split('/');
  return parts[parts.length - 1]!;
}

/**
 * Finds the entry for a folder file among named entries, by file name: a unique entry of that name wins; among several,
 * the one whose path ends with the folder-relative path (e.g. "tokenizer/vocab.bpe"); otherwise it is ambiguous.
 */
export function matchFolderFile<T>(entries: ReadonlyArray<NamedEntry<T>>, file: string, label: string): T | null {
  const name = baseName(file);
  const hits = entries.filter((e) => baseName(e.path) === name);
  if (hits.length === 0) return null;
  if (hits.length === 1) return hits[0]!.value;
  const exact = hits.filter((e) => normalizePath(e.path) === file || normalizePath(e.path).endsWith('/' + file));
  if (exact.length === 1) return exact[0]!.value;
  throw new CheckpointError(
    `${file}: found ${hits.length} files named "${name}" in ${label} ` +
      `(${hits.map((h) => h.path).join(', ')}); pick the files of a single model folder`,
    { file },
  );
}

export interface FolderLookup<T> {
  /** The model folder's path inside the list ("" for loose files or a list rooted at the folder), with a trailing "/". */
  readonly root: string;
  /** The model folder's own name (the last part of root), or null when the list has no folder structure. */
  readonly name: string | null;
  /**
   * The entry at a folder-relative path ("tasks/index.json"), or null when absent. Only the loader's own files fall
   * back to matching by name: "tasks/x.json" must never be answered with "circuits/x.json".
   */
  find(path: string): T | null;
}

/**
 * Locates the model folder inside the list by its config.json: the picked folder may be the model folder itself
 * ("m/config.json") or hold it deeper ("models/m/config.json"). Among several config.json files the shallowest wins;
 * a tie leaves no root, and reading config.json then reports the ambiguity.
 */
export function folderLookup<T>(entries: ReadonlyArray<NamedEntry<T>>, label: string): FolderLookup<T> {
  const byPath = new Map(entries.map((e) => [normalizePath(e.path), e.value] as const));
  const configs = [...byPath.keys()].filter((p) => baseName(p) === 'config.json');
  const depth = (p: string) => p.split('/').length;
  const shallowest = configs.length ? Math.min(...configs.map(depth)) : 0;
  const top = configs.filter((p) => depth(p) === shallowest);
  const root = top.length === 1 ? top[0]!.slice(0, -'config.json'.length) : '';
  const parts = root.split('/').filter(Boolean);
  // Name matching looks inside the model folder first, so a nested folder's copy never shadows the folder's own file;
  // only then at everything dropped with it (a folder dropped together with a loose tokenizer file).
  const inside = entries.filter((e) => normalizePath(e.path).startsWith(root));
  return {
    root,
    name: parts.length ? parts[parts.length - 1]! : null,
    find(path) {
      const rel = normalizePath(path);
      const hit = byPath.get(root + rel);
      if (hit !== undefined) return hit;
      if (!NAMED_FILES.includes(rel)) return null;
      return matchFolderFile(inside, rel, label) ?? (root ? matchFolderFile(entries, rel, label) : null);
    },
  };
}
