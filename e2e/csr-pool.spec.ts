import { expect, test } from './fixtures/test';
import { BRIDGES2_ID, ensureBridges2 } from './fixtures/bridges2';

/**
 * The sparse 'csr' kernel on every core: the preview server makes the pages cross-origin isolated (COOP + COEP,
 * vite.config.ts), so the large-model bench's worker starts a CSR worker pool (src/model/csrPool.ts) of
 * navigator.hardwareConcurrency threads. The csp_bridges2-sized model, kept sparse on wasm, must then still match its
 * float64 reference, on one thread and on all, and the explorer's incremental toggles (src/worker/promptRunCache.ts)
 * must give the logits of a whole forward pass, starting at the stage they change.
 */
interface Stage { fromStage: number | null; oneThreadMsMedian: number; allThreadsMsMedian?: number; ratioOneToAll?: number }
interface PoolRun {
  representation: string;
  kernel: string;
  plan: string;
  crossOriginIsolated: boolean;
  csrThreads: number;
  csrThreadsReason: string | null;
  logitsRelDiff: number;
  sitesMaxRelDiff: number;
  incrementalToggleRelDiff: number;
  byThreads: { forward: Stage; lastLayerToggle: Stage; firstLayerToggle: Stage };
}

test.setTimeout(20 * 60_000);

test('the csp_bridges2-sized model runs on a CSR worker pool of every core and matches its reference', async ({ page }) => {
  ensureBridges2();
  await page.goto(`/bench.html?big=${BRIDGES2_ID}&backend=wasm&weights=sparse&kernel=csr&runs=1`);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, undefined, { timeout: 15 * 60_000, polling: 1000 });
  const r = await page.evaluate(() => (window as unknown as { __bench: PoolRun }).__bench);
  expect(r.representation).toBe('sparse');
  expect(r.kernel).toBe('csr');
  expect(r.crossOriginIsolated).toBe(true);
  expect(r.csrThreadsReason).toBeNull();
  expect(r.csrThreads).toBe(cores);
  expect(r.csrThreads).toBeGreaterThan(1);
  // The reference comparison runs with the pool on (all threads).
  expect(r.logitsRelDiff).toBeLessThan(1e-3);
  expect(r.sitesMaxRelDiff).toBeLessThan(1e-3);
  expect(r.incrementalToggleRelDiff).toBeLessThan(1e-4);
  // A last-layer MLP node reruns from that MLP (stage 2 * 3 + 1 of 4 layers); a first-layer attention node from stage 0.
  expect(r.byThreads.lastLayerToggle.fromStage).toBe(7);
  expect(r.byThreads.firstLayerToggle.fromStage).toBe(0);
  for (const s of Object.values(r.byThreads)) {
    expect(s.oneThreadMsMedian).toBeGreaterThan(0);
    expect(s.allThreadsMsMedian).toBeGreaterThan(0);
    expect(s.ratioOneToAll).toBeCloseTo(s.oneThreadMsMedian / s.allThreadsMsMedian!, 9);
  }
});
