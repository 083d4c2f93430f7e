import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';

/**
 * How a pruning run came out, on the page: a circuit that missed its target says so in words, the minimality pass's
 * removals and the control on random labels are shown beside the circuit's metrics. The circuit files are the shipped
 * quote circuit of sparse-py-2l with those fields set (served in place of the shipped file), then a circuit
 * found in this browser with the control switched on.
 */
const MODEL = 'sparse-py-2l';
const TASK = 'single_double_quote';
const CIRCUIT_URL = `**/models/${MODEL}/circuits/${TASK}.json`;

// The service worker would answer the circuit file itself, out of reach of page.route.
test.use({ serviceWorkers: 'block' });

/** Serves the shipped circuit file with `edit` applied; returns the file as served. */
async function serveEdited(page: Page, edit: (c: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown>> {
  const shipped = (await (await page.request.get(`/models/${MODEL}/circuits/${TASK}.json`)).json()) as Record<string, unknown>;
  const served = edit(shipped);
  await page.route(CIRCUIT_URL, (r) => r.fulfill({ contentType: 'application/json', body: JSON.stringify(served) }));
  return served;
}

async function open(page: Page): Promise<void> {
  await page.goto(`/?model=${MODEL}&task=${TASK}&backend=wasm`);
  await expect(page.getByRole('combobox', { name: 'Task', exact: true })).toHaveValue(TASK);
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
}

test('a circuit file with a control and a minimality count shows both beside the circuit', async ({ page }) => {
  const control = {
    label_rule: 'random flip, p=0.5', seed: 1, flipped_pairs: 247, granularity: 'nodes', reached_target: false,
    train_circuit_loss_bound: 0.705, circuit_loss: 0.7204, circuit_accuracy: 0.515, full_model_loss: 0.93, full_model_accuracy: 0.49,
    node_count: 35, edge_count: 40, minimality_removed: 0, prune_seconds: 230,
  };
  const served = await serveEdited(page, (c) => ({ ...c, minimality_removed: 41, control }));
  await open(page);
  // The shipped quote circuit is pruned by edges: the pass counts what the circuit is made of.
  const byEdges = served.granularity === 'edges';
  const kept = byEdges ? (served.edges as unknown[]).length : (served.nodes as unknown[]).length;
  await expect(page.getByTestId('circuit-control')).toHaveText(
    'control with random labels: target not reached, loss 0.720, accuracy 52%, 35 nodes, 40 edges (247 pairs flipped, seed 1)',
  );
  await expect(page.getByTestId('circuit-control')).toHaveAttribute('data-reached-target', 'false');
  await expect(page.getByTestId('circuit-minimality')).toHaveText(`minimality pass removed 41 of ${kept + 41} ${byEdges ? 'edges' : 'nodes'}`);
  // The loss-at-k curve is over what the circuit was pruned by.
  await expect(page.locator('figure.loss-at-k figcaption')).toContainText(`task loss vs ${byEdges ? 'edges' : 'nodes'} kept`);
  // This circuit reached its target: no warning.
  expect(served.reached_target).toBe(true);
  await expect(page.getByTestId('circuit-missed-target')).toHaveCount(0);
  // A control that reached the target too is flagged as such.
  await page.unroute(CIRCUIT_URL);
  await serveEdited(page, (c) => ({ ...c, control: { ...control, reached_target: true, circuit_loss: 0.12, circuit_accuracy: 0.97 } }));
  await open(page);
  await expect(page.getByTestId('circuit-control')).toContainText('control with random labels: target reached, loss 0.120, accuracy 97%');
  await expect(page.getByTestId('circuit-control')).toContainText('may reflect the labels more than the model');
});

test('a circuit that missed its target says so in words', async ({ page }) => {
  // Without a control (the shipped file has one): the missed target is the only outcome shown.
  await serveEdited(page, ({ control: _control, ...c }) => ({ ...c, reached_target: false, train_circuit_loss_bound: 0.2134 }));
  await open(page);
  await expect(page.getByTestId('circuit-missed-target')).toHaveText(
    'target not reached: its loss bound on the held-back training pairs is 0.213, above the target 0.150. ' +
      'This is the best circuit pruning found, not one that does the task to the target.',
  );
  await expect(page.getByTestId('circuit-control')).toHaveCount(0);
});

test('find circuit in the browser with the control: the found circuit shows its control and its missed target', async ({ page }) => {
  test.setTimeout(900_000); // two short pruning runs and their test-pair evaluations on two busy CPU cores
  await page.goto(`/?model=${MODEL}&task=${TASK}&backend=wasm&pruneSteps=10`);
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'minimality pass' })).toBeChecked();
  await page.getByRole('checkbox', { name: 'control' }).check();
  await page.getByRole('button', { name: 'Find circuit' }).click();
  await expect(page.getByTestId('prune-progress')).toContainText(/control \(random labels\): optimising masks/, { timeout: 600_000 });
  const found = page.getByTestId('found-circuit');
  await expect(found).toBeVisible({ timeout: 600_000 });
  // Ten steps from tau ~ N(0.1, 0.01) at lr 0.01 cannot take a mask below 0: every node is still kept, and the full
  // model's quote loss (about 0.5) is above the target, so this circuit missed it, and the minimality pass (which only
  // shrinks circuits that meet the target) removed nothing.
  await expect(found).toContainText('nodes 2944');
  await expect(page.getByTestId('circuit-missed-target')).toContainText(/^target not reached: its loss bound on the held-back training pairs is \d\.\d{3}, above the target 0\.150\./);
  await expect(page.getByTestId('circuit-minimality')).toHaveText('minimality pass removed 0 of 2944 nodes');
  await expect(page.getByTestId('circuit-control')).toHaveText(
    /^control with random labels: target not reached, loss \d\.\d{3}, accuracy \d+%, 2944 nodes, \d+ edges \(\d+ pairs flipped, seed 1\)$/,
  );
});
