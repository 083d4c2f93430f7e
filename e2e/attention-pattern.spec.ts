import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';

/**
 * The node panel's attention grid for a q/k/v node on the default model's quote task: its axes name the prompt's
 * tokens as the prompt panel shows them, and hovering a cell (or moving the keyboard cursor to it) reads out the two
 * tokens and the weight, which is checked against the same layer's attention computed outside the page's engine
 * (harness.html: the model loaded on the main thread, the prompt run on its own).
 */

interface TaskPrompt { text: string; tokens: number[] }
interface Circuit { nodes: { site: string; channel: number }[] }

const TASK = 'single_double_quote';
const TOLERANCE = 1e-6;

async function defaultModel(page: Page): Promise<{ id: string; dHead: number }> {
  const index = (await (await page.request.get('/models/index.json')).json()) as { models: { id: string; default?: boolean }[] };
  const id = (index.models.find((m) => m.default) ?? index.models[0]!).id;
  const config = (await (await page.request.get(`/models/${id}/config.json`)).json()) as { d_head: number };
  return { id, dHead: config.d_head };
}

/** Waits until what the page shows was computed for the state its controls show, with nothing in flight. */
async function settled(page: Page): Promise<void> {
  await expect(async () => {
    const sig = await page.getByTestId('intervention-list').getAttribute('data-state');
    expect(await page.getByTestId('target-logits').getAttribute('data-for')).toBe(sig);
    expect(await page.getByTestId('target-logits').getAttribute('aria-busy')).toBe('false');
  }).toPass({ timeout: 90_000 });
}

