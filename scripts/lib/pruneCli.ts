import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { npmCommandLine } from './commandLine';
import { join } from 'node:path';
import { buildCircuitFile, circuitNodeIds } from '../../src/circuit/circuitFile';
import { circuitFileSchema, type CircuitFile } from '../../src/circuit/circuitSchema';
import { installFastMatMulGrad } from '../../src/circuit/fastMatMulGrad';
import { DEFAULT_PRUNE_CONFIG, pruneTask, type PruneConfig, type PruneOutcome, type PruneProgress } from '../../src/circuit/prune';
import { pickSweepRun, type SweepRun } from '../../src/circuit/sweep';
import { DEFAULT_CONTROL_SEED, runControl } from '../../src/circuit/control';
import { findCircuit } from '../../src/circuit/findCircuit';
import { pruneSummaryLine } from './pruneSummary';
import { pruneByEdges } from './edgePruneCli';
import { addControls } from './controlOnly';
import { loadModelFolder, mapSource } from '../../src/model/checkpoint';
import { SparseGpt } from '../../src/model/forward';
import { useBackend } from '../../src/model/testing/nodeBackends';
import { tf } from '../../src/model/tfjs';
import { numberArg, parseArgs, type ParsedArgs } from './args';
import { compareCircuitSets, readOutCircuits, readShippedCircuits, writeResultsToDocs } from './compare';
import { fmt } from './format';
import { circuitFilePath, folderFiles, modelDir, readTask, ROOT } from './models';
import { methodTable, readMethodRuns, replaceMethodsSection } from './methodTable';
import { ProgressBar } from './progressBar';
import { describeCircuit } from './describeCircuit';
import { mergeSweepRuns, sweepEntry } from './mergeSweep';
import { parseConfig } from '../../src/model/config';
import { parseLayerRange } from '../../src/model/layerRange';
import { parseSnippets, SNIPPETS_FILE } from '../../src/state/snippets';
import { BpeTokenizer } from '../../src/tokenizer/bpe';
import { computeImportance, targetPrompts } from '../../src/worker/importance';
import { TaskEvaluator } from '../../src/worker/stagedTaskEval';

const VALUED = ['edges', 'model', 'task', 'backend', 'steps', 'batch-pairs', 'lr', 'k-coef', 'target-loss', 'ablation', 'seed', 'test-pairs', 'sparse', 'dense', 'temperature', 'warmup-frac', 'validation-fraction', 'selection-z', 'sweep-k-coef', 'from', 'control-seed', 'out', 'granularity', 'method', 'weights', 'layers', 'dense-from', 'dense-label', 'sparse-from', 'in'];
const BOOLEAN = ['all', 'compare', 'describe', 'importance', 'write-docs', 'merge-sweep', 'help', 'no-minimality', 'control', 'control-only', 'methods'];

function pruneConfig(args: ParsedArgs): PruneConfig {
  const ablation = args.values.get('ablation')?.at(-1) ?? 'mean';
  if (ablation !== 'mean' && ablation !== 'zero') throw new Error('--ablation must be mean or zero');
  return {
    ...DEFAULT_PRUNE_CONFIG,
    steps: numberArg(args, 'steps', DEFAULT_PRUNE_CONFIG.steps),
    batchPairs: numberArg(args, 'batch-pairs', DEFAULT_PRUNE_CONFIG.batchPairs),
    lr: numberArg(args, 'lr', DEFAULT_PRUNE_CONFIG.lr),
    kCoef: numberArg(args, 'k-coef', DEFAULT_PRUNE_CONFIG.kCoef),
    targetLoss: numberArg(args, 'target-loss', DEFAULT_PRUNE_CONFIG.targetLoss),
    temperature: numberArg(args, 'temperature', DEFAULT_PRUNE_CONFIG.temperature),
    warmupFrac: numberArg(args, 'warmup-frac', DEFAULT_PRUNE_CONFIG.warmupFrac),
    seed: numberArg(args, 'seed', 0),
    maskFill: ablation,
    validationFraction: numberArg(args, 'validation-fraction', DEFAULT_PRUNE_CONFIG.validationFraction),
    selectionZ: numberArg(args, 'selection-z', DEFAULT_PRUNE_CONFIG.selectionZ),
    bisectPrompts: 256,
    minimality: !args.flags.has('no-minimality'),
  };
}

