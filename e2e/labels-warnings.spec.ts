import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';

/**
 * Node labels and the full-model warning on the default model. A label is checked against the node panel's own
 * snippet list (the label's first token is the most frequent focus token of the list in the label's direction, with
 * that count), against the graph's hover text, and through the graph's search. The warning is shown exactly for the
 * tasks whose full-model test accuracy, as the metrics table shows it, is below 70%.
 */

interface Circuit { nodes: { site: string; channel: number }[] }

async function defaultModel(page: Page): Promise<{ id: string; dHead: number }> {
  const index = (await (await page.request.get('/models/index.json')).json()) as { models: { id: string; default?: boolean }[] };
  const id = (index.models.find((m) => m.default) ?? index.models[0]!).id;
  const config = (await (await page.request.get(`/models/${id}/config.json`)).json()) as { d_head: number };
  return { id, dHead: config.d_head };
}

async function openTask(page: Page, task: string): Promise<void> {
  const picker = page.getByRole('combobox', { name: 'Task', exact: true });
  await expect(picker.locator(`option[value="${task}"]`)).toHaveCount(1);
  await picker.selectOption(task);
  // The task is open once its circuit is drawn (the metrics table may still show the previous task until then).
  await expect(page.getByRole('heading', { name: new RegExp(`^Circuit · ${task} · `) })).toBeVisible();
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
}

/** The full model's test accuracy as the metrics table shows it, once evaluated. */
async function fullAccuracy(page: Page): Promise<number> {
  const row = page.locator('[data-testid="task-metrics"] tr[data-variant="full"]');
  await expect(row).toHaveAttribute('data-accuracy', /\d/, { timeout: 120_000 });
  await expect(row).toHaveAttribute('data-stale', 'false');
  return Number(await row.getAttribute('data-accuracy'));
}

/** "h3 − "_str"×8 ..." -> its head, sign, first token and that token's count. */
function parseLabel(text: string) {
  const m = /^(?:h(\d+) )?([+−]) ("(?:[^"\\]|\\.)*")(?:×(\d+))?/.exec(text);
  if (!m) throw new Error(`unexpected label ${JSON.stringify(text)}`);
  return { head: m[1] === undefined ? null : Number(m[1]), sign: m[2]!, quoted: m[3]!, token: JSON.parse(m[3]!) as string, count: Number(m[4] ?? 1) };
}

test('a node label names the tokens the node fires on most, in the node panel, on hover and in the search', async ({ page }) => {
  const model = await defaultModel(page);
  const task = 'single_double_quote';
  const circuit = (await (await page.request.get(`/models/${model.id}/circuits/${task}.json`)).json()) as Circuit;
  await page.goto('/');
  await openTask(page, task);

  // A q/k/v node of the circuit: its label names its head and a sign.
  const ref = circuit.nodes.find((n) => /\.attn\.[qkv]$/.test(n.site))!;
  const id = `${ref.site}:${ref.channel}`;
  await page.locator(`g.node[data-node="${id}"]`).click({ modifiers: ['Shift'] });
  const detail = page.getByTestId('node-detail');
  await expect(detail).toHaveAttribute('data-node', id);
  const labelLine = page.getByTestId('node-label');
  await expect(labelLine).toHaveAttribute('data-node', id);
  const text = (await labelLine.textContent())!.replace(/^label /, '');
  const label = parseLabel(text);
  expect(label.head).toBe(Math.floor(ref.channel / model.dHead));

  // The label's first token is the most frequent focus token of the snippet list in its direction.
  await expect(page.getByTestId('top-snippets')).toHaveAttribute('data-state', 'ready');
  const listName = label.sign === '+' ? 'Top-activating held-out snippets' : 'Most negative held-out snippets';
  const items = page.getByRole('list', { name: `${listName} of ${id}`, includeHidden: true }).locator('li');
  const focus = (await items.evaluateAll((lis) => lis.map((li) => li.getAttribute('aria-label')!)))
    .map((a) => JSON.parse(/^\d+: \S+ on ("(?:[^"\\]|\\.)*") in /.exec(a)![1]!) as string);
  expect(focus.length).toBeGreaterThan(0);
  const counts = new Map<string, number>();
  for (const t of focus) counts.set(t, (counts.get(t) ?? 0) + 1);
  expect(counts.get(label.token)).toBe(label.count);
  expect(Math.max(...counts.values())).toBe(label.count);

  // The graph's hover text carries the same label.
  const graphNode = page.locator(`g.node[data-node="${id}"]`);
  await graphNode.hover();
  await expect(graphNode.locator('title')).toContainText(`label: ${text}`);

  // The search finds the node by its label's token, and marks every match.
  await page.getByRole('combobox', { name: 'Find node' }).fill(label.quoted);
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  const matches = page.getByTestId('search-matches');
  await expect(matches).toContainText(/match 1 of \d+/);
  const total = Number(/of (\d+)/.exec((await matches.textContent())!)![1]);
  const hits = page.locator('g.node.search-hit');
  await expect(hits).toHaveCount(total);
  expect(await hits.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-node')))).toContain(id);
  // The first match is inspected; its label holds the searched text.
  const first = await detail.getAttribute('data-node');
  expect(await hits.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-node')))).toContain(first);
  await expect(labelLine).toHaveAttribute('data-node', first!);
  expect(first === id || (await labelLine.textContent())!.includes(label.quoted)).toBe(true);

  // A residual channel's label adds the tokens whose embedding is largest (or most negative) in the channel.
  const res = circuit.nodes.find((n) => /act_in$|resid_delta$|^final_resid$/.test(n.site))!;
  const resId = `${res.site}:${res.channel}`;
  await page.getByRole('button', { name: 'Fit', exact: true }).click(); // the search zoomed in on its match
  await page.locator(`g.node[data-node="${resId}"]`).click({ modifiers: ['Shift'] });
  await expect(labelLine).toHaveAttribute('data-node', resId);
  await expect(labelLine).toContainText(/^label [+−] ".*· emb ("(?:[^"\\]|\\.)*" ?){3}$/);
});

test('the full-model warning shows for a task the full model does not do, and not for one it does', async ({ page }) => {
  const model = await defaultModel(page);
  const accuracyOf = async (task: string) =>
    ((await (await page.request.get(`/models/${model.id}/circuits/${task}.json`)).json()) as { full_model_accuracy: number }).full_model_accuracy;
  // The shipped circuits record the full model's test accuracy: if_ternary is below 70%, single_double_quote above.
  expect(await accuracyOf('if_ternary')).toBeLessThan(0.7);
  expect(await accuracyOf('single_double_quote')).toBeGreaterThanOrEqual(0.7);
  await page.goto('/');

  await openTask(page, 'if_ternary');
  const acc = await fullAccuracy(page);
  expect(acc).toBeLessThan(0.7);
  const says = `The full model does not do this task (test accuracy ${Math.round(acc * 100)}%); what you see is what ablation makes of it.`;
  for (const where of ['task', 'graph']) {
    const w = page.getByTestId(`full-model-warning-${where}`);
    await expect(w).toHaveAttribute('data-source', 'live');
    await expect(w).toHaveText(says);
    await expect(w).toBeVisible();
  }

  await openTask(page, 'single_double_quote');
  expect(await fullAccuracy(page)).toBeGreaterThanOrEqual(0.7);
  await expect(page.getByTestId('full-model-warning-task')).toHaveCount(0);
  await expect(page.getByTestId('full-model-warning-graph')).toHaveCount(0);
});
