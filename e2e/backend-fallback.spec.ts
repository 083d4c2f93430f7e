import { expect, test } from './fixtures/test';
import { expectPredictions } from './fixtures/predictions';

// Without --enable-unsafe-webgpu, Chromium's requestAdapter() returns null: a pinned WebGPU backend cannot
// start, and the app must fall back to another backend and say so, with the model still answering.
test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  },
});

test('a pinned backend that fails to start falls back with a visible notice', async ({ page }) => {
  await page.goto('/?backend=webgpu');
  await expect(page.getByTestId('backend-notice').first()).toContainText(/webgpu is unavailable/);
  await expect(page.getByTestId('backend')).toContainText(/backend: (webgl|wasm)/);
  await expectPredictions(page);
});
