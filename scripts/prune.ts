/**
 * Node pruning CLI (docs/circuits.md): finds each task's circuit and writes public/models/<id>/circuits/<task>.json.
 *
 *   npm run prune -- --model <id> --task <task> [--task <task2> ...] | --all
 *                    [--backend wasm|cpu] [--steps 300] [--batch-pairs 16] [--lr 0.01] [--k-coef 1e-4]
 *                    [--target-loss 0.15] [--ablation mean|zero] [--seed 0] [--test-pairs 100]
 *                    [--validation-fraction 0.25] [--selection-z 1] [--sweep-k-coef 1e-3,3e-4]
 *                    --sweep-k-coef prunes once per value and keeps the smallest circuit that reached the target on
 *                    the held-back training pairs (else the lowest loss bound there); every run is in prune_config.sweep
 *                    [--no-minimality] [--control [--control-seed 1]] [--out <dir>]
 *                    --no-minimality keeps the bisection's top-k circuit (by default each kept node is then dropped,
 *                    lowest tau first, when the circuit still meets the target: minimality_removed in the file);
 *                    --control also prunes the same prompts with labels flipped at random by the seed and stores the
 *                    outcome as the file's `control`; --out writes <dir>/<id>/<task>.json instead of public/models/
 *                    [--weights sparse] [--layers <first>-<last>|<layer>]  --weights sparse holds the linear weights as
 *                    CSR (as the page does for models too large for dense ones); --layers gives mask parameters only to
 *                    the nodes of those layers (final_resid when the range ends at the last layer), every other node
 *                    is kept (the file's `layers`); both for node pruning only
 *                    [--granularity edges]  prunes edges instead of nodes (docs/circuits.md, "Pruning by edges"): one
 *                    mask per candidate edge, k_coef per edge (default 2e-3, 1e-4 on a dense model: more than half
 *                    of its weights nonzero); not with --sweep-k-coef
 *   npm run prune -- --control-only --model <id> --task <task> ... | --all [--control-seed 1] [--in <dir>]
 *                    adds the control to circuit files made without one, with each file's own settings (prune_config,
 *                    granularity); files that have a control are left alone; --in <dir> reads and writes
 *                    <dir>/<id>/<task>.json (as --out writes them) instead of the model's shipped circuits
 *   npm run prune -- --methods --model <id> --method <label>=<dir> [--method ...] [--write-docs]
 *                    one model's circuits by several methods (each folder as --out writes it): a row per task and
 *                    method, the best circuit per task, geometric-mean edges (docs/circuits.md, "Node or edge pruning")
 *   npm run prune -- --merge-sweep --model <target> --from <id> [--from <id> ...] --task <task> ... | --all
 *                    finishes a sweep whose runs were made by separate processes (one folder each): the same pick as
 *                    --sweep-k-coef; with one --from, copies the circuit files under the target's name
 *   npm run prune -- --compare --sparse <id> --dense <id> [--dense-from <dir>] [--sparse-from <dir>] [--dense-label <label>] [--write-docs]
 *                    --dense-from reads the dense model's circuits from <dir>/<dense>/<task>.json (as --out writes
 *                    them) instead of the shipped ones, --sparse-from the sparse model's from <dir>/<sparse>/; the
 *                    docs section is then keyed <dense>:<label>
 *   npm run prune -- --describe --model <id> --task <task> [--edges 4]
 *                    the circuit in words: nodes by site (with heads), what they respond to, strongest edges
 *                    per-task and geometric-mean edge ratios of the two models' circuits
 *
 * TF.js is imported only after a Node resolve hook is installed (scripts/lib/tfjsNodeHook.ts).
 */
import { explainBackendFailure } from './lib/backendFailure';
import { installTfjsNodeHook } from './lib/tfjsNodeHook';

installTfjsNodeHook();
const { main } = await import('./lib/pruneCli');
try {
  await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`\nprune: ${explainBackendFailure((e as Error).message)}\n`);
  process.exitCode = 1;
}