function taskNames(id: string, args: ParsedArgs): string[] {
  const dir = join(modelDir(id), 'tasks');
  const available = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];
  if (args.flags.has('all')) {
    if (available.length === 0) throw new Error(`${dir} has no task files (run npm run make-tasks first)`);
    return available;
  }
  const asked = args.values.get('task') ?? [];
  if (asked.length === 0) throw new Error('pass --task <task> (repeatable) or --all');
  for (const t of asked) if (!available.includes(t)) throw new Error(`no task "${t}" for ${id} (have: ${available.join(', ') || 'none'})`);
  return asked;
}

/** A shipped circuit file, or null when the task has none. */
function readCircuit(id: string, task: string): CircuitFile | null {
  const path = circuitFilePath(id, task);
  return existsSync(path) ? circuitFileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))) : null;
}

/** A shipped circuit in words (describeCircuit), with the folder's snippets when it has them. */
function describeShipped(id: string, circuit: CircuitFile, edgesPerNode: number, importance?: Map<string, number>): string {
  const dir = modelDir(id);
  const config = parseConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  const tokenizer = BpeTokenizer.fromDataGym(readFileSync(join(dir, 'tokenizer/encoder.json'), 'utf8'), readFileSync(join(dir, 'tokenizer/vocab.bpe'), 'utf8'));
  const snippetsPath = join(dir, SNIPPETS_FILE);
  const snippets = existsSync(snippetsPath) ? parseSnippets(new Uint8Array(readFileSync(snippetsPath)), config) : null;
  return describeCircuit(circuit, { config, snippets, tokenString: (t) => tokenizer.tokenString(t), edgesPerNode, importance });
}

/**
 * For every node of a shipped circuit: the test-pair loss of the circuit with that node also ablated, minus the
 * circuit's own (uncalibrated, the circuit file's ablation mode). Large = the circuit relies on the node. The same
 * computation as the explorer's importance list (src/worker/importance.ts), on the CLI's test pairs.
 */
export async function nodeImportance(model: SparseGpt, id: string, circuit: CircuitFile, quiet = false): Promise<Map<string, number>> {
  const taskFile = readTask(id, circuit.task);
  const prompts = targetPrompts(taskFile.test.slice(0, 100));
  const evaluator = new TaskEvaluator(model);
  const bar = quiet ? null : new ProgressBar(`${id}/${circuit.task} node importance`);
  try {
    const r = await computeImportance(
      async (variants, signal, keep) => (await evaluator.evaluate(prompts, variants, () => {}, signal, keep)).variants,
      { task: circuit.task, prompts, nodes: circuitNodeIds(circuit), edges: [], mode: circuit.ablation, core: false },
      (p) => bar?.update(p.done, p.total, ''), new AbortController().signal,
    );
    bar?.done(`base loss ${fmt(r.circuit.loss)}`);
    // In the circuit file's node order: describeCircuit ranks them itself.
    const effect = new Map(r.nodes.map((n) => [n.id, n.effect]));
    return new Map(circuitNodeIds(circuit).map((n) => [n, effect.get(n)!]));
  } finally {
    evaluator.dispose();
  }
}

/** --describe [--importance]: each asked circuit in words; the model is loaded once per id, only for --importance. */
async function describeCircuits(ids: string[], args: ParsedArgs): Promise<void> {
  const withImportance = args.flags.has('importance');
  if (withImportance) {
    await useBackend('wasm');
    tf.env().set('IS_TEST', false);
  }
  for (const id of ids) {
    const model = withImportance ? new SparseGpt((await loadModelFolder(mapSource(folderFiles(id), id))).checkpoint) : null;
    try {
      for (const name of taskNames(id, args)) {
        const circuit = readCircuit(id, name);
        if (!circuit) {
          process.stdout.write(`${id}/${name}: no circuit file (run npm run prune -- --model ${id} --task ${name})\n\n`);
          continue;
        }
        const importance = model ? await nodeImportance(model, id, circuit) : undefined;
        process.stdout.write(describeShipped(id, circuit, numberArg(args, 'edges', 4), importance) + '\n\n');
      }
    } finally {
      model?.dispose();
    }
  }
}

/** --merge-sweep --model <target> --from <id> [--from <id> ...] --task <task> ...: see mergeSweep.ts. */
function mergeSweeps(ids: string[], args: ParsedArgs): void {
  const sources = args.values.get('from') ?? [];
  if (ids.length !== 1 || sources.length === 0) throw new Error('--merge-sweep needs one --model <target> and at least one --from <id>');
  const target = ids[0]!;
  for (const name of taskNames(target, args)) {
    const files = sources.map((id) => {
      const c = readCircuit(id, name);
      if (!c) throw new Error(`--merge-sweep: ${id} has no circuit for ${name}`);
      return c;
    });
    const merged = mergeSweepRuns(files, target);
    const out = join(modelDir(target), 'circuits');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `${name}.json`), JSON.stringify(circuitFileSchema.parse(merged)) + '\n');
    process.stdout.write(`${target}/${name}: k ${merged.k} (k_coef ${String(merged.prune_config?.kCoef)}) from ${sources.join(' + ')}\n`);
  }
}

