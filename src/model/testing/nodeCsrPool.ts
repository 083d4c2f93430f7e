import { Worker } from 'node:worker_threads';
import { CsrPool } from '../csrPool';

/**
 * A CSR pool of `size` threads in Node: size - 1 worker_threads running csrPoolNodeWorker.ts (TypeScript through tsx's
 * loader), resolved once every worker has started. close() ends them.
 */
export async function nodeCsrPool(size: number): Promise<{ pool: CsrPool; close: () => Promise<void> }> {
  // A worker does not inherit the test runner's TypeScript loader: it registers tsx's, then imports the entry.
  const entry = new URL('./csrPoolNodeWorker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  const workers = Array.from({ length: size - 1 }, () => new Worker(boot, { eval: true }));
  await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
  })));
  return { pool: new CsrPool(workers), close: async () => { await Promise.all(workers.map((w) => w.terminate())); } };
}
