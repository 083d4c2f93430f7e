import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelFolder } from './loadModelFolder';
import { parseModelIndex } from './modelIndex';
import { mapSource } from './sources';

/**
 * Every model folder shipped under public/models/ loads and validates (big ones are left to the e2e tests). Folders
 * whose names start with "_" or "." are exports in progress and are left out.
 */
const modelsDir = resolve(__dirname, '../../../public/models');
const MAX_TEST_BYTES = 64 * 1024 * 1024;
const folders = existsSync(modelsDir)
  ? readdirSync(modelsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !/^[_.]/.test(d.name) && existsSync(join(modelsDir, d.name, 'config.json')))
      .map((d) => d.name)
  : [];

function readFolder(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const f of ['config.json', 'model.safetensors', 'means.safetensors', 'model-card.json', 'tokenizer/encoder.json', 'tokenizer/vocab.bpe']) {
    const p = join(dir, f);
    if (existsSync(p)) out.set(relative(dir, p), new Uint8Array(readFileSync(p)));
  }
  return out;
}

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
