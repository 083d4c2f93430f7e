import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { ablatableEdges, clickEdge } from './fixtures/graphEdges';
import { LARGE_CIRCUIT } from '../scripts/lib/largeCircuit.mjs';

/**
 * A circuit graph that scales (edges on a canvas) and the sparse-vs-dense compare view (docs/explorer.md, *Graph* and
 * *Compare view*), on the shipped sparse model and its dense twin.
 */
const SPARSE = 'sparse-py-2l';
const DENSE = 'dense-py-2l';
const TASK = 'single_double_quote';

interface Circuit { nodes: unknown[]; edges: { source: string; target: string; weight: number; kind: string }[]; circuit_loss_calibrated: number }
const circuitOf = async (page: Page, model: string) => (await (await page.request.get(`/models/${model}/circuits/${TASK}.json`)).json()) as Circuit;

test.use({ viewport: { width: 1500, height: 950 }, serviceWorkers: 'block' });

test('a node-pruned dense circuit of 67k edges draws every edge, an edge clicked on the canvas is ablated, and an export holds them all', async ({ page }) => {
  // The largest real circuit (scripts/lib/largeCircuit.mjs), served in place of the shipped file.
  expect([LARGE_CIRCUIT.model, LARGE_CIRCUIT.task]).toEqual([DENSE, TASK]);
  const body = readFileSync(LARGE_CIRCUIT.path, 'utf8');
  const circuit = JSON.parse(body) as Circuit;
  expect(circuit.edges.length).toBeGreaterThan(60_000);
  await page.route(`**/models/${DENSE}/circuits/${TASK}.json`, (r) => r.fulfill({ contentType: 'application/json', body }));
  await page.goto(`/?model=${DENSE}&task=${TASK}&backend=wasm`);
  const canvas = page.getByTestId('graph-edges');
  await expect(canvas).toHaveAttribute('data-edges-drawn', String(circuit.edges.length), { timeout: 120_000 });
  await expect(page.getByTestId('hidden-count')).toContainText(`${circuit.nodes.length} nodes, ${circuit.edges.length} of ${circuit.edges.length} edges shown`);
  await expect(page.locator('.zoom-hint').first()).toContainText('scroll to zoom');

  // Zooming redraws the canvas with the nodes' new places; every edge is still drawn.
  const graph = page.getByTestId('circuit-graph');
  const box = (await graph.boundingBox())!;
  const before = (await graph.locator('g.node').first().boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -400);
  await expect.poll(async () => (await graph.locator('g.node').first().boundingBox())!.width).toBeGreaterThan(before.width * 1.5);
  await expect(canvas).toHaveAttribute('data-edges-drawn', String(circuit.edges.length));
  await page.getByRole('button', { name: 'Fit' }).click();

  // A click on the canvas ablates the edge under the pointer: the one its tooltip named.
  const edge = await clickEdge(page, ablatableEdges(circuit));
  const [source, target] = edge.split('>');
  await expect(page.getByTestId('intervention')).toHaveCount(1);
  await expect(page.getByTestId('intervention')).toContainText(`edge ${source} → ${target}`);
  // Marked over the canvas as ablated (dashed in the panel colour).
  await expect(graph.locator(`path.edge.ablated[data-edge="${edge}"]`)).toHaveAttribute('data-ablated', 'true');
  await expect.poll(() => decodeURIComponent(page.url())).toContain(`iv=e~${source}~${target}~`);
  // Clicking it again restores it.
  await clickEdge(page, [edge]);
  await expect(page.getByTestId('intervention')).toHaveCount(0);
  await expect(graph.locator('path.edge.ablated')).toHaveCount(0);

  // The exported SVG carries every drawn edge as path data (one "M" per edge), under the nodes.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export SVG' }).click();
  const svg = readFileSync((await (await download).path())!, 'utf8');
  const edgesGroup = /<g class="edges"[^>]*>(.*?)<\/g>/s.exec(svg)?.[1] ?? '';
  expect((edgesGroup.match(/M/g) ?? []).length).toBe(circuit.edges.length);
  expect(svg.indexOf('class="edges"')).toBeLessThan(svg.indexOf('class="nodes"'));
});

