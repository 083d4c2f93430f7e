import { cancelPruneKeepsShipped } from './fixtures/pruneCancel';
import { expect, test } from './fixtures/test';

/**
 * "Find circuit": node pruning of the loaded model on the current task's training pairs, run in the engine worker.
 * On sparse-py-2l and its quote task, with few steps (?pruneSteps=): progress shows, the page stays
 * responsive, the found circuit replaces the shipped one (labelled, with its k / nodes / edges / loss) until the
 * user goes back; and a run can be cancelled.
 */
const MODEL = 'sparse-py-2l';
const TASK = 'single_double_quote';
/** Steps of the first test's run: few by default (CI); PRUNE_STEPS=150 measures a full-length run's wall time. */
const STEPS = Number(process.env.PRUNE_STEPS ?? 10);

test('find a circuit in the browser and go back to the shipped one', async ({ page }) => {
  test.setTimeout(360_000 + STEPS * 6_000); // 10 steps plus the test-pair evaluation take about a minute on two CPU cores
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/?model=${MODEL}&task=${TASK}&backend=wasm&pruneSteps=${STEPS}`);
  await expect(page.getByRole('combobox', { name: 'Task', exact: true })).toHaveValue(TASK);
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
  const shippedNodes = await page.getByTestId('circuit-graph').locator('g.node').count();
  await expect(page.getByLabel('Pruning steps')).toHaveValue(String(STEPS));

  const t0 = Date.now();
  await page.getByRole('button', { name: 'Find circuit' }).click();
  const progress = page.getByRole('progressbar', { name: 'Pruning progress' });
  await expect(progress).toBeVisible();
  await expect(page.getByTestId('prune-progress')).toContainText(/optimising masks|bisecting k|calibrating|evaluating/);
  // The page stays responsive while the worker prunes.
  const tick = await page.evaluate(() => new Promise<number>((r) => { const s = performance.now(); setTimeout(() => r(performance.now() - s), 0); }));
  expect(tick).toBeLessThan(1000);

  const found = page.getByTestId('found-circuit');
  await expect(found).toBeVisible({ timeout: 300_000 + STEPS * 6_000 });
  const seconds = (Date.now() - t0) / 1000;
  test.info().annotations.push({ type: 'browser-prune', description: `${MODEL}/${TASK}: ${STEPS} steps in ${seconds.toFixed(1)} s` });
  console.log(`browser pruning ${MODEL}/${TASK}, ${STEPS} steps: ${seconds.toFixed(1)} s (shown: ${await found.innerText()})`);
  await expect(found).toContainText('found in this browser');
  const text = await found.innerText();
  const m = /k (\d+) · nodes (\d+) · edges (\d+) · loss ([\d.]+)/.exec(text);
  expect(m, text).not.toBeNull();
  const nodes = Number(m![2]);
  expect(nodes).toBeGreaterThan(0);
  await expect(progress).toHaveCount(0);
  // The graph now draws the found circuit.
  await expect(page.getByTestId('circuit-graph').locator('g.node')).toHaveCount(nodes);

  await page.getByRole('button', { name: 'Back to shipped circuit' }).click();
  await expect(found).toHaveCount(0);
  await expect(page.getByTestId('circuit-graph').locator('g.node')).toHaveCount(shippedNodes);
  expect(errors).toEqual([]);
});

test('cancel a running search', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/?model=${MODEL}&task=${TASK}&backend=wasm`);
  await cancelPruneKeepsShipped(page);
  expect(errors).toEqual([]);
});
