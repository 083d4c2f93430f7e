/**
 * Where a large model's forward pass spends its time, in Node on TF.js's wasm backend with the weights as CSR (as the
 * page holds csp_bridges2-size models), and what the worker pool (src/model/csrPool.ts: the sparse products and
 * AbsTopK) buys over one thread. Prints JSON.
 *
 *   npm run profile-forward -- [--model _bridges2] [--runs 7] [--threads 2]
 *
 * forward: medians of one-thread and pooled runs taken alternately (one, pool, one, pool, ...), so that a noisy machine
 * loads both alike. kernels: TF.js's per-kernel times (tf.profile) of one run each way, summed by kernel name; the
 * host-side JS (the sparse products and AbsTopK) shows as "unnamed scope", the custom ops it runs in. The model folder must exist (scripts/make-bridges2-model.py writes _bridges2 and _yolo2).
 */
import { installTfjsNodeHook } from './lib/tfjsNodeHook';

installTfjsNodeHook();
const { tf } = await import('../src/model/tfjs');
const { parseArgs, numberArg } = await import('./lib/args');
const { useBackend } = await import('../src/model/testing/nodeBackends');
const { nodeCsrPool } = await import('../src/model/testing/nodeCsrPool');
const { setCsrPool } = await import('../src/model/csrPool');
const { loadModelFolder, mapSource } = await import('../src/model/checkpoint');
const { SparseGpt } = await import('../src/model/forward');
const { folderFiles, modelDir } = await import('./lib/models');
const { parseSafetensors, toInt32 } = await import('../src/model/checkpoint/safetensors');
const { readFileSync } = await import('node:fs');
const { join } = await import('node:path');
const { cpus } = await import('node:os');

const args = parseArgs(process.argv.slice(2), ['model', 'runs', 'threads'], []);
const id = args.values.get('model')?.at(-1) ?? '_bridges2';
const runs = numberArg(args, 'runs', 7);
const threads = numberArg(args, 'threads', cpus().length);

await useBackend('wasm');
tf.env().set('IS_TEST', false); // no per-kernel leak checks: they would be timed too
const { checkpoint } = await loadModelFolder(mapSource(folderFiles(id), id), { representation: 'sparse' });
const model = new SparseGpt(checkpoint, { sparseKernel: 'csr' });
const golden = parseSafetensors(new Uint8Array(readFileSync(join(modelDir(id), 'golden.safetensors'))), 'golden.safetensors');
const tokens = [...toInt32(golden.tensors.get('p0.tokens')!)];
const { pool, close } = await nodeCsrPool(threads);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

async function timed(): Promise<number> {
  const t = performance.now();
  await model.run(tokens);
  return performance.now() - t;
}

async function kernels(): Promise<Record<string, number>> {
  const prof = await tf.profile(async () => { await model.run(tokens); });
  const by = new Map<string, number>();
  for (const k of prof.kernels) by.set(k.name, (by.get(k.name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0));
  return Object.fromEntries([...by.entries()].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms >= 0.5).map(([k, ms]) => [k, Math.round(ms * 10) / 10]));
}

try {
  const one: number[] = [];
  const all: number[] = [];
  for (const p of [null, pool]) { setCsrPool(p); await model.run(tokens); } // warm-up both ways
  for (let r = 0; r < runs; r++) {
    setCsrPool(null);
    one.push(await timed());
    setCsrPool(pool);
    all.push(await timed());
  }
  setCsrPool(null);
  const kernelsOne = await kernels();
  setCsrPool(pool);
  const kernelsAll = await kernels();
  setCsrPool(null);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  console.log(JSON.stringify({
    model: id, tokens: tokens.length, backend: 'wasm', weights: 'sparse (csr)', threads, runs,
    forward: { oneThreadMs: one.map(r1), allThreadsMs: all.map(r1), oneThreadMsMedian: r1(median(one)), allThreadsMsMedian: r1(median(all)), ratioOneToAll: Math.round((median(one) / median(all)) * 100) / 100 },
    kernels: { oneThread: kernelsOne, allThreads: kernelsAll },
    poolDisabled: pool.disabledReason,
  }, null, 2));
} finally {
  model.dispose();
  await close();
}
