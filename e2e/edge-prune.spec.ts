import { cancelPruneKeepsShipped } from './fixtures/pruneCancel';
import { expect, test } from './fixtures/test';

/**
 * "Find circuit" by edges (docs/circuits.md, "Pruning by edges"): edge pruning of the loaded model on the current
 * task's training pairs, in the engine worker, with progress and Cancel. On sparse-py-2l's quote task
 * with 20 steps and no minimality pass (its cost grows with the kept edges, which a few steps leave many of): the
 * found circuit is labelled as pruned by edges, the graph draws its nodes and only its kept edges, and "restrict to
 * circuit" runs it as the runtime's edge circuit, so the page's circuit loss is the file's (computed the same way).
 */
const MODEL = 'sparse-py-2l';
const TASK = 'single_double_quote';
/** Enough steps for the masks to drop most edges (a handful leaves every edge kept, and the circuit is the model).
 *  PRUNE_STEPS=300 PRUNE_MINIMALITY=1 runs the whole method as the CLI does (its wall time is then printed). */
const STEPS = Number(process.env.PRUNE_STEPS ?? 20);
const MINIMALITY = process.env.PRUNE_MINIMALITY === '1';

test('find a circuit by edges in the browser', async ({ page }) => {
  test.setTimeout(600_000 + STEPS * 10_000 + (MINIMALITY ? 1_800_000 : 0));
  await page.goto(`/?model=${MODEL}&task=${TASK}&backend=wasm&pruneSteps=${STEPS}`);
  await expect(page.getByRole('combobox', { name: 'Task', exact: true })).toHaveValue(TASK);
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
  await page.getByLabel('Pruning granularity').selectOption('edges');
  if (!MINIMALITY) await page.getByLabel('minimality pass').uncheck();
  // The size penalty offered is the shipped quote circuit's (pruned by edges at 2e-3); a typed one is what runs. The
  // whole-method run keeps the offered value, so that its wall time is the CLI default's.
  const kCoefField = page.getByLabel('Pruning k_coef');
  await expect(kCoefField).toHaveValue('0.002');
  const kCoef = MINIMALITY ? '0.002' : '0.0025';
  await kCoefField.fill(kCoef);

  const t0 = Date.now();
  await page.getByRole('button', { name: 'Find circuit' }).click();
  await expect(page.getByRole('progressbar', { name: 'Pruning progress' })).toBeVisible();
  await expect(page.getByTestId('prune-progress')).toContainText(/optimising masks .*\(\d+\/\d+\)|bisecting k|calibrating|evaluating/);

  const found = page.getByTestId('found-circuit');
  await expect(found).toBeVisible({ timeout: 540_000 + STEPS * 10_000 + (MINIMALITY ? 1_800_000 : 0) });
  const seconds = (Date.now() - t0) / 1000;
  test.info().annotations.push({ type: 'browser-edge-prune', description: `${MODEL}/${TASK}: ${STEPS} steps${MINIMALITY ? ' and the minimality pass' : ''} in ${seconds.toFixed(1)} s` });
  const text = await found.innerText();
  console.log(`browser edge pruning ${MODEL}/${TASK}, ${STEPS} steps${MINIMALITY ? ' and the minimality pass' : ''}: ${seconds.toFixed(1)} s (shown: ${text})`);
  expect(text).toContain('pruned by edges');
  expect(text).toContain(`k_coef ${kCoef}`);
  const m = /k (\d+) · nodes (\d+) · edges (\d+) · loss ([\d.]+)/.exec(text);
  expect(m, text).not.toBeNull();
  const [k, nodes, edges] = [Number(m![1]), Number(m![2]), Number(m![3])];
  expect(edges).toBeLessThan(26_112); // fewer than every candidate edge of the model
  // An edge circuit's k is its number of kept edges, and those are the edges it has.
  expect(edges).toBe(k);
  expect(nodes).toBeGreaterThan(0);
  await expect(page.getByTestId('circuit-graph').locator('g.node')).toHaveCount(nodes);
  await expect(page.getByRole('region', { name: 'Circuit graph' }).locator('h2')).toContainText(`${nodes} nodes · ${edges} edges`);

  // The circuit's task metrics come from the explorer's own evaluation of "restrict to circuit" (node restriction plus
  // the edge ablations); uncalibrated they are the file's test loss, which the worker computed the same way.
  // The row first shows the shipped circuit's figures (also an edge circuit): wait for the found circuit's.
  const circuitRow = page.locator('[data-testid=task-metrics] [data-variant=circuit]');
  const fileLoss = Number(await page.getByTestId('circuit-file-metrics').getAttribute('data-circuit-loss'));
  await expect.poll(async () => Number(await circuitRow.getAttribute('data-uncalibrated-loss')), { timeout: 120_000 }).toBeCloseTo(fileLoss, 3);
});

test('cancel a running search by edges', async ({ page }) => {
  await page.goto(`/?model=${MODEL}&task=${TASK}&backend=wasm`);
  await cancelPruneKeepsShipped(page, { setUp: () => page.getByLabel('Pruning granularity').selectOption('edges').then(() => {}), cancelTimeout: 60_000 });
});

test('the size penalty offered follows the shipped circuit of the task and granularity', async ({ page }) => {
  // set_or_string ships a node circuit found at k_coef 3e-4; by edges there is none, so the edge default (2e-3) shows.
  await page.goto(`/?model=${MODEL}&task=set_or_string&backend=wasm`);
  await expect(page.getByRole('combobox', { name: 'Task', exact: true })).toHaveValue('set_or_string');
  const kCoefField = page.getByLabel('Pruning k_coef');
  await expect(kCoefField).toHaveValue('0.0003');
  await page.getByLabel('Pruning granularity').selectOption('edges');
  await expect(kCoefField).toHaveValue('0.002');
  // A value that is not a positive number is named, and Find circuit waits for a usable one.
  await kCoefField.fill('-1');
  await expect(page.getByTestId('prune-kcoef-problem')).toContainText('k_coef must be a number above 0 (got "-1")');
  await expect(page.getByRole('button', { name: 'Find circuit' })).toBeDisabled();
  await kCoefField.fill('1e-4');
  await expect(page.getByTestId('prune-kcoef-problem')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Find circuit' })).toBeEnabled();
  // Back to nodes: the typed value belonged to edges, and the node suggestion returns.
  await page.getByLabel('Pruning granularity').selectOption('nodes');
  await expect(kCoefField).toHaveValue('0.0003');

  // The dense twin ships a node circuit for this task: by edges it is offered the dense-model default, 1e-4.
  await page.getByRole('combobox', { name: 'Shipped model' }).selectOption('dense-py-2l');
  await expect(page.getByTestId('model-info')).toContainText('dense-py-2l', { timeout: 120_000 });
  await expect(page.getByRole('combobox', { name: 'Task', exact: true })).toHaveValue('set_or_string');
  await expect(kCoefField).toHaveValue('0.001');
  await page.getByLabel('Pruning granularity').selectOption('edges');
  await expect(kCoefField).toHaveValue('0.0001');
});
