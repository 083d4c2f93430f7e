import { readFileSync, writeFileSync } from 'node:fs';
import { circuitFileSchema, circuitGranularity, type CircuitFile } from '../../src/circuit/circuitSchema';
import { runControl } from '../../src/circuit/control';
import { findCircuit } from '../../src/circuit/findCircuit';
import { DEFAULT_PRUNE_CONFIG, type PruneConfig, type PruneProgress } from '../../src/circuit/prune';
import { loadModelFolder, mapSource } from '../../src/model/checkpoint';
import { SparseGpt } from '../../src/model/forward';
import { fmt } from './format';
import { circuitFilePath, folderFiles, readTask } from './models';
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

export async function addControls(o: {
  ids: string[];
  taskNamesOf: (id: string) => string[];
  backend: string;
  seed: number;
  /** --in <dir>: the files <dir>/<id>/<task>.json (as --out writes them) instead of the model's shipped ones. */
  dir?: string;
}): Promise<void> {
  for (const id of o.ids) {
    const { checkpoint } = await loadModelFolder(mapSource(folderFiles(id), id));
    const model = new SparseGpt(checkpoint);
    try {
      for (const name of o.taskNamesOf(id)) {
        const path = circuitFilePath(id, name, o.dir);
        const file = circuitFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
        if (file.control) {
          process.stdout.write(`${id}/${name}: already has its control (${file.control.reached_target ? 'target reached' : 'target not reached'}), left as it is\n`);
          continue;
        }
        const config = configOfCircuitFile(file);
        const task = readTask(id, name, file.test_pairs);
        const granularity = circuitGranularity(file);
        const bar = new ProgressBar(`${id}/${name} control (${granularity})`);
        const hooks = { onProgress: (p: PruneProgress) => bar.update(p.done, p.total, `${p.phase}${p.kept !== undefined ? ` kept ${p.kept}` : ''}`) };
        const meta = { modelId: id, backend: o.backend, config };
        const t0 = performance.now();
        const control = await runControl(task, o.seed, (flipped) => findCircuit(granularity, model, flipped, meta, hooks));
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