test('a small circuit\'s labels are readable at the default zoom', async ({ page }) => {
  const circuit = await circuitOf(page, SPARSE);
  expect(circuit.nodes.length).toBeLessThanOrEqual(150);
  await page.goto(`/?model=${SPARSE}&task=${TASK}&backend=wasm`);
  await expect(page.getByTestId('graph-edges')).toHaveAttribute('data-edges-drawn', String(circuit.edges.length), { timeout: 120_000 });
  const label = page.getByTestId('circuit-graph').locator('g.node text.label').first();
  expect((await label.boundingBox())!.height, 'label height in px').toBeGreaterThanOrEqual(9);
});

test('the compare view shows both models on one task, survives a reload, swaps and turns off', async ({ page }) => {
  test.setTimeout(300_000);
  const [sparse, dense] = [await circuitOf(page, SPARSE), await circuitOf(page, DENSE)];
  await page.goto(`/?model=${SPARSE}&task=${TASK}&pair=3&side=a&backend=wasm`);
  await expect(page.getByTestId('graph-edges')).toHaveAttribute('data-edges-drawn', String(sparse.edges.length), { timeout: 120_000 });
  await page.getByRole('combobox', { name: 'Compare with model' }).selectOption(DENSE);

  const view = page.getByTestId('compare-view');
  const row = (model: string) => view.locator(`tr[data-model="${model}"]`);
  await expect(row(SPARSE)).toHaveAttribute('data-nodes', String(sparse.nodes.length));
  await expect(row(SPARSE)).toHaveAttribute('data-edges', String(sparse.edges.length));
  await expect(row(DENSE)).toHaveAttribute('data-nodes', String(dense.nodes.length), { timeout: 120_000 });
  await expect(row(DENSE)).toHaveAttribute('data-edges', String(dense.edges.length));
  await expect(row(DENSE)).toContainText(dense.edges.length.toLocaleString('en-US'));
  const ratio = (dense.edges.length / sparse.edges.length).toFixed(0);
  await expect(page.getByTestId('compare-headline')).toHaveText(new RegExp(`circuit has [\\d.]+× the nodes and ${ratio}× the edges of .*for the same task`));
  // Each side's graph draws all of its circuit's edges.
  await expect(page.getByTestId('compare-edges-loaded')).toHaveAttribute('data-edges-drawn', String(sparse.edges.length));
  await expect(page.getByTestId('compare-edges-other')).toHaveAttribute('data-edges-drawn', String(dense.edges.length));
  // Both circuits' task loss, computed in the page (the second model in an engine of its own), is the one pruning
  // reported in the circuit file (calibrated, over the same test pairs).
  const circuitLoss = async (model: string) => Number(await row(model).locator('td').nth(3).getAttribute('data-loss'));
  await expect.poll(() => circuitLoss(DENSE), { timeout: 180_000 }).toBeGreaterThan(0);
  await expect.poll(() => circuitLoss(SPARSE), { timeout: 180_000 }).toBeGreaterThan(0);
  expect(await circuitLoss(DENSE)).toBeCloseTo(dense.circuit_loss_calibrated, 3);
  expect(await circuitLoss(SPARSE)).toBeCloseTo(sparse.circuit_loss_calibrated, 3);
  await page.mouse.move(1, 1);
  await page.screenshot({ path: test.info().outputPath('compare-view.png') });

  // The link carries the view; a reload comes back to it.
  await expect(page).toHaveURL(new RegExp(`compare=${DENSE}`));
  await page.reload();
  await expect(row(DENSE)).toHaveAttribute('data-edges', String(dense.edges.length), { timeout: 120_000 });

  // Swap: the dense twin becomes the loaded model, compared with the sparse one; task and pair stay.
  await page.getByRole('button', { name: 'Swap' }).click();
  await expect(page.getByRole('combobox', { name: 'Shipped model' })).toHaveValue(DENSE, { timeout: 120_000 });
  await expect(page.getByRole('combobox', { name: 'Compare with model' })).toHaveValue(SPARSE);
  await expect(page).toHaveURL(new RegExp(`model=${DENSE}.*task=${TASK}&pair=3&side=a`));
  await expect(row(DENSE)).toHaveAttribute('data-edges', String(dense.edges.length));

  // Off: the explorer's own graph is back, and the link no longer names a second model.
  await page.getByRole('combobox', { name: 'Compare with model' }).selectOption('');
  await expect(view).toHaveCount(0);
  await expect(page.getByTestId('graph-edges')).toHaveAttribute('data-edges-drawn', String(dense.edges.length));
  await expect(page).not.toHaveURL(/compare=/);
});
