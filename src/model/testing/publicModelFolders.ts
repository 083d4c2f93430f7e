// Node-only test helper: the model folders shipped under public/models/. Folders whose names start with "_" or
// "." are exports in progress and are left out.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const MODELS_DIR = resolve(__dirname, '../../../public/models');

export function shippedModelFolders(): string[] {
  if (!existsSync(MODELS_DIR)) return [];
  return readdirSync(MODELS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !/^[_.]/.test(d.name) && existsSync(join(MODELS_DIR, d.name, 'config.json')))
    .map((d) => d.name);
}

/** The files of a model folder that loadModelFolder reads, keyed by folder-relative path. */
export function readModelFolder(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const f of ['config.json', 'model.safetensors', 'means.safetensors', 'model-card.json', 'tokenizer/encoder.json', 'tokenizer/vocab.bpe']) {
    const p = join(dir, f);
    if (existsSync(p)) out.set(relative(dir, p), new Uint8Array(readFileSync(p)));
  }
  return out;
}
