import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';

/**
 * Keyboard and small screens (docs/explorer.md, Interaction). On the shipped default model (EXPLORER_MODEL pins
 * another): from the task menu to an ablated edge with the keyboard alone, every key press counted; and a 900 px
 * wide window that never scrolls sideways and keeps the graph usable.
 */
async function defaultModel(page: Page): Promise<string> {
  if (process.env.EXPLORER_MODEL) return process.env.EXPLORER_MODEL;
  const index = (await (await page.request.get('/models/index.json')).json()) as { models: { id: string; default?: boolean }[] };
  return (index.models.find((m) => m.default) ?? index.models[0])!.id;
}

const graphFrame = (page: Page) => page.getByRole('group', { name: /^Circuit graph/ });

test('keyboard only: from the task menu to an ablated edge in under 30 key presses', async ({ page }) => {
  const model = await defaultModel(page);
  await page.goto(`/?model=${model}`);
  const picker = page.getByRole('combobox', { name: 'Task', exact: true });
  await expect(picker).not.toHaveValue('');
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
  await expect(page.getByTestId('intervention')).toHaveCount(0);

  let presses = 0;
  const press = async (key: string) => {
    presses++;
    await page.keyboard.press(key);
  };
  // The starting point: the task menu has the focus (as after clicking it, or tabbing to it).
  await picker.focus();
  const first = await picker.inputValue();
  if ((await picker.locator('option').count()) > 1) {
    await press('ArrowDown'); // a closed <select> takes arrow keys: the next task
    await expect(picker).not.toHaveValue(first);
  }
  const task = await picker.inputValue();
  await expect(page.getByRole('heading', { name: new RegExp(`^Circuit · ${task} ·`) })).toBeVisible();

  // Tab to the graph: the pair list and the prompt's tokens are one Tab stop each.
  const inGraph = () => graphFrame(page).evaluate((el) => el === document.activeElement);
  while (!(await inGraph())) {
    expect(presses, 'Tab presses to reach the graph').toBeLessThan(26);
    await press('Tab');
  }
  const tabs = presses;

  // E puts the cursor on a node and steps through its edges, ablatable weights first; Enter toggles the edge. The
  // graph's accessible name says so.
  await expect(graphFrame(page)).toHaveAccessibleName(/E and Shift\+E step through the node's edges.*Enter toggles the ablation of the node or edge/);
  const edge = page.locator('path.edge.kbd');
  await press('e');
  while ((await edge.getAttribute('data-ablatable')) !== 'true') {
    expect(presses).toBeLessThan(28);
    await press('ArrowRight');
    await press('e');
  }
  const id = (await edge.getAttribute('data-edge'))!;
  const [source, target] = id.split('>');
  await expect(page.locator('.graph-status')).toContainText(`${source} → ${target}`);
  await press('Enter');
  const item = page.getByTestId('intervention');
  await expect(item).toHaveCount(1);
  await expect(item).toContainText(`edge ${source} → ${target}`);
  await expect(edge).toHaveAttribute('data-ablated', 'true');
  expect(presses).toBeLessThan(30);
  test.info().annotations.push({ type: 'key presses', description: `${presses} (${tabs} to reach the graph), edge ${id}` });

  // Enter again toggles it back; Esc leaves the edge, then the node.
  await page.keyboard.press('Enter');
  await expect(item).toHaveCount(0);
  await page.keyboard.press('Escape');
  await expect(edge).toHaveCount(0);
});

test.describe('a 900 px wide window', () => {
  test.use({ viewport: { width: 900, height: 800 } });

  test('never scrolls sideways, keeps the graph usable, and the pair list is one Tab stop', async ({ page }) => {
    const model = await defaultModel(page);
    await page.goto(`/?model=${model}`);
    const picker = page.getByRole('combobox', { name: 'Task', exact: true });
    await expect(picker).not.toHaveValue('');
    const nodes = page.getByTestId('circuit-graph').locator('g.node');
    await expect(nodes.first()).toBeVisible();
    // Fill the detail panels too: a node inspected (edge tables, heatmaps) must not widen the page either.
    await nodes.first().click({ modifiers: ['Shift'] });
    await expect(page.getByTestId('node-detail')).toHaveAttribute('data-node', /./);
    await expect(page.getByTestId('target-logits')).toBeVisible();

    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(widths.scroll, 'horizontal scroll at 900 px').toBeLessThanOrEqual(widths.client);
    const box = (await graphFrame(page).boundingBox())!;
    expect(box.width, 'graph width').toBeGreaterThanOrEqual(450);
    expect(box.height, 'graph height').toBeGreaterThanOrEqual(400);
    expect(box.x + box.width).toBeLessThanOrEqual(900);

    // The pair list: a/b headers, one Tab stop, arrow keys inside, Enter picks.
    const list = page.getByTestId('pair-list');
    await expect(list.locator('.pair-head')).toHaveText('#ab');
    const stops = await list.locator('button[tabindex="0"]').count();
    expect(stops).toBe(1);
    await list.locator('button[tabindex="0"]').focus();
    await page.keyboard.press('Home');
    await expect(page.getByTestId('pair-0a')).toBeFocused();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    await expect(page.getByTestId('pair-1b')).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('pair-1b')).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByLabel('Prompt text')).toHaveValue((await page.getByTestId('pair-1b').getAttribute('title'))!);
    await page.keyboard.press('Tab');
    await expect(page.getByLabel('Prompt text')).toBeFocused(); // out of the list in one press
    // The shown prompt ends carry the marked difference from the other prompt of the pair.
    await expect(page.getByTestId('pair-1b').locator('mark.pair-diff').first()).toBeVisible();
    // The tab shows the app's own icon, from our origin (no external request, no 404 for /favicon.ico).
    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    const res = await page.request.get(icon!);
    expect(res.ok()).toBe(true);
    expect(res.headers()['content-type']).toContain('image/svg+xml');
    await page.mouse.move(1, 1);
    await page.screenshot({ path: test.info().outputPath('900px.png'), fullPage: true });
  });
});
