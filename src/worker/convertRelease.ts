import { convertRelease } from '../model/checkpoint/release/convertRelease';
import { sortReleaseFiles } from '../model/checkpoint/release/releaseFiles';
import type { PathedFile } from '../model/checkpoint/sources';
import { zipFolder } from '../model/checkpoint/zipFolder';
import type { ConvertedReleaseZip, LoadProgress } from './protocol';
import { importReleaseViz } from './releaseVizImport';

/**
 * The worker's side of opening an OpenAI release in the page: the dropped or picked release files -> our model folder
 * (src/model/checkpoint/release), zipped, with the released circuits (viz_data.pt) imported by running the converted
 * model (releaseVizImport.ts). The page then loads that zip as it loads any picked zip, and keeps it for
 * "Save as model folder", so what is saved is byte for byte what was loaded. Progress is reported as a load's.
 */
export async function convertReleaseToZip(files: readonly PathedFile[], onProgress: (p: LoadProgress) => void, signal: AbortSignal): Promise<ConvertedReleaseZip> {
  const release = sortReleaseFiles(files);
  const out = await convertRelease(release, {
    signal,
    importViz: importReleaseViz,
    onProgress: (e) => onProgress({ kind: 'load', stage: e.stage, file: e.file, loadedBytes: e.loadedBytes, totalBytes: e.totalBytes }),
  });
  onProgress({ kind: 'load', stage: 'zipping the converted folder', file: `${out.id}.zip`, loadedBytes: 0, totalBytes: null });
  const zip = zipFolder(out.files, out.id);
  signal.throwIfAborted();
  return { id: out.id, name: out.name, zip, notes: out.notes };
}