test('the attention grid names the prompt tokens on both axes and reads out each cell\'s weight', async ({ page, context }, info) => {
  const model = await defaultModel(page);
  const circuit = (await (await page.request.get(`/models/${model.id}/circuits/${TASK}.json`)).json()) as Circuit;
  const file = (await (await page.request.get(`/models/${model.id}/tasks/${TASK}.json`)).json()) as { test: { a: TaskPrompt }[] };
  const prompt = file.test[0]!.a;
  const ref = circuit.nodes.find((n) => /\.attn\.[qkv]$/.test(n.site))!;
  const node = `${ref.site}:${ref.channel}`;
  const layer = Number(ref.site.split('.')[0]);
  const head = Math.floor(ref.channel / model.dHead);

  await page.goto('/');
  const picker = page.getByRole('combobox', { name: 'Task', exact: true });
  await expect(picker.locator(`option[value="${TASK}"]`)).toHaveCount(1);
  await picker.selectOption(TASK);
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
  await expect(page.getByLabel('Prompt text')).toHaveValue(prompt.text); // the task opens on its first pair
  // The full model's view: "current" then has no interventions, the state the check below computes.
  await page.getByRole('radio', { name: 'full model' }).check();
  await page.locator(`g.node[data-node="${node}"]`).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('node-detail')).toHaveAttribute('data-node', node);
  await settled(page);

  const pattern = page.getByTestId('attention-pattern');
  await expect(pattern.getByRole('heading')).toContainText(`layer ${layer} head ${head} attention`);
  const grid = pattern.getByTestId('attention-grid');
  await expect(grid).toHaveAttribute('data-tokens', String(prompt.tokens.length));
  const T = prompt.tokens.length;
  const cell = Number(await grid.getAttribute('data-cell'));
  const stride = Number(await grid.getAttribute('data-stride'));

  // Both axes name the prompt's tokens exactly as the prompt panel shows them: every one, or every stride-th where
  // the cells are too small for a line of text each (labels no closer than 12px).
  const chips = await page.getByTestId('tokens').locator('button').allTextContents();
  expect(chips).toHaveLength(T);
  expect(stride).toBe(Math.max(1, Math.ceil(12 / cell)));
  const named = chips.map((text, i) => ({ i: String(i), text })).filter((_, i) => i % stride === 0);
  for (const axis of ['query', 'key']) {
    const labels = pattern.getByTestId(`attention-${axis}-labels`).locator('.attn-label');
    expect(await labels.allTextContents()).toEqual(named.map((n) => n.text));
    expect(await labels.evaluateAll((els) => els.map((e) => e.getAttribute('data-index')))).toEqual(named.map((n) => n.i));
  }

  // The same layer computed outside the page's engine, on the same backend.
  const backend = /backend: (\w+)/.exec(await page.getByTestId('backend').innerText())![1]!;
  const harness = await context.newPage();
  await harness.goto('/harness.html');
  await expect(harness.locator('#out')).toHaveText('ready');
  const att = await harness.evaluate(
    ([base, b, tokens, l]) => (window as unknown as { runtimeChecks: { attentionPattern: (...a: unknown[]) => Promise<number[]> } }).runtimeChecks.attentionPattern(base, b, tokens, l, []),
    [`/models/${model.id}/`, backend, prompt.tokens, layer] as const,
  );
  await harness.close();
  expect(att.length % (T * T)).toBe(0); // [H, T, T]
  expect(att.length / (T * T)).toBeGreaterThan(head);
  const expected = (q: number, k: number) => att[(head * T + q) * T + k]!;

  const readout = pattern.getByTestId('attention-readout');
  /** The readout names cell (q, k) and its weight, which matches the independent computation. */
  const readsOut = async (q: number, k: number) => {
    await expect(readout).toBeVisible();
    await expect(readout).toHaveAttribute('data-query', String(q));
    await expect(readout).toHaveAttribute('data-key', String(k));
    const weight = Number(await readout.getAttribute('data-weight'));
    expect(Math.abs(weight - expected(q, k))).toBeLessThanOrEqual(TOLERANCE);
    await expect(readout).toHaveText(`query token ${q} '${chips[q]}' → key token ${k} '${chips[k]}': weight ${weight.toFixed(3)}`);
    // Its row and column are highlighted on the axes where they are named.
    const hot = (axis: string) => pattern.locator(`.attn-label.hot[data-axis="${axis}"]`);
    if (q % stride === 0) await expect(hot('query')).toHaveAttribute('data-index', String(q));
    else await expect(hot('query')).toHaveCount(0);
    if (k % stride === 0) await expect(hot('key')).toHaveAttribute('data-index', String(k));
    else await expect(hot('key')).toHaveCount(0);
  };

  // Hover: the last query's most attended key, its first key, and a cell inside the triangle.
  const last = T - 1;
  let top = 0;
  for (let k = 1; k <= last; k++) if (expected(last, k) > expected(last, top)) top = k;
  const cells = pattern.getByTestId('attention-cells');
  /** Moves the mouse to the middle of cell (q, k), the grid scrolled into view. */
  const hover = async (q: number, k: number) => {
    await cells.scrollIntoViewIfNeeded();
    const box = (await cells.boundingBox())!;
    await page.mouse.move(box.x + (k + 0.5) * cell, box.y + (q + 0.5) * cell);
  };
  for (const [q, k] of [[last, top], [last, 0], [Math.floor(T / 2), Math.floor(T / 4)]] as const) {
    await hover(q, k);
    await readsOut(q, k);
  }
  await pattern.screenshot({ path: info.outputPath('attention-hover.png') });
  // Above the diagonal nothing is drawn: no readout.
  await hover(0, last);
  await expect(readout).toBeHidden();

  // Keyboard: the grid is one Tab stop (Shift+Tab leaves it, Tab comes back to it); the cursor starts on the
  // selected (last) query's most attended key.
  await page.mouse.move(1, 1);
  await expect(grid).toHaveAttribute('tabindex', '0');
  await grid.focus();
  await page.keyboard.press('Shift+Tab');
  await expect(grid).not.toBeFocused();
  await page.keyboard.press('Tab');
  await expect(grid).toBeFocused();
  await readsOut(last, top);
  await page.keyboard.press('Home');
  await readsOut(last, 0);
  await page.keyboard.press('ArrowRight');
  await readsOut(last, 1);
  await page.keyboard.press('ArrowUp');
  await readsOut(last - 1, 1);
  await page.keyboard.press('End');
  await readsOut(last - 1, last - 1);
  // Enter selects the cursor's query position, as clicking its token does.
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('tokens').locator('button').nth(last - 1)).toHaveAttribute('aria-pressed', 'true');
});
