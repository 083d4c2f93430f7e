/**
 * One model's circuits for the same tasks made by several pruning methods (docs/circuits.md, "Node or edge
 * pruning"): a row per task and method, the best circuit per task (fewest edges among those that reached the target),
 * and the geometric mean of each method's edge count over the tasks where every method reached the target, and of
 * the best circuit's over the same tasks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { circuitFilePath } from './models';
import { circuitFileSchema, circuitGranularity, type CircuitFile } from '../../src/circuit/circuitSchema';

export interface MethodRuns {
  /** A method's name as the table prints it, and its circuit files by task. */
  label: string;
  files: Map<string, CircuitFile>;
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
export const geomean = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : NaN);

const reached = (c: CircuitFile | undefined): c is CircuitFile => c !== undefined && c.reached_target !== false;

function controlText(c: CircuitFile): string {
  const k = c.control;
  if (!k) return 'not run';
  return `${k.reached_target ? '**reached**' : 'not reached'}, ${f3(k.circuit_loss)} / ${f2(k.circuit_accuracy)}`;
}

/** The best circuit of a task: the fewest edges among the methods' circuits that reached the target. */
export function bestOf(task: string, methods: readonly MethodRuns[]): { label: string; file: CircuitFile } | null {
  let best: { label: string; file: CircuitFile } | null = null;
  for (const m of methods) {
    const f = m.files.get(task);
    if (reached(f) && (!best || f.edge_count < best.file.edge_count)) best = { label: m.label, file: f };
  }
  return best;
}

export interface MethodTable {
  markdown: string;
  /** Each method's geometric mean edges over `tasks`, the tasks every method reached. */
  geomeans: number[];
  bestGeomean: number;
  tasks: string[];
  /** The best circuit per task against the first method's, over `againstFirst.tasks`: the tasks the first method
   *  reached and at least one method of the other granularity (nodes against edges) did. A method that misses one
   *  task does not drop it from this comparison. */
  againstFirst: { tasks: string[]; first: number; best: number };
}

export function methodTable(modelId: string, methods: readonly MethodRuns[]): MethodTable {
  const tasks = [...new Set(methods.flatMap((m) => [...m.files.keys()]))].sort();
  const rows: string[] = [];
  for (const t of tasks) {
    const best = bestOf(t, methods);
    for (const m of methods) {
      const c = m.files.get(t);
      if (!c) continue;
      const e = c.edge_counts;
      const kinds = e ? `${e.weight} / ${e.residual} / ${e.qk}` : '?';
      const name = best?.label === m.label ? `**${m.label}**` : m.label;
      rows.push(
        `| ${t} | ${name} | ${c.nodes.length} | ${c.edge_count} (${kinds}) | ${f3(c.circuit_loss)} / ${f2(c.circuit_accuracy)} | ` +
          `${f3(c.full_model_loss)} / ${f2(c.full_model_accuracy)} | ${c.reached_target === false ? 'no' : 'yes'} | ${controlText(c)} | ${Math.round(c.prune_seconds)} |`,
      );
    }
  }
  // Tasks where every method reached the target: the geometric means compare like with like.
  const common = tasks.filter((t) => methods.every((m) => reached(m.files.get(t))));
  const geomeans = methods.map((m) => geomean(common.map((t) => m.files.get(t)!.edge_count)));
  const first = geomeans[0]!;
  // The best circuit of each of those tasks, whichever method made it: what a reader of the model is shown.
  const bestGeomean = geomean(common.map((t) => bestOf(t, methods)!.file.edge_count));
  const bestRow = methods.length > 1 ? [`| best of the ${methods.length} per task | ${f2(bestGeomean)} | ${f2(bestGeomean / first)} |`] : [];
  // The issue-level figure: node against edge pruning on every task where both granularities reached the target.
  // With several edge methods, one method's miss shrinks the common set above; this keeps the task whenever the first
  // method and at least one method of the other granularity reached it. The best circuit may come from any method.
  const firstGranularity = methodGranularity(methods[0]!);
  const otherGranularity = methods.slice(1).filter((m) => methodGranularity(m) !== firstGranularity);
  const againstTasks = tasks.filter((t) => reached(methods[0]!.files.get(t)) && otherGranularity.some((m) => reached(m.files.get(t))));
  const againstFirst = {
    tasks: againstTasks,
    first: geomean(againstTasks.map((t) => methods[0]!.files.get(t)!.edge_count)),
    best: geomean(againstTasks.map((t) => bestOf(t, methods)!.file.edge_count)),
  };
  const againstLines =
    otherGranularity.length > 0 && againstTasks.join() !== common.join()
      ? [
          '',
          `Over the ${againstTasks.length} tasks where ${methods[0]!.label} and at least one method pruning by ${methodGranularity(otherGranularity[0]!)} reached the target (${againstTasks.join(', ')}), ` +
            `the best circuit per task (any method) has ${f2(againstFirst.best)} edges in geometric mean against ${f2(againstFirst.first)}: ` +
            `${f2(againstFirst.best / againstFirst.first)} of ${methods[0]!.label}.`,
        ]
      : [];
  const md = [
    `Model \`${modelId}\`; test-pair loss / accuracy; the best circuit of each task (fewest edges among those that reached the target) in bold.`,
    '',
    '| task | method | nodes | edges (weight / residual / q·k) | circuit | full model | target reached | control (random labels): target, loss / acc | prune s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Geometric mean of edges over the ${common.length} tasks where every method reached the target (${common.join(', ')}):`,
    '',
    '| method | geometric mean edges | vs ' + methods[0]!.label + ' |',
    '|---|---|---|',
    ...methods.map((m, i) => `| ${m.label} | ${f2(geomeans[i]!)} | ${f2(geomeans[i]! / first)} |`),
    ...bestRow,
    ...againstLines,
  ].join('\n');
  return { markdown: md, geomeans, bestGeomean, tasks: common, againstFirst };
}

/** `<dir>/<modelId>/<task>.json` for every task that has one (the layout `npm run prune -- --out <dir>` writes). */
export function readMethodRuns(label: string, dir: string, modelId: string, tasks: readonly string[]): MethodRuns {
  const files = new Map<string, CircuitFile>();
  for (const t of tasks) {
    const p = circuitFilePath(modelId, t, dir);
    if (existsSync(p)) files.set(t, circuitFileSchema.parse(JSON.parse(readFileSync(p, 'utf8'))));
  }
  return { label, files };
}

/** The granularity a method's circuits have, for a caption ("nodes", "edges", or "mixed"). */
export function methodGranularity(m: MethodRuns): string {
  const g = new Set([...m.files.values()].map(circuitGranularity));
  return g.size === 1 ? [...g][0]! : 'mixed';
}

/** Replaces the section between `<!-- methods:start:<modelId> -->` and `<!-- methods:end:<modelId> -->` of a document. */
export function replaceMethodsSection(doc: string, modelId: string, markdown: string): string {
  const start = `<!-- methods:start:${modelId} -->`;
  const end = `<!-- methods:end:${modelId} -->`;
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`the document lacks the ${start} ... ${end} markers`);
  return doc.slice(0, a + start.length) + '\n' + markdown + '\n' + doc.slice(b);
}