/** --methods --model <id> --method <label>=<dir> ... [--write-docs]: methodTable.ts over circuits written with --out. */
function compareMethods(ids: string[], args: ParsedArgs): void {
  const specs = args.values.get('method') ?? [];
  if (ids.length !== 1 || specs.length === 0) throw new Error('--methods needs one --model <id> and at least one --method <label>=<dir>');
  const id = ids[0]!;
  const tasks = taskNames(id, { ...args, flags: new Set([...args.flags, 'all']) });
  const methods = specs.map((s) => {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`--method "${s}": expected <label>=<dir>`);
    return readMethodRuns(s.slice(0, eq), s.slice(eq + 1), id, tasks);
  });
  const { markdown } = methodTable(id, methods);
  process.stdout.write(markdown + '\n');
  if (args.flags.has('write-docs')) {
    const path = join(ROOT, 'docs/circuits.md');
    writeFileSync(path, replaceMethodsSection(readFileSync(path, 'utf8'), id, markdown));
  }
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, VALUED, BOOLEAN);
  if (args.flags.has('help')) {
    process.stdout.write('see the header of scripts/prune.ts\n');
    return;
  }
  if (args.flags.has('compare')) {
    const sparse = args.values.get('sparse')?.at(-1);
    const dense = args.values.get('dense')?.at(-1);
    if (!sparse || !dense) throw new Error('--compare needs --sparse <id> and --dense <id>');
    // --dense-from / --sparse-from <dir>: that model's circuits from a folder as --out writes it (e.g. edge-pruned
    // runs, or the same method on both sides), not the shipped ones; the docs section is keyed <dense>:<--dense-label>.
    const denseFrom = args.values.get('dense-from')?.at(-1);
    const sparseFrom = args.values.get('sparse-from')?.at(-1);
    const label = args.values.get('dense-label')?.at(-1);
    const fromFolders = denseFrom !== undefined || sparseFrom !== undefined;
    if (fromFolders && args.flags.has('write-docs') && !label) throw new Error('--dense-from or --sparse-from with --write-docs needs --dense-label <label> (its section in docs/circuits.md)');
    const table = compareCircuitSets(sparse, dense,
      sparseFrom ? readOutCircuits(sparseFrom, sparse) : readShippedCircuits(sparse),
      denseFrom ? readOutCircuits(denseFrom, dense) : readShippedCircuits(dense));
    process.stdout.write(table.markdown + '\n');
    if (args.flags.has('write-docs')) writeResultsToDocs(table.markdown, fromFolders ? `${dense}:${label}` : dense);
    return;
  }
  const ids = args.values.get('model') ?? [];
  if (ids.length === 0) throw new Error('pass --model <id>');
  if (args.flags.has('describe')) {
    await describeCircuits(ids, args);
    return;
  }
  if (args.flags.has('methods')) {
    compareMethods(ids, args);
    return;
  }
  if (args.flags.has('merge-sweep')) {
    mergeSweeps(ids, args);
    return;
  }
  const backend = (args.values.get('backend')?.at(-1) ?? 'wasm') as 'wasm' | 'cpu';
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error('--backend must be wasm or cpu');
  await useBackend(backend);
  tf.env().set('IS_TEST', false); // no per-kernel leak checks: they cost time in long runs
  installFastMatMulGrad();
  const cfg = pruneConfig(args);
  const sweepArg = args.values.get('sweep-k-coef')?.at(-1);
  const sweep = sweepArg?.split(',').map((x) => {
    const v = Number(x);
    if (!(v >= 0) || x.trim() === '') throw new Error(`--sweep-k-coef: "${x}" is not a non-negative number`);
    return v;
  });
  const testPairs = numberArg(args, 'test-pairs', 100);
  const controlSeed = args.flags.has('control') ? numberArg(args, 'control-seed', DEFAULT_CONTROL_SEED) : null;
  if (args.flags.has('control-only')) {
    await addControls({ ids, taskNamesOf: (id) => taskNames(id, args), backend, seed: numberArg(args, 'control-seed', DEFAULT_CONTROL_SEED), dir: args.values.get('in')?.at(-1) });
    return;
  }
  const outArg = args.values.get('out')?.at(-1);
  const command = npmCommandLine('prune', argv);
  const granularity = args.values.get('granularity')?.at(-1) ?? 'nodes';
  if (granularity !== 'nodes' && granularity !== 'edges') throw new Error(`--granularity must be nodes or edges, got "${granularity}"`);
  // --weights sparse: linear weights kept as CSR, as the page holds a model too large for dense ones (node pruning only).
  const representation = args.values.get('weights')?.at(-1) ?? 'dense';
  if (representation !== 'dense' && representation !== 'sparse') throw new Error(`--weights must be dense or sparse, got "${representation}"`);
  const layersArg = args.values.get('layers')?.at(-1) ?? 'all';
  if (granularity === 'edges') {
    if (sweep) throw new Error('--granularity edges does not take --sweep-k-coef');
    if (representation === 'sparse') throw new Error('--granularity edges needs dense weights: not with --weights sparse');
    if (layersArg !== 'all') throw new Error('--layers limits node pruning only: not with --granularity edges');
    // Without --k-coef each model gets the method's default for it (defaultKCoef: lower on a dense model).
    const kCoef = args.values.has('k-coef') ? numberArg(args, 'k-coef', Number.NaN) : undefined;
    await pruneByEdges({ ids, taskNamesOf: (id) => taskNames(id, args), config: cfg, kCoef, backend, testPairs, out: outArg, controlSeed, command });
    return;
  }

  for (const id of ids) {
    const { checkpoint } = await loadModelFolder(mapSource(folderFiles(id), id), { representation });
    const model = new SparseGpt(checkpoint);
    const layers = parseLayerRange(layersArg, checkpoint.config);
    try {
      for (const name of taskNames(id, args)) {
        const task = readTask(id, name, testPairs);
        const bar = new ProgressBar(`${id}/${name}`);
        const hooks = {
          onProgress: (p: { phase: string; done: number; total: number; loss?: number; kept?: number }) =>
            bar.update(p.done, p.total, `${p.phase}${p.loss !== undefined ? ` loss ${fmt(p.loss)}` : ''}${p.kept !== undefined ? ` k ${p.kept}` : ''}`),
        };
        // One pruning run per k_coef of the sweep (just --k-coef without one); the kept run is chosen on training data.
        const runs: (SweepRun<PruneConfig> & { outcome: PruneOutcome })[] = [];
        for (const kCoef of sweep ?? [cfg.kCoef]) {
          const config = { ...cfg, kCoef, layers };
          runs.push({ config, outcome: await pruneTask(model, task, config, hooks) });
          if (sweep) bar.done(`k_coef ${kCoef}: k ${runs.at(-1)!.outcome.k}, held-back loss bound ${fmt(runs.at(-1)!.outcome.trainLossBound)}`);
        }
        const { outcome, config: chosenCfg } = pickSweepRun(runs);
        bar.update(0, 1, 'evaluating on test pairs');
        const t0 = performance.now();
        const file: CircuitFile = await buildCircuitFile(model, checkpoint, task, outcome, { modelId: id, backend, config: chosenCfg }, hooks);
        const evalSeconds = (performance.now() - t0) / 1000;
        const sweepRecord = sweep ? { sweep: runs.map((r) => sweepEntry(r.config.kCoef, r.outcome)) } : {};
        // The control: the chosen run's settings on the same prompts with randomly flipped labels (control.ts).
        const tc = performance.now();
        const control = controlSeed === null ? undefined : await runControl(task, controlSeed, async (flipped) => {
          const controlBar = new ProgressBar(`${id}/${name} control`);
          const controlHooks = { onProgress: (p: PruneProgress) => controlBar.update(p.done, p.total, `${p.phase}${p.kept !== undefined ? ` k ${p.kept}` : ''}`) };
          const f = await findCircuit('nodes', model, flipped, { modelId: id, backend, config: chosenCfg }, controlHooks);
          controlBar.done(`k ${f.k}, test loss ${fmt(f.circuit_loss)}, ${f.reached_target ? 'target reached' : 'target not reached'} on the flipped labels`);
          return f;
        });
        const controlSeconds = control ? (performance.now() - tc) / 1000 : undefined;
        const out = outArg ? join(outArg, id) : join(modelDir(id), 'circuits');
        mkdirSync(out, { recursive: true });
        const written = circuitFileSchema.parse({
          ...file, ...(control ? { control } : {}),
          prune_config: { ...file.prune_config, eval_seconds: evalSeconds, minimality_seconds: outcome.minimalitySeconds, ...sweepRecord, command },
        });
        writeFileSync(join(out, `${name}.json`), JSON.stringify(written) + '\n');
        bar.done(pruneSummaryLine(written, { prune: outcome.seconds, eval: evalSeconds, control: controlSeconds }));
      }
    } finally {
      model.dispose();
    }
  }
}
