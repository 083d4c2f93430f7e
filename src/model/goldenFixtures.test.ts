import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelFolder } from './checkpoint/loadModelFolder';
import { parseSafetensors, toFloat32, toInt32 } from './checkpoint/safetensors';
import { mapSource } from './checkpoint/sources';
import { SparseGpt } from './forward';
import { allSites } from './sites';
import { maxAbsDiff } from './testing/goldenDiffs';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { MODELS_DIR, readModelFolder, shippedModelFolders } from './testing/publicModelFolders';
import { tf } from './tfjs';

/**
 * Every shipped model reproduces the logits and hook-site activations that PyTorch exported with it
 * (golden.safetensors, written by train/export.py) to 1e-4, on the cpu and wasm backends.
 */
const withGolden = shippedModelFolders().filter((id) => existsSync(join(MODELS_DIR, id, 'golden.safetensors')));

describe.each<NodeBackendName>(['cpu', 'wasm'])('shipped models match their PyTorch golden fixtures on %s', (backend) => {
  if (withGolden.length === 0) {
    it.skip('SKIPPED: no shipped model has golden.safetensors', () => {});
    return;
  }
  it.each(withGolden)('%s', async (id) => {
    await useBackend(backend);
    const dir = join(MODELS_DIR, id);
    const { checkpoint } = await loadModelFolder(mapSource(readModelFolder(dir), `public/models/${id}/`));
    const golden = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'golden.safetensors'))), 'golden.safetensors');
    const prompts = JSON.parse(golden.metadata.prompts ?? '[]') as string[];
    expect(prompts.length).toBeGreaterThan(0);
    const model = new SparseGpt(checkpoint);
    try {
      for (let p = 0; p < prompts.length; p++) {
        const tokens = [...toInt32(golden.tensors.get(`p${p}.tokens`)!)];
        const got = await model.run(tokens, { record: 'all' });
        expect(maxAbsDiff(got.logits, toFloat32(golden.tensors.get(`p${p}.logits`)!)), `prompt ${p} logits`).toBeLessThanOrEqual(1e-4);
        for (const site of allSites(checkpoint.config)) {
          const want = golden.tensors.get(`p${p}.${site}`);
          expect(want, `golden has ${site}`).toBeDefined();
          expect(maxAbsDiff(got.sites.get(site)!, toFloat32(want!)), `prompt ${p} ${site}`).toBeLessThanOrEqual(1e-4);
        }
      }
    } finally {
      model.dispose();
    }
    expect(tf.getBackend()).toBe(backend);
  });
});
