import { create } from 'zustand';
import { looksLikeRelease } from '../model/checkpoint/release/releaseFiles';
import { withPaths, type FolderSource, type PathedFile } from '../model/checkpoint/sources';
import { loadModel, openLocalModel, runAsLoad } from './actions';
import { useAppStore } from './appStore';

/**
 * Opening OpenAI's released files (final_model.pt + beeg_config.json + tokenizer, optionally the mean baseline)
 * directly: the engine worker converts them into one of our model folders, zipped (with progress and Cancel, shown
 * as a load), then the page loads that zip like a picked one. The zip is kept for "Save as model folder" while its
 * model is the loaded one. A refused or cancelled conversion leaves the loaded model as it was.
 */

export interface ConvertedFolder {
  /** The folder the page reads the converted model through (appStore.modelFolder while it is loaded). */
  folder: FolderSource;
  fileName: string;
  zip: Uint8Array;
}

export const useReleaseStore = create<{ converted: ConvertedFolder | null }>(() => ({ converted: null }));

const get = useAppStore.getState;

/** Converts release files in the worker and opens the result; false when refused, cancelled or failed. */
export async function openRelease(files: readonly PathedFile[], how: 'picked' | 'dropped'): Promise<boolean> {
  const label = `the ${how} release files`;
  const converted = await runAsLoad(label, `${label} (converting)`, 'convert', (e, onProgress) => e.request('convertRelease', { files: [...files] }, onProgress), (r) => r);
  if (!converted) return false;
  const fileName = `${converted.id}.zip`;
  const zip = new File([converted.zip as Uint8Array<ArrayBuffer>], fileName, { type: 'application/zip' });
  const ok = await loadModel({ kind: 'files', files: [{ path: fileName, file: zip }] }, `the converted release "${converted.id}"`, how);
  const folder = get().modelFolder;
  if (ok && folder) useReleaseStore.setState({ converted: { folder, fileName, zip: converted.zip } });
  return ok;
}

/** Picked or dropped files: release files are converted first, anything else (a folder, loose files, a zip) opens as is. */
export function openLocalFiles(files: Iterable<File | PathedFile>, how: 'picked' | 'dropped'): Promise<boolean> {
  const pathed = withPaths(files);
  return looksLikeRelease(pathed.map((f) => f.path)) ? openRelease(pathed, how) : openLocalModel(pathed, how);
}
