import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelFolder } from './loadModelFolder';
import { parseModelIndex } from './modelIndex';
import { mapSource } from './sources';
import { MODELS_DIR, readModelFolder, shippedModelFolders } from '../testing/publicModelFolders';

/** Every model folder shipped under public/models/ loads and validates (big ones are left to the e2e tests). */
const modelsDir = MODELS_DIR;
const MAX_TEST_BYTES = 64 * 1024 * 1024;
const folders = shippedModelFolders();
const readFolder = readModelFolder;

describe('public/models', () => {
  if (folders.length === 0) {
    it.skip('SKIPPED: no public/models/<id>/config.json exists yet', () => {});
    return;
  }
  for (const id of folders) {
    const dir = join(modelsDir, id);
    const weights = join(dir, 'model.safetensors');
    const size = existsSync(weights) ? statSync(weights).size : 0;
    it.skipIf(size > MAX_TEST_BYTES)(`${id} loads and validates${size > MAX_TEST_BYTES ? ' (SKIPPED: over 64 MiB)' : ''}`, async () => {
      const out = await loadModelFolder(mapSource(readFolder(dir), `public/models/${id}/`));
      expect(out.checkpoint.tensors.size).toBeGreaterThan(0);
      expect(out.tokenizer.vocabSize).toBeLessThanOrEqual(out.checkpoint.config.vocabSize);
      expect(out.warnings.filter((w) => !w.includes('means.safetensors not found'))).toEqual([]);
    });
  }
  const indexPath = join(modelsDir, 'index.json');
  it.skipIf(!existsSync(indexPath))('index.json is valid and lists existing folders', () => {
    const idx = parseModelIndex(JSON.parse(readFileSync(indexPath, 'utf8')));
    for (const m of idx.models) expect(folders, `folder for "${m.id}"`).toContain(m.id);
  });
});
