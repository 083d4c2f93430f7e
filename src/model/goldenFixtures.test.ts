import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelFolder } from './checkpoint/loadModelFolder';
import { mapSource } from './checkpoint/sources';
import { expectGoldenMatch } from './testing/compare';
import { goldenFileDiffs } from './testing/goldenFile';
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
    const diffs = await goldenFileDiffs(checkpoint, join(dir, 'golden.safetensors'));
    expect(diffs.length).toBeGreaterThan(1);
    expectGoldenMatch(diffs, 1e-4); // AbsTopK near-ties are reported and explained, anything else fails
    expect(tf.getBackend()).toBe(backend);
  });
});
