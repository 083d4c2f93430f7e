import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { circuitNodeIds } from '../circuit/circuitFile';
import { circuitFileSchema } from '../circuit/circuitSchema';
import { extractEdges } from '../circuit/edges';
import { pairPrompts, taskMetrics } from '../tasks/taskLoss';
import { taskFileSchema } from '../tasks/taskSchema';
import { loadModelFolder } from './checkpoint/loadModelFolder';
import { mapSource } from './checkpoint/sources';
import { SparseGpt } from './forward';
import { parseNodeId } from './sites';
import { expectGoldenMatch } from './testing/compare';
import { goldenFileDiffs } from './testing/goldenFile';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { readModelFolder } from './testing/publicModelFolders';
import { tf } from './tfjs';

/**
 * The model folder that train/openai_import.py made from the release-shaped fixture (test-fixtures/openai-small,
 * written by train/openai_fixtures.py; train/tests/test_openai_import.py checks the folder is current) runs in the
 * TF.js runtime: logits and every hook site match PyTorch's golden file to 1e-4, and each imported circuit, replayed
 * with the runtime's `circuit` intervention, reproduces its stored circuit loss (which the importer checked against
 * the released interv_loss / 2).
 */
const DIR = resolve(__dirname, '../../test-fixtures/openai-small/converted');
const TASKS = JSON.parse(readFileSync(join(DIR, 'tasks/index.json'), 'utf8')).tasks as string[];

async function load() {
  const { checkpoint, warnings } = await loadModelFolder(mapSource(readModelFolder(DIR), 'test-fixtures/openai-small/converted/'));
  return { checkpoint, warnings };
}

describe.each<NodeBackendName>(['cpu', 'wasm'])('imported OpenAI-format model on %s', (backend) => {
  it('loads cleanly and matches its PyTorch golden fixture (logits and every hook site)', async () => {
    await useBackend(backend);
    const { checkpoint, warnings } = await load();
    expect(warnings).toEqual([]);
    expect(checkpoint.config.sink).toBe(true);
    expect(checkpoint.config.bigramTable).toBe(true);
    expect(checkpoint.config.afracLocations.size).toBe(8);
    const diffs = await goldenFileDiffs(checkpoint, join(DIR, 'golden.safetensors'));
    expect(diffs.length).toBeGreaterThan(1);
    // PyTorch's residual-edge path patching and q·k score edit (train/edge_ablation.py): 7 lists, logits and readers.
    expect(new Set(diffs.filter((d) => d.label.startsWith('edge ablation ') && d.label.endsWith(' logits')).map((d) => d.label)).size).toBe(7);
    expectGoldenMatch(diffs, 1e-4); // AbsTopK near-ties are reported and explained, anything else fails
    expect(tf.getBackend()).toBe(backend);
  });

  it.each(TASKS)('circuit %s replayed through the runtime reproduces its circuit_loss; edges as edges.ts', async (task) => {
    await useBackend(backend);
    const { checkpoint } = await load();
    const taskFile = taskFileSchema.parse(JSON.parse(readFileSync(join(DIR, `tasks/${task}.json`), 'utf8')));
    const file = circuitFileSchema.parse(JSON.parse(readFileSync(join(DIR, `circuits/${task}.json`), 'utf8')));
    expect(file.k).toBe(file.nodes.length);
    expect(file.edge_count).toBe(file.edges.length);
    const key = (e: { source: string; target: string; kind: string; weight: number }) => `${e.source}->${e.target}:${e.kind}:${e.weight}`;
    const ids = circuitNodeIds(file);
    expect(extractEdges(checkpoint, ids.map(parseNodeId)).map(key)).toEqual(file.edges.map(key));

    const model = new SparseGpt(checkpoint);
    try {
      const V = model.config.vocabSize;
      const replay = async (mode: 'circuit' | 'full') => {
        const diffs: number[] = [];
        for (const p of pairPrompts(taskFile.test)) {
          const interventions = mode === 'circuit' ? [{ kind: 'circuit' as const, nodes: ids, mode: file.ablation }] : [];
          const run = await model.run(p.tokens, { interventions });
          const last = run.logits.subarray((p.tokens.length - 1) * V, p.tokens.length * V);
          diffs.push(last[p.correct]! - last[p.alternative]!);
        }
        return taskMetrics(diffs);
      };
      const circuit = await replay('circuit');
      expect(circuit.loss).toBeCloseTo(file.circuit_loss, 4);
      expect(circuit.accuracy).toBeCloseTo(file.circuit_accuracy, 6);
      expect((await replay('full')).loss).toBeCloseTo(file.full_model_loss, 4);
      // and the circuit differs from the full model, so the replay above is not vacuous
      expect(Math.abs(file.circuit_loss - file.full_model_loss)).toBeGreaterThan(1e-2);
      const released = (file.prune_config?.released ?? {}) as { interv_loss?: number };
      expect(released.interv_loss).toBeCloseTo(file.circuit_loss, 4);
    } finally {
      model.dispose();
    }
  });
});
