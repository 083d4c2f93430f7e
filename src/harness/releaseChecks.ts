// The e2e release-drop check's browser half: the model folder the page converted from OpenAI's release files (the
// zip it saves, byte for byte what its worker loaded) against PyTorch's golden file, in the browser, on a chosen
// backend, with AbsTopK near-ties reported and set apart as in every golden check.
import { tf } from '../model/tfjs';
import type { BackendName } from '../model/backends/types';
import { loadModelFolder } from '../model/checkpoint/loadModelFolder';
import { zipFolderSource } from '../model/checkpoint/zipFolder';
import { goldenBytesDiffs } from '../model/testing/goldenFile';

const fromBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

export async function releaseGolden(zipBase64: string, goldenBase64: string, backend: BackendName) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to start`);
  await tf.ready();
  const zip = new Blob([fromBase64(zipBase64)]);
  const { checkpoint, warnings, card } = await loadModelFolder(zipFolderSource({ path: 'converted.zip', file: zip }));
  const diffs = await goldenBytesDiffs(checkpoint, fromBase64(goldenBase64));
  return { backend: tf.getBackend(), warnings, card, diffs };
}
