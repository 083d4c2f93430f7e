import { expect, test } from './fixtures/test';
import { expectPredictions } from './fixtures/predictions';
import { typePrompt } from './fixtures/typePrompt';

// The shell's user journey on the shipped default model: load (with progress), type a prompt, read predictions.
test('loads the shipped model, tokenises a prompt and shows next-token predictions', async ({ page }, info) => {
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('backend')).toContainText(/backend: (webgpu|webgl|wasm|cpu)/);
  await expect(page.getByTestId('model-info')).toBeVisible();
  await typePrompt(page, 'x = ["a", \'b\']\nprint(\'hello');
  await expect(page.getByTestId('tokens')).toContainText('hello');
  const rows = page.getByTestId('prediction');
  await expect(rows).toHaveCount(10);
  const probs = await rows.locator('span').last().allInnerTexts();
  expect(probs.length).toBeGreaterThan(0);
  await page.screenshot({ path: info.outputPath('predictions.png'), fullPage: true });
  expect(consoleErrors).toEqual([]);
});

test('?backend= pins the compute backend and the page says so', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('backend')).toContainText('backend: wasm (pinned)');
  await expectPredictions(page);
});
