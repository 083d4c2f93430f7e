import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';

/**
 * "Define task": the user's own quote task on sparse-py-2l. Bad input is refused with messages that name
 * the input at fault; a good one joins the task picker as "custom: quotes", is split into train/test, evaluated (full
 * model metrics), survives a reload through the link, and Find circuit (few steps) prunes on it and shows the found
 * circuit's metrics, the circuit row calibrated like the file's own calibrated test loss.
 */
const MODEL = 'sparse-py-2l';
const PAIRS = [
  ['x = "hello', "x = 'hello"],
  ['print("a b c', "print('a b c"],
  ['name = "world', "name = 'world"],
  ['msg = "error:', "msg = 'error:"],
  ['key = "value', "key = 'value"],
  ['path = "data', "path = 'data"],
  ['url = "http', "url = 'http"],
  ['s = "some text', "s = 'some text"],
];
const EXAMPLES = PAIRS.map(([a, b]) => `${a} || ${b}`).join('\n');

async function define(page: Page, name: string, targets: [string, string], examples: string): Promise<void> {
  const form = page.getByTestId('define-task');
  if (!(await form.evaluate((e) => (e as HTMLDetailsElement).open))) await form.locator('summary').click();
  await page.getByLabel('Task name').fill(name);
  await page.getByLabel('Target A').fill(targets[0]);
  await page.getByLabel('Target B').fill(targets[1]);
  await page.getByLabel('Examples').fill(examples);
  await page.getByRole('button', { name: 'Define and evaluate' }).click();
}

const metric = (page: Page, variant: string) => page.locator(`[data-testid=task-metrics] [data-variant=${variant}]`);

test('define a quote task, evaluate it, keep it in the link and find a circuit for it', async ({ page }) => {
  test.setTimeout(420_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/?model=${MODEL}&backend=wasm&pruneSteps=10`);
  const picker = page.getByRole('combobox', { name: 'Task', exact: true });
  await expect(picker).not.toHaveValue('');

  // Refused: a target that is several tokens, and a prompt longer than the context (64 tokens).
  await define(page, 'quotes', ['"', 'hello world'], EXAMPLES);
  const problems = page.getByTestId('define-task-problems');
  await expect(problems).toContainText('target B "hello world" is not a single token');
  await define(page, 'quotes', ['"', "'"], `${EXAMPLES}\nA| ${'x = 1\\n'.repeat(40)}`);
  await expect(problems).toContainText(/the prompt on line 9 \(.*\) is \d+ tokens long; this model's context holds 64/);
  await expect(picker.locator('option[value="custom_quotes"]')).toHaveCount(0);

  // Accepted: 8 pairs, 6 for training and 2 held out; the full model is evaluated on the test prompts.
  await define(page, 'quotes', ['"', "'"], EXAMPLES);
  await expect(problems).toHaveCount(0);
  await expect(picker).toHaveValue('custom_quotes');
  await expect(picker.locator('option[value="custom_quotes"]')).toHaveText('custom: quotes');
  await expect(page.getByTestId('custom-task-notes')).toContainText('8 pairs: 6 to find the circuit (train), 2 held out for test');
  await expect(page.getByTestId('pair-list').locator('.pair-row')).toHaveCount(2);
  await expect(page.getByTestId('task-metrics').locator('caption')).toContainText('over 4 test prompts');
  await expect(metric(page, 'full')).toHaveAttribute('data-loss', /\d/);
  const fullLoss = Number(await metric(page, 'full').getAttribute('data-loss'));
  const fullAccuracy = Number(await metric(page, 'full').getAttribute('data-accuracy'));
  expect(fullLoss).toBeGreaterThan(0);
  expect(fullAccuracy).toBeGreaterThanOrEqual(0);
  expect(fullAccuracy).toBeLessThanOrEqual(1);
  await expect(page.getByTestId('task-notice')).toContainText('no circuit for this task yet');

  // The link carries the definition: a fresh page rebuilds the task and shows the same full-model numbers.
  await expect.poll(() => new URL(page.url()).searchParams.get('custom')).toBeTruthy();
  expect(new URL(page.url()).searchParams.get('task')).toBe('custom_quotes');
  const again = await page.context().newPage();
  await again.goto(page.url());
  await expect(again.getByRole('combobox', { name: 'Task', exact: true })).toHaveValue('custom_quotes');
  await expect(metric(again, 'full')).toHaveAttribute('data-loss', /\d/);
  expect(Number(await metric(again, 'full').getAttribute('data-loss'))).toBeCloseTo(fullLoss, 5);
  await again.close();

  // Find circuit on it, with progress; then the found circuit's metrics.
  await page.getByRole('button', { name: 'Find circuit' }).click();
  await expect(page.getByTestId('prune-progress')).toBeVisible();
  const found = page.getByTestId('found-circuit');
  await expect(found).toBeVisible({ timeout: 300_000 });
  const text = await found.innerText();
  const m = /k (\d+) · nodes (\d+) · edges (\d+) · loss ([\d.]+)/.exec(text);
  expect(m, text).not.toBeNull();
  expect(Number(m![2])).toBeGreaterThan(0);
  await expect(page.getByTestId('circuit-graph').locator('g.node')).toHaveCount(Number(m![2]));
  const circuitRow = metric(page, 'circuit');
  await expect(circuitRow).toHaveAttribute('data-loss', /\d/);
  const file = page.getByTestId('circuit-file-metrics');
  const calibratedFileLoss = Number(await file.getAttribute('data-circuit-loss-calibrated'));
  const fileLoss = Number(await file.getAttribute('data-circuit-loss'));
  expect(Number(await circuitRow.getAttribute('data-uncalibrated-loss'))).toBeCloseTo(fileLoss, 3);
  await expect(circuitRow).toHaveAttribute('data-calibrated', 'true');
  await expect(circuitRow.locator('td').first()).toContainText('circuit (calibrated)');
  expect(Number(await circuitRow.getAttribute('data-loss'))).toBeCloseTo(calibratedFileLoss, 3);
  await page.mouse.move(1, 1);
  await page.screenshot({ path: test.info().outputPath('custom-task.png'), fullPage: true });

  // The exported session carries the definition and the found circuit: importing it on a page that has never seen
  // the task defines and opens it.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export JSON' }).click();
  const sessionPath = await (await download).path();
  const fresh = await page.context().newPage();
  await fresh.goto(`/?model=${MODEL}&backend=wasm`);
  const freshPicker = fresh.getByRole('combobox', { name: 'Task', exact: true });
  await expect(freshPicker).not.toHaveValue('');
  await expect(freshPicker.locator('option[value="custom_quotes"]')).toHaveCount(0);
  await fresh.getByLabel('Import session JSON').setInputFiles(sessionPath);
  await expect(freshPicker).toHaveValue('custom_quotes');
  await expect(fresh.getByTestId('circuit-graph').locator('g.node')).toHaveCount(Number(m![2]));
  await expect(metric(fresh, 'circuit')).toHaveAttribute('data-loss', /\d/);
  expect(Number(await metric(fresh, 'circuit').getAttribute('data-loss'))).toBeCloseTo(calibratedFileLoss, 3);
  await fresh.close();
  expect(errors).toEqual([]);
});
