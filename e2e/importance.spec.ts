import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';

/**
 * The importance list and the core view (docs/explorer.md, "Importance and the core view") on the shipped
 * sparse-py-2l's quote circuit, on wasm: the job runs with progress and can be cancelled; its top node is the CLI's
 * (`npm run prune -- --describe --importance`, computed here in Node by the same function); hovering an entry
 * highlights it in the graph and clicking inspects it; the core slider at 10 redraws the graph with those 10 nodes and
 * shows the core's task loss, which equals the whole forward pass's in Node for that node set; the size is in the link
 * (its round trip through links and session files: src/state/explorerSettings.test.ts).
 * DOCS_SCREENSHOTS=docs/img also writes the screenshots of docs/explorer.md.
 */
const MODEL = 'sparse-py-2l';
// A node-pruned shipped circuit (the quote circuit is pruned by edges; this spec checks node importance against the
// CLI's node ranking and a core made of nodes alone).
const TASK = 'enumerate_range';
const CORE = 10;

interface Oracle { ranking: [string, number][]; core: { nodes: string[]; loss: number; accuracy: number } }

/** The CLI ranking and the core's loss in Node (e2e/fixtures/importanceOracle.ts), started before the page loads. */
function oracle(): Promise<Oracle> {
  return promisify(execFile)('npx', ['tsx', 'e2e/fixtures/importanceOracle.ts', '--model', MODEL, '--task', TASK, '--core', String(CORE)], { maxBuffer: 2 ** 24 })
    .then(({ stdout }) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Oracle);
}

const drawnNodes = (page: Page) => page.locator('[data-testid=circuit-graph] g.node');

test('importance list, its top node as the CLI ranks it, and the core view of the 10 most important nodes', async ({ page }) => {
  test.setTimeout(900_000);
  const node = oracle();
  node.catch(() => {}); // awaited below; a failure then fails the test with its message
  await page.goto(`/?model=${MODEL}&task=${TASK}&pair=0&side=a&backend=wasm`);
  const shipped = (await (await page.request.get(`/models/${MODEL}/circuits/${TASK}.json`)).json()) as { nodes: unknown[]; granularity?: string };
  expect(shipped.granularity ?? 'nodes').toBe('nodes');
  const circuitNodes = shipped.nodes.length;
  await expect(drawnNodes(page)).toHaveCount(circuitNodes, { timeout: 120_000 });
  const panel = page.getByTestId('importance-panel');

  // The job reports progress and stops on Cancel; Rank again starts it anew.
  await panel.getByRole('button', { name: 'Rank nodes' }).click();
  const progress = panel.getByTestId('importance-progress');
  await expect(progress).toContainText(new RegExp(`node \\d+ of ${circuitNodes}`), { timeout: 120_000 });
  await progress.getByRole('button', { name: 'Cancel' }).click();
  await expect(panel.getByTestId('importance-error')).toContainText('ranking cancelled');
  await expect(progress).toHaveCount(0);
  await panel.getByRole('button', { name: 'Rank again' }).click();

  const list = panel.getByTestId('importance-list');
  await expect(list.locator('li').first()).toBeAttached({ timeout: 600_000 });
  const entries = await list.locator('li').evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-id')!, effect: Number(e.getAttribute('data-effect')) })));
  expect(entries).toHaveLength(circuitNodes);
  const cli = await node;
  expect(entries[0]!.id, 'the top node is the CLI\'s').toBe(cli.ranking[0]![0]);
  expect(entries[0]!.effect).toBeCloseTo(cli.ranking[0]![1], 4);
  expect(new Set(entries.slice(0, CORE).map((e) => e.id)), `the ${CORE} most important nodes are the CLI's`).toEqual(new Set(cli.core.nodes));

  // Default core of a circuit over 40 nodes: the smallest within 0.05 of its loss; the graph draws exactly those nodes.
  const size = Number(await panel.getByTestId('core-size').textContent());
  expect(size).toBeGreaterThanOrEqual(1);
  expect(size).toBeLessThan(circuitNodes);
  await expect(drawnNodes(page)).toHaveCount(size);
  if (process.env.DOCS_SCREENSHOTS) {
    mkdirSync(process.env.DOCS_SCREENSHOTS, { recursive: true });
    await panel.screenshot({ path: `${process.env.DOCS_SCREENSHOTS}/importance-list.png` });
  }

  // Hover highlights the entry in the graph; a click inspects it (the same selection as shift-click in the graph).
  const top = list.locator('li').first().getByRole('button');
  await top.hover();
  await expect(page.locator(`[data-testid=circuit-graph] g.node.hl[data-node="${entries[0]!.id}"]`)).toHaveCount(1);
  await top.click();
  await expect(page).toHaveURL(new RegExp(`[?&]node=${encodeURIComponent(entries[0]!.id).replace(/[.]/g, '\\.')}(&|$)`));

  // The core of the 10 most important nodes: the graph redraws with them, its loss equals the runtime's in Node.
  await panel.getByLabel('Core size').fill(String(CORE));
  await expect(panel.getByTestId('core-size')).toHaveText(String(CORE));
  await expect(drawnNodes(page)).toHaveCount(CORE);
  const drawn = await drawnNodes(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-node')!));
  expect(new Set(drawn)).toEqual(new Set(entries.slice(0, CORE).map((e) => e.id)));
  const metrics = panel.getByTestId('core-metrics');
  await expect(metrics).toHaveAttribute('data-n', String(CORE));
  await expect(metrics).toHaveAttribute('data-loss', /\d/, { timeout: 120_000 });
  expect(Math.abs(Number(await metrics.getAttribute('data-loss')) - cli.core.loss), 'core loss: page vs the runtime in Node').toBeLessThanOrEqual(1e-4);
  await expect(page).toHaveURL(new RegExp(`[?&]core=${CORE}(&|$)`));
  if (process.env.DOCS_SCREENSHOTS) await page.screenshot({ path: `${process.env.DOCS_SCREENSHOTS}/core-view.png` });

  // Per pair: the same nodes ranked by the loss change on the selected pair alone.
  await panel.getByLabel('pair 1').check();
  await expect(list).toHaveAttribute('data-scope', 'pair 0');
  const perPair = await list.locator('li').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-effect'))));
  expect(perPair).toHaveLength(circuitNodes);
  for (let i = 1; i < perPair.length; i++) expect(perPair[i - 1]!).toBeGreaterThanOrEqual(perPair[i]!);

});
