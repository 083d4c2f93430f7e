import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCircuitFile } from '../../src/circuit/circuitFile';
import { circuitFileSchema, circuitGranularity, type CircuitFile } from '../../src/circuit/circuitSchema';
import { runControl } from '../../src/circuit/control';
import { pruneTaskByEdges } from '../../src/circuit/edgePrune';
import { buildEdgeCircuitFile } from '../../src/circuit/edgePruneFile';
import { DEFAULT_PRUNE_CONFIG, pruneTask, type PruneConfig, type PruneProgress } from '../../src/circuit/prune';
import { loadModelFolder, mapSource } from '../../src/model/checkpoint';
import { SparseGpt } from '../../src/model/forward';
import { taskFileSchema, type TaskFile } from '../../src/tasks/taskSchema';
import { folderFiles, modelDir } from './models';
import { ProgressBar } from './progressBar';

/**
 * `npm run prune -- --control-only`: adds the control (control.ts) to circuit files that were made without one, with
 * the settings each file was made with (its prune_config and granularity), on the same test pairs, and changes
 * nothing else in the file. Files that already carry a control are left alone, so a batch can be resumed.
 */

/**
 * The pruning settings a circuit file was made with. Files from before the minimality pass existed have no
 * `minimality` key and were made without it, so a missing key means off; every other missing key is the default.
 */
export function configOfCircuitFile(file: Pick<CircuitFile, 'prune_config'>): PruneConfig {
  const stored = file.prune_config ?? {};
  const cfg: Record<string, unknown> = { ...DEFAULT_PRUNE_CONFIG, minimality: false };
  for (const key of Object.keys(cfg)) if (key in stored) cfg[key] = stored[key];
  for (const [key, v] of Object.entries(cfg)) {
    const want = typeof (DEFAULT_PRUNE_CONFIG as unknown as Record<string, unknown>)[key];
    if (typeof v !== want) throw new Error(`prune_config.${key} is ${JSON.stringify(v)}, expected a ${want}`);
  }
  return cfg as unknown as PruneConfig;
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

export async function addControls(o: { ids: string[]; taskNamesOf: (id: string) => string[]; backend: string; seed: number }): Promise<void> {
  for (const id of o.ids) {
    const { checkpoint } = await loadModelFolder(mapSource(folderFiles(id), id));
    const model = new SparseGpt(checkpoint);
    try {
      for (const name of o.taskNamesOf(id)) {
        const path = join(modelDir(id), 'circuits', `${name}.json`);
        const file = circuitFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
        if (file.control) {
          process.stdout.write(`${id}/${name}: already has its control (${file.control.reached_target ? 'target reached' : 'target not reached'}), left as it is\n`);
          continue;
        }
        const config = configOfCircuitFile(file);
        const full = taskFileSchema.parse(JSON.parse(readFileSync(join(modelDir(id), 'tasks', `${name}.json`), 'utf8')));
        const task: TaskFile = { ...full, test: full.test.slice(0, file.test_pairs ?? full.test.length) };
        const granularity = circuitGranularity(file);
        const bar = new ProgressBar(`${id}/${name} control (${granularity})`);
        const hooks = { onProgress: (p: PruneProgress) => bar.update(p.done, p.total, `${p.phase}${p.kept !== undefined ? ` kept ${p.kept}` : ''}`) };
        const meta = { modelId: id, backend: o.backend, config };
        const t0 = performance.now();
        const control = await runControl(task, o.seed, async (flipped) =>
          granularity === 'edges'
            ? buildEdgeCircuitFile(model, flipped, await pruneTaskByEdges(model, flipped, config, hooks), meta, hooks)
            : buildCircuitFile(model, checkpoint, flipped, await pruneTask(model, flipped, config, hooks), meta, hooks),
        );
        writeFileSync(path, JSON.stringify(circuitFileSchema.parse({ ...file, control })) + '\n');
        bar.done(
          `control ${control.reached_target ? 'REACHED the target' : 'target not reached'}: loss ${fmt(control.circuit_loss)} ` +
            `acc ${fmt(control.circuit_accuracy, 2)}, ${control.edge_count} edges, ${fmt((performance.now() - t0) / 1000, 0)} s -> ${path}`,
        );
      }
    } finally {
      model.dispose();
    }
  }
}
