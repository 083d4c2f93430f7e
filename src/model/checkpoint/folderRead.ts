import { CheckpointError } from './errors';
import type { FolderSource, ReadOptions } from './sources';

/**
 * Reading one file of a model folder from any FolderSource (URL, local folder, in-memory). Absence is decided once, by
 * the source (over HTTP: optionalFile.ts's rule); these helpers only say what absence means to the caller. The model
 * loader, the task list, circuits and snippets all read through them, for a URL and a local folder alike.
 */

const EXTRAS: ReadOptions = { stage: 'extras' };

/** The file's bytes; a missing file is a CheckpointError naming the file and the folder. */
export async function readRequired(source: FolderSource, path: string, opts: ReadOptions = EXTRAS): Promise<Uint8Array> {
  const bytes = await source.read(path, opts);
  if (!bytes) throw new CheckpointError(`${path} is missing from ${source.label}`, { file: path });
  return bytes;
}

/** The file as UTF-8 text; missing is an error as in readRequired. */
export async function readRequiredText(source: FolderSource, path: string, opts: ReadOptions = EXTRAS): Promise<string> {
  return new TextDecoder().decode(await readRequired(source, path, opts));
}

/**
 * An optional JSON file, parsed, or null when absent. A body that is not JSON also counts as absent: a host's
 * fallback page served without a text/html type is not the file.
 */
export async function readOptionalJson(source: FolderSource, path: string, opts: ReadOptions = EXTRAS): Promise<unknown | null> {
  const bytes = await source.read(path, opts);
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** Whether the folder has the file: the source's cheap probe (HEAD, a list lookup) when it has one, else a read. */
export async function folderHas(source: FolderSource, path: string, signal?: AbortSignal): Promise<boolean> {
  if (source.has) return source.has(path, { signal });
  return (await source.read(path, { ...EXTRAS, signal })) !== null;
}
