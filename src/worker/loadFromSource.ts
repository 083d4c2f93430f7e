import { loadModelFolder, type LoadedModelFolder, type LoadModelFolderOptions } from '../model/checkpoint/loadModelFolder';
import { urlSource } from '../model/checkpoint/sources';
import { localFolderSource } from '../model/checkpoint/zipFolder';
import type { LoadProgress, ModelSource } from './protocol';

/** Loads a model folder from a URL or from the user's files (a folder, loose files or one .zip), naming it for display. */
export async function loadFromSource(
  source: ModelSource,
  onProgress: (p: LoadProgress) => void,
  signal: AbortSignal,
  opts: Omit<LoadModelFolderOptions, 'onProgress' | 'signal'> = {},
): Promise<LoadedModelFolder & { id: string }> {
  const folder = source.kind === 'url' ? urlSource(source.baseUrl) : localFolderSource(source.files);
  const loaded = await loadModelFolder(folder, { ...opts, onProgress: (e) => onProgress({ kind: 'load', ...e }), signal });
  const card = (loaded.card ?? {}) as { id?: unknown };
  // A local folder without a card id is named after the folder, never after the previous model.
  const id = source.kind === 'url' && source.id
    ? source.id
    : typeof card.id === 'string' && card.id ? card.id : folder.name ?? folder.label;
  return { ...loaded, id };
}
