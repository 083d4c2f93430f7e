import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { circuitFileSchema } from '../../src/circuit/circuitSchema';
import { runControl } from '../../src/circuit/control';
import { pruneTaskByEdges } from '../../src/circuit/edgePrune';
import { buildEdgeCircuitFile } from '../../src/circuit/edgePruneFile';
import { findCircuit } from '../../src/circuit/findCircuit';
import { defaultKCoef } from '../../src/circuit/suggestedKCoef';
import type { PruneConfig, PruneProgress } from '../../src/circuit/prune';
import { loadModelFolder, mapSource } from '../../src/model/checkpoint';
import { SparseGpt } from '../../src/model/forward';
import { countMatrixWeights } from '../../src/model/weightCounts';
import { fmt } from './format';
import { folderFiles, modelDir, readTask } from './models';
import { ProgressBar } from './progressBar';

/**
 * `npm run prune -- --granularity edges`: edge pruning (src/circuit/edgePrune.ts) of each asked task, evaluated on the
 * test pairs through the runtime's edge circuit, written as a circuit file with granularity "edges".
 */
export async function pruneByEdges(o: {
  ids: string[];
  taskNamesOf: (id: string) => string[];
  /** Settings; their kCoef is replaced by `kCoef`, or by the model's default (defaultKCoef) when that is absent. */
  config: PruneConfig;
  /** --k-coef, when given. */
  kCoef?: number;
  backend: string;
  testPairs: number;
  /** Folder to write into (a subfolder per model); default the model's circuits/ folder. */
  out?: string;
  /** --control: also edge-prune the same prompts with labels flipped by this seed (control.ts). */
  controlSeed?: number | null;
  /** The command line that ran this, recorded in each file's prune_config. */
  command?: string;
}): Promise<void> {
  for (const id of o.ids) {
    const { checkpoint } = await loadModelFolder(mapSource(folderFiles(id), id));
    const model = new SparseGpt(checkpoint);
    const fallback = defaultKCoef('edges', countMatrixWeights(checkpoint));
    const config: PruneConfig = { ...o.config, kCoef: o.kCoef ?? fallback.kCoef };
    if (o.kCoef === undefined) process.stdout.write(`${id}: k_coef ${config.kCoef} (${fallback.source})\n`);
    try {
      for (const name of o.taskNamesOf(id)) {
        const task = readTask(id, name, o.testPairs);
        const bar = new ProgressBar(`${id}/${name} edges`);
        const hooks = {
          onProgress: (p: PruneProgress) =>
            bar.update(p.done, p.total, `${p.phase}${p.loss !== undefined ? ` loss ${fmt(p.loss)}` : ''}${p.kept !== undefined ? ` edges ${p.kept}` : ''}`),
        };
        const outcome = await pruneTaskByEdges(model, task, config, hooks);
        bar.update(0, 1, 'evaluating on test pairs');
        const t0 = performance.now();
        const file = await buildEdgeCircuitFile(model, task, outcome, { modelId: id, backend: o.backend, config }, hooks);
        const evalSeconds = (performance.now() - t0) / 1000;
        // The control: the same edge pruning on the same prompts with randomly flipped labels (control.ts).
        const tc = performance.now();
        const control = o.controlSeed == null ? undefined : await runControl(task, o.controlSeed, async (flipped) => {
          const controlBar = new ProgressBar(`${id}/${name} edges control`);
          const controlHooks = { onProgress: (p: PruneProgress) => controlBar.update(p.done, p.total, `${p.phase}${p.kept !== undefined ? ` edges ${p.kept}` : ''}`) };
          const f = await findCircuit('edges', model, flipped, { modelId: id, backend: o.backend, config }, controlHooks);
          controlBar.done(`${f.edge_count} edges, test loss ${fmt(f.circuit_loss)}, ${f.reached_target ? 'target reached' : 'target not reached'} on the flipped labels`);
          return f;
        });
        const controlSeconds = control ? (performance.now() - tc) / 1000 : undefined;
        const dir = o.out ? join(o.out, id) : join(modelDir(id), 'circuits');
        mkdirSync(dir, { recursive: true });
        const written = circuitFileSchema.parse({ ...file, ...(control ? { control } : {}), prune_config: { ...file.prune_config, eval_seconds: evalSeconds, minimality_seconds: outcome.minimalitySeconds, command: o.command } });
        writeFileSync(join(dir, `${name}.json`), JSON.stringify(written) + '\n');
        bar.done(
          `${written.edge_count} of ${written.total_edges} edges (bisection ${outcome.bisectK}, minimality removed ${outcome.minimalityRemoved ?? 'off'}), ` +
            `${written.nodes.length} nodes, test loss ${fmt(written.circuit_loss)} acc ${fmt(written.circuit_accuracy, 2)}, ` +
            `full ${fmt(written.full_model_loss)} / ${fmt(written.full_model_accuracy, 2)}, target ${written.reached_target ? 'reached' : 'not reached'} on held-back pairs, ` +
            `${fmt(outcome.seconds, 0)} s prune + ${fmt(evalSeconds, 0)} s eval` +
            (control ? `, control ${control.reached_target ? 'REACHED the target' : 'target not reached'} (loss ${fmt(control.circuit_loss)}, ${control.edge_count} edges, ${fmt(controlSeconds!, 0)} s)` : '') +
            ` -> ${join(dir, `${name}.json`)}`,
        );
      }
    } finally {
      model.dispose();
    }
  }
}
