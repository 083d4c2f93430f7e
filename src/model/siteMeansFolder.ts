import { CheckpointError } from './checkpoint/errors';
import { jsonFile } from './checkpoint/release/folderFiles';
import { readZipEntries } from './checkpoint/torch/zipEntries';
import { zipFolder } from './checkpoint/zipFolder';

/**
 * A zipped model folder (as zipFolder writes one: the folder's files under one top-level directory) with means
 * computed in the page added: means.safetensors, and model-card.json's `means` set to where they came from, as the
 * importer records its means source there. Every other file is kept byte for byte.
 */
export function zipWithMeans(zip: Uint8Array, zipName: string, meansFile: Uint8Array, info: unknown): Uint8Array {
  const entries = readZipEntries(zip, zipName);
  const config = entries.names.find((n) => /^[^/]+\/config\.json$/.test(n));
  if (!config) throw new CheckpointError(`${zipName}: no model folder (a directory with config.json) at the top of the zip`, { file: zipName });
  const root = config.slice(0, config.indexOf('/'));
  const files = new Map<string, Uint8Array>();
  for (const name of entries.names) {
    if (!name.endsWith('/') && name.startsWith(`${root}/`)) files.set(name.slice(root.length + 1), entries.read(name)!);
  }
  const cardBytes = files.get('model-card.json');
  const card: unknown = cardBytes ? JSON.parse(new TextDecoder().decode(cardBytes)) : {};
  files.set('means.safetensors', meansFile);
  files.set('model-card.json', jsonFile({ ...(card !== null && typeof card === 'object' ? card : {}), means: info }));
  return zipFolder(files, root);
}
