import { urlSource, withPaths, type FolderSource, type PathedFile } from '../model/checkpoint/sources';
import { localFolderSource } from '../model/checkpoint/zipFolder';
import type { ModelSource } from '../worker/protocol';
import type { ModelOrigin } from './appStore';

/**
 * The page's side of a model folder: after the engine has loaded a model, the page reads that folder's tasks,
 * circuits and snippets through the same FolderSource the engine used, so a model from a local folder gets them
 * exactly as a model from a URL does.
 */
export function folderReader(source: ModelSource): FolderSource {
  return source.kind === 'url' ? urlSource(source.baseUrl) : localFolderSource(source.files);
}

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);

/** What the model menu calls a model: its card's name or id, else its folder's name, else the engine's id. */
export function modelDisplayName(card: unknown, folderName: string | null | undefined, id: string): string {
  const c = (card ?? {}) as { name?: unknown; id?: unknown };
  return text(c.name) ?? text(c.id) ?? text(folderName) ?? id;
}

/** A local load, ready for loadModel: the files with their paths, and the message's name for them. */
export interface LocalLoad {
  source: Extract<ModelSource, { kind: 'files' }>;
  label: string;
  kind: Exclude<ModelOrigin['kind'], 'url'>;
}

/**
 * Prepares picked or dropped files: paths are taken here, on the page, because a File's webkitRelativePath does not
 * reach the worker. The label says how the files came ("the picked folder "m"", "3 dropped files").
 */
export function localLoad(files: Iterable<File | PathedFile>, kind: LocalLoad['kind']): LocalLoad {
  const pathed = withPaths(files);
  const name = localFolderSource(pathed).name;
  const label = name ? `the ${kind} folder "${name}"` : `${pathed.length} ${kind} file${pathed.length === 1 ? '' : 's'}`;
  return { source: { kind: 'files', files: pathed }, label, kind };
}
