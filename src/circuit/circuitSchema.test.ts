import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODELS_DIR, shippedModelFolders } from '../model/testing/publicModelFolders';
import { circuitFileSchema, circuitGranularity } from './circuitSchema';

const shipped = shippedModelFolders().flatMap((id) => {
  const dir = join(MODELS_DIR, id, 'circuits');
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => ({ name: `${id}/${f}`, path: join(dir, f) }));
  } catch {
    return [];
  }
});

describe('circuit file schema', () => {
  it('reads every shipped circuit file as it is: nothing added, dropped or changed, granularity included', () => {
    // 14 tasks for each of sparse-py-2l, its two dense models, sparse-py-2l-d256 and its dense twin.
    expect(shipped.length).toBeGreaterThanOrEqual(70);
    for (const { name, path } of shipped) {
      const raw = JSON.parse(readFileSync(path, 'utf8'));
      const parsed = circuitFileSchema.safeParse(raw);
      expect(parsed.success, `${name}: ${parsed.error?.message}`).toBe(true);
      expect(parsed.data, name).toEqual(raw);
      expect(circuitGranularity(parsed.data!)).toBe(raw.granularity ?? 'nodes');
    }
  });

  it('every shipped circuit file carries its control on random labels, and no control reached the target', () => {
    for (const { name, path } of shipped) {
      const file = circuitFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
      expect(file.control, `${name} has no control`).toBeDefined();
      expect(file.control!.label_rule, name).toMatch(/^random flip/);
      expect(file.control!.granularity ?? 'nodes', `${name}: control pruned like the circuit`).toBe(circuitGranularity(file));
      expect(file.control!.reached_target, `${name}: control reached the target`).toBe(false);
    }
  });

  it('round-trips the granularity, minimality and control fields, and refuses bad ones', () => {
    const raw = JSON.parse(readFileSync(shipped[0]!.path, 'utf8'));
    const control = {
      label_rule: 'random flip, p=0.5', seed: 1, flipped_pairs: 247, granularity: 'nodes', reached_target: false,
      train_circuit_loss_bound: 0.71, circuit_loss: 0.72, circuit_accuracy: 0.51, full_model_loss: 0.9, full_model_accuracy: 0.49,
      node_count: 35, edge_count: 40, minimality_removed: 0, prune_seconds: 230,
    };
    const file = { ...raw, granularity: 'edges', minimality_removed: 41, control };
    const back = circuitFileSchema.parse(JSON.parse(JSON.stringify(circuitFileSchema.parse(file))));
    expect(back).toEqual(file);
    expect(circuitGranularity(back)).toBe('edges');
    for (const bad of [
      { granularity: 'heads' },
      { minimality_removed: -1 },
      { minimality_removed: 2.5 },
      { control: { ...control, node_count: undefined } },
      { control: { ...control, label_rule: '' } },
      { control: { ...control, seed: 0.5 } },
    ]) {
      expect(circuitFileSchema.safeParse({ ...file, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
