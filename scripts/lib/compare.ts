/** Sparse vs dense circuit sizes: per-task edge ratios and their geometric mean (docs/circuits.md). */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { circuitFileSchema, circuitGranularity, type CircuitFile } from '../../src/circuit/circuitSchema';
import { modelDir, ROOT } from './models';

/** A model's shipped circuits (public/models/<id>/circuits/), by task. */
export function readShippedCircuits(id: string): Map<string, CircuitFile> {
  return readCircuitDir(join(modelDir(id), 'circuits'));
}

/** A model's circuits in a folder as `npm run prune -- --out <dir>` writes them (<dir>/<id>/<task>.json), by task. */
export function readOutCircuits(dir: string, id: string): Map<string, CircuitFile> {
  const at = join(dir, id);
  if (!existsSync(at)) throw new Error(`no circuits of ${id} in ${dir} (expected ${at}/<task>.json)`);
  return readCircuitDir(at);
}

function readCircuitDir(dir: string): Map<string, CircuitFile> {
  const out = new Map<string, CircuitFile>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const c = circuitFileSchema.parse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    out.set(c.task, c);
  }
  return out;
}

const geomean = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : NaN);
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');

export interface Comparison {
  markdown: string;
  ratios: { task: string; all: number; weight: number; capable: boolean }[];
}

/** "ablation: mean", or which side used which mode when they differ (a zero-ablation circuit is marked in its row). */
export function ablationCaption(sparse: readonly CircuitFile[], dense: readonly CircuitFile[]): string {
  const modes = (cs: readonly CircuitFile[]) => [...new Set(cs.map((c) => c.ablation))].sort();
  const all = modes([...sparse, ...dense]);
  if (all.length === 1) return `ablation: ${all[0]}`;
  const side = (name: string, cs: readonly CircuitFile[]) =>
    `${name} ${modes(cs).map((m) => `${m} on ${cs.filter((c) => c.ablation === m).length}`).join(', ')}`;
  return `ablation (tasks per mode): ${side('sparse', sparse)}; ${side('dense', dense)}`;
}

/** The comparison of two models' circuits, task by task (tasks pruned on both). */
export function compareCircuitSets(sparseId: string, denseId: string, sparse: Map<string, CircuitFile>, dense: Map<string, CircuitFile>): Comparison {
  const tasks = [...sparse.keys()].filter((t) => dense.has(t)).sort();
  const rows: string[] = [];
  const ratios: Comparison['ratios'] = [];
  const line = (m: string, c: CircuitFile) =>
    `| ${c.task} | ${m} | ${circuitGranularity(c)}${c.ablation === 'zero' ? ', zero ablation' : ''} | ${c.nodes.length} / ${c.total_nodes ?? '?'} | ${c.edge_count} | ${c.edge_counts?.weight ?? '?'} | ${f3(c.full_model_loss)} / ${f2(c.full_model_accuracy)} | ` +
    `${f3(c.circuit_loss)} / ${f2(c.circuit_accuracy)} | ${f3(c.ablated_loss)} / ${f2(c.ablated_accuracy)} | ${c.reached_target === false ? 'no' : 'yes'} | ${Math.round(c.prune_seconds)} |`;
  for (const t of tasks) {
    const s = sparse.get(t)!;
    const d = dense.get(t)!;
    rows.push(line('sparse', s), line('dense', d));
    const both = s.reached_target !== false && d.reached_target !== false;
    if (both) {
      ratios.push({
        task: t,
        capable: s.full_model_accuracy >= CAPABLE && d.full_model_accuracy >= CAPABLE,
        all: d.edge_count / Math.max(1, s.edge_count),
        weight: (d.edge_counts?.weight ?? d.edge_count) / Math.max(1, s.edge_counts?.weight ?? s.edge_count),
      });
    }
  }
  const first = sparse.get(tasks[0] ?? '');
  const md = [
    `Models: sparse \`${sparseId}\`, dense \`${denseId}\`; ${ablationCaption(tasks.map((t) => sparse.get(t)!), tasks.map((t) => dense.get(t)!))}; target loss ${first?.target_loss ?? 0.15} on the held-back training pairs` +
      (typeof first?.prune_config?.selectionZ === 'number' ? ` (mean + ${first.prune_config.selectionZ} standard error).` : '.'),
    'Losses and accuracies are on the held-out test pairs (loss / accuracy).',
    '',
    '| task | model | pruned by | nodes / of | edges | weight edges | full model | circuit | circuit ablated | target reached | prune s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Edge ratios over the tasks where both circuits reached the target; "capable" marks tasks where both full models reach test accuracy >= ${CAPABLE}.`,
    '',
    '| task | dense / sparse edges (all kinds) | dense / sparse weight edges | both models capable |',
    '|---|---|---|---|',
    ...ratios.map((r) => `| ${r.task} | ${f2(r.all)} | ${f2(r.weight)} | ${r.capable ? 'yes' : 'no'} |`),
    `| **geometric mean** (${ratios.length} tasks) | **${f2(geomean(ratios.map((r) => r.all)))}** | **${f2(geomean(ratios.map((r) => r.weight)))}** | |`,
    `| **geometric mean, capable tasks** (${ratios.filter((r) => r.capable).length}) | **${f2(geomean(ratios.filter((r) => r.capable).map((r) => r.all)))}** | **${f2(geomean(ratios.filter((r) => r.capable).map((r) => r.weight)))}** | |`,
  ].join('\n');
  return { markdown: md, ratios };
}

/** Full-model test accuracy from which a model counts as doing the task at all. Below it, pruning can still reach
 *  the target (mean ablation itself can implement the task), so such circuits say little about the model. */
export const CAPABLE = 0.7;

/**
 * Replaces a results section of docs/circuits.md: the one between `<!-- results:start:<denseId> -->` and
 * `<!-- results:end:<denseId> -->` when the document has those markers (one section per dense model compared),
 * else the one between `<!-- results:start -->` and `<!-- results:end -->`.
 */
export function writeResultsToDocs(markdown: string, denseId?: string): void {
  const path = join(ROOT, 'docs/circuits.md');
  const doc = readFileSync(path, 'utf8');
  const keyed = denseId !== undefined && doc.includes(`<!-- results:start:${denseId} -->`);
  const start = keyed ? `<!-- results:start:${denseId} -->` : '<!-- results:start -->';
  const end = keyed ? `<!-- results:end:${denseId} -->` : '<!-- results:end -->';
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${path} lacks the ${start} ... ${end} markers`);
  writeFileSync(path, doc.slice(0, a + start.length) + '\n' + markdown + '\n' + doc.slice(b));
}
