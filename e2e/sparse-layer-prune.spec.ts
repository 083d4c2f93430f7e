import { cancelPruneKeepsShipped } from './fixtures/pruneCancel';
import { expect, test } from './fixtures/test';

/**
 * "Find circuit" on a model whose linear weights are kept sparse (?weights=sparse, as for a model too large for dense
 * ones), limited to a layer range: the range input starts at the last layer for such a model, node pruning runs in
 * the worker with progress, and the found circuit holds only that layer's nodes (the other layers are kept whole, so
 * the graph draws nothing of them). Edge pruning says why it cannot run there; a run can be cancelled.
 */
const MODEL = 'sparse-py-2l';
const TASK = 'single_double_quote';
const STEPS = 4;

test('prune the last layer of a sparse-held model in the browser', async ({ page }) => {
  test.setTimeout(360_000);
  await page.goto(`/?model=${MODEL}&task=${TASK}&backend=wasm&weights=sparse&pruneSteps=${STEPS}`);
  await expect(page.getByRole('combobox', { name: 'Task', exact: true })).toHaveValue(TASK);
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
  await expect(page.getByTestId('model-info')).toContainText('pruning by edges needs dense weights');
  const layers = page.getByLabel('Pruning layers');
  await expect(layers).toHaveValue('1'); // sparse-py-2l has layers 0-1: the last one by default

  // Pruning by edges is refused on sparse weights, with the reason on the button.
  const find = page.getByRole('button', { name: 'Find circuit' });
  await page.getByLabel('Pruning granularity').selectOption('edges');
  await expect(find).toBeDisabled();
  await expect(find).toHaveAttribute('title', /^pruning by edges needs dense weights/);
  await page.getByLabel('Pruning granularity').selectOption('nodes');
  // A range outside the model is explained and blocks the run.
  await layers.fill('1-2');
  await expect(page.getByTestId('prune-layers-problem')).toHaveText('layer range 1-2 does not fit this model: layers are 0-1 (first <= last)');
  await expect(find).toBeDisabled();
  await layers.fill('1');
  await expect(find).toBeEnabled();

  await find.click();
  await expect(page.getByTestId('prune-progress')).toContainText(/optimising masks|bisecting k|minimality pass|calibrating|evaluating/);
  const found = page.getByTestId('found-circuit');
  await expect(found).toBeVisible({ timeout: 300_000 });
  await expect(found).toContainText('layers 1 only (other layers kept)');
  const m = /nodes (\d+)/.exec(await found.innerText());
  expect(m).not.toBeNull();
  const nodes = Number(m![1]);
  expect(nodes).toBeGreaterThan(0);
  // The graph draws the found circuit: layer-1 nodes (and final_resid, which the last layer's range includes) only.
  const drawn = page.getByTestId('circuit-graph').locator('g.node');
  await expect(drawn).toHaveCount(nodes);
  const ids = await drawn.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-node') ?? ''));
  expect(ids.filter((id) => !/^(1\.|final_resid:)/.test(id))).toEqual([]);
});

test('cancel a layer-range search on a sparse-held model', async ({ page }) => {
  await page.goto(`/?model=${MODEL}&task=${TASK}&backend=wasm&weights=sparse`);
  await cancelPruneKeepsShipped(page);
});
