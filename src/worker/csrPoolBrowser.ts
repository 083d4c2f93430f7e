import { CsrPool, csrPoolSupport, currentPoolEnv, setCsrPool, type CsrPoolSupport } from '../model/csrPool';

/** How long the pool's workers may take to start before the kernel stays on one thread. */
const START_LIMIT_MS = 20_000;

export interface StartedCsrPool extends CsrPoolSupport {
  pool: CsrPool | null;
}

/**
 * Starts the CSR worker pool in this worker (navigator.hardwareConcurrency threads: this one and cores - 1 workers)
 * and makes it the 'csr' kernel's (setCsrPool). Where the page is not cross-origin isolated, or the workers fail to
 * start, the kernel stays on one thread and the answer says why; it never throws. `threads` caps the size (the bench
 * compares one thread with all of them).
 */
export async function startBrowserCsrPool(threads?: number): Promise<StartedCsrPool> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const support = csrPoolSupport(currentPoolEnv(threads ?? nav?.hardwareConcurrency ?? 1));
  if (support.threads <= 1) {
    setCsrPool(null);
    return { ...support, pool: null };
  }
  const workers = Array.from({ length: support.threads - 1 }, () => new Worker(new URL('./csrPool.worker.ts', import.meta.url), { type: 'module', name: 'csr-pool' }));
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not start within ${START_LIMIT_MS / 1000} s`)), START_LIMIT_MS);
      w.onmessage = () => { clearTimeout(timer); w.onmessage = null; resolve(); };
      w.onerror = (e) => { clearTimeout(timer); reject(new Error(e.message || 'failed to load')); };
    })));
  } catch (e) {
    for (const w of workers) w.terminate();
    setCsrPool(null);
    return { threads: 1, reason: `sparse kernel on one thread: its pool workers ${(e as Error).message}`, pool: null };
  }
  const pool = new CsrPool(workers);
  setCsrPool(pool);
  return { ...support, pool };
}
