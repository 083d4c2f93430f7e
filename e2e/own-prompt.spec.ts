import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { DIST, writeDevModel } from './fixtures/devModel';
import { expect, test } from './fixtures/test';

/**
 * Your own prompt: on text that is not one of the task's pairs there is no right answer, so the target panel names the
 * two tokens it compares (at first the task's two targets), paints neither as correct, and lets the user pick any two
 * single tokens (typed, checked by the model's tokenizer, or picked from a searchable list). A hand-written link with
 * a prompt and no task keeps its prompt, and the chosen tokens travel in the link. Runs on the development fixture
 * (e2e/fixtures/devModel.ts: a random model with a quote task), written into the built dist/ when missing. The
 * fixtures' watch fails the test on any console error or failed request, in both pages.
 */
const MODEL = 'dev-fixture';
const PROMPT = 'def greet(name):\n    return name';

const panel = (page: Page) => page.getByTestId('target-logits');

/** Waits until every row of the panel shows logits for the tokens the panel names. */
async function rowsFor(page: Page, ids: string): Promise<void> {
  await expect(panel(page)).toHaveAttribute('data-targets', ids);
  const rows = panel(page).locator('.logit-row');
  await expect(rows.first()).toBeVisible();
  await expect(async () => {
    for (const r of await rows.all()) expect(await r.getAttribute('data-ids')).toBe(ids);
  }).toPass({ timeout: 60_000 });
}

test.beforeAll(() => {
  const dir = join(DIST, 'models', MODEL);
  if (!existsSync(dir)) writeDevModel(dir);
});

test('a free-text prompt names its two tokens with no verdict; the user picks two others; the link keeps both', async ({ page, context }, info) => {
  // A hand-written link: a model and a prompt, no task.
  await page.goto(`/?model=${MODEL}&backend=wasm&prompt=${encodeURIComponent(PROMPT)}`);
  const picker = page.getByRole('combobox', { name: 'Task', exact: true });
  await expect(picker).toHaveValue('single_double_quote'); // the first task opened...
  await expect(page.getByLabel('Prompt text')).toHaveValue(PROMPT); // ...and the link's prompt stayed
  await expect.poll(() => new URL(page.url()).searchParams.get('prompt')).toBe(PROMPT);
  expect(new URL(page.url()).searchParams.get('pair')).toBeNull();

  // The task's two targets, named, with no right or wrong.
  await expect(panel(page)).toHaveAttribute('data-source', 'task');
  const names = page.getByTestId('target-names');
  await expect(names).toContainText('no right answer on this prompt');
  await expect(names.locator('code')).toHaveText(['"', "'"]);
  await rowsFor(page, (await panel(page).getAttribute('data-targets'))!);
  await expect(panel(page).locator('.logit-row[data-verdict], .ok, .bad, .logit-bar.correct, .logit-bar.alt')).toHaveCount(0);

  // Text that is not one token is refused with a message naming its tokens; nothing changes.
  const tokenA = page.getByLabel('Token A');
  const tokenB = page.getByLabel('Token B');
  await tokenA.fill('hello world');
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('target-problem')).toContainText('A: "hello world" is not one token of this model\'s tokenizer: it is');
  await expect(panel(page)).toHaveAttribute('data-source', 'task');

  // A typed single token, and one picked from the list of matches.
  await tokenA.fill(' self');
  await tokenB.fill('ret');
  const matches = page.getByTestId('token-matches');
  await matches.getByRole('button', { name: /^" return" #\d+$/ }).click();
  await expect(tokenB).toHaveValue(' return');
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(panel(page)).toHaveAttribute('data-source', 'chosen');
  await expect(names.locator('code')).toHaveText([' self', ' return']);
  await expect(names).toContainText('(your choice)');
  const ids = (await panel(page).getAttribute('data-targets'))!;
  await rowsFor(page, ids);
  await expect(panel(page).locator('.logit-row[data-verdict], .ok, .bad')).toHaveCount(0);
  await page.mouse.move(1, 1);
  await panel(page).screenshot({ path: info.outputPath('own-prompt-chosen.png') });
  for (const r of await panel(page).locator('.logit-row').all()) {
    expect(Number(await r.getAttribute('data-diff'))).toBeCloseTo(Number(await r.getAttribute('data-correct')) - Number(await r.getAttribute('data-alternative')), 5);
  }

  // The link carries the prompt and the chosen tokens: a fresh page shows the same comparison and numbers.
  await expect.poll(() => new URL(page.url()).searchParams.get('targets')).toBe(ids);
  const full = await panel(page).locator('[data-variant=full]').getAttribute('data-diff');
  const again = await context.newPage();
  await again.goto(page.url());
  await expect(again.getByLabel('Prompt text')).toHaveValue(PROMPT);
  await expect(panel(again)).toHaveAttribute('data-source', 'chosen');
  await rowsFor(again, ids);
  expect(Number(await panel(again).locator('[data-variant=full]').getAttribute('data-diff'))).toBeCloseTo(Number(full), 4);
  await again.close();

  // Keyboard: ArrowDown enters the matches, Enter picks. The same token twice is refused; a typed line break is a token.
  await tokenB.fill('self');
  await tokenB.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(matches.getByRole('button', { name: /^" self" #\d+$/ })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(tokenB).toHaveValue(' self');
  await expect(tokenB).toBeFocused();
  await tokenB.press('Enter'); // submits the form
  await expect(page.getByTestId('target-problem')).toContainText('A and B are the same token (" self")');
  await tokenB.fill('\\n');
  await tokenB.press('Enter');
  await expect(names.locator('code')).toHaveText([' self', '\\n']);
  await rowsFor(page, (await panel(page).getAttribute('data-targets'))!);

  // A task pair has a right answer again: correct vs alternative, with a verdict. Back on free text, the choice holds.
  await page.getByTestId('pair-0a').click();
  await expect(panel(page)).toHaveAttribute('data-source', 'pair');
  await expect(names).toContainText('correct');
  await expect(panel(page).locator('.logit-row[data-variant=full]')).toHaveAttribute('data-verdict', /ok|bad/);
  await page.getByLabel('Prompt text').fill(PROMPT);
  await expect(panel(page)).toHaveAttribute('data-source', 'chosen');
  await page.getByRole('button', { name: "Task's tokens" }).click();
  await expect(panel(page)).toHaveAttribute('data-source', 'task');
  await expect.poll(() => new URL(page.url()).searchParams.get('targets')).toBeNull();
});

test('a link with an unknown key (from another version) still opens and names the key; its settings hold', async ({ page }) => {
  await page.goto(`/?model=${MODEL}&backend=wasm&layoutMode=circuit&minWeight=0.05&prompt=${encodeURIComponent('x = (1, ')}`);
  await expect(page.getByTestId('link-notice')).toContainText('ignored the link key "layoutMode": not known to this version of the explorer');
  await expect(page.getByLabel('Prompt text')).toHaveValue('x = (1, ');
  await expect(panel(page)).toHaveAttribute('data-source', 'task');
  await expect(panel(page)).toHaveAttribute('data-for', /./); // the task has opened and been run
  // Opening the task kept the link's edge threshold, and the unknown key stays in the address bar for a newer version.
  await expect.poll(() => new URL(page.url()).searchParams.get('pair')).toBeNull();
  expect(new URL(page.url()).searchParams.get('minWeight')).toBe('0.05');
  expect(new URL(page.url()).searchParams.get('layoutMode')).toBe('circuit');
});
