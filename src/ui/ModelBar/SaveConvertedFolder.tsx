import { useAppStore } from '../../state/appStore';
import { convertedZipToSave, useMeansStore } from '../../state/meansActions';
import { useReleaseStore } from '../../state/releaseActions';

/** Downloads bytes as a file (an object URL, revoked once the download has started). */
function download(bytes: Uint8Array, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * "Save as model folder": shown while the loaded model is one converted in the page from OpenAI's release files. The
 * zip holds the folder that was loaded (config.json, model.safetensors, means.safetensors, tokenizer/,
 * model-card.json), and opens again later by dropping or picking it. Means computed in the page from text are added
 * (means.safetensors, and the card's `means` says where they came from).
 */
export function SaveConvertedFolder() {
  const converted = useReleaseStore((s) => s.converted);
  const folder = useAppStore((s) => s.modelFolder);
  const withMeans = useMeansStore((s) => s.computed?.folder === folder);
  if (!converted || converted.folder !== folder) return null;
  return (
    <button
      type="button"
      title={`download ${converted.fileName}: the converted model folder${withMeans ? ', with the means computed from text' : ''}; drop or pick the zip to open it again`}
      onClick={() => download(convertedZipToSave(converted), converted.fileName)}
    >
      Save as model folder
    </button>
  );
}
