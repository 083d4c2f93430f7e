import { allowFailedRequest, expect, test } from './fixtures/test';
import { expectPredictions } from './fixtures/predictions';

// After one online load the service worker (src/sw/sw.js) has the app shell, the default model and the WASM binaries
// cached: with the network cut, a reload still loads the model and predicts.
test('keeps working offline after the first load', async ({ page, context }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('model-info')).toBeVisible();
  await expectPredictions(page);

  // Installed (precache done), active and controlling this page.
  const sw = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise<void>((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }));
    }
    return { scope: reg.scope, state: reg.active?.state, controlled: navigator.serviceWorker.controller !== null };
  });
  expect(sw.state).toBe('activated');
  expect(sw.controlled).toBe(true);

  // Cut off, the service worker's own fetches fail (ERR_INTERNET_DISCONNECTED) before it answers from its cache; a
  // file it never cached (an optional file the folder lacks, or the probe below) then fails for the page (ERR_FAILED).
  allowFailedRequest(/ERR_INTERNET_DISCONNECTED|ERR_FAILED|not-a-file\.bin/);
  await context.setOffline(true);
  expect(await page.evaluate(() => navigator.onLine)).toBe(false);
  await page.reload();
  await expect(page.getByTestId('offline')).toBeVisible();
  await expect(page.getByTestId('model-info')).toBeVisible();
  await page.getByLabel('Prompt text').fill('print(\'hello');
  await expect(page.getByTestId('prediction')).toHaveCount(10);
  // A file that was never cached is a network error offline, not the app's index.html.
  const missing = await page.evaluate(async () => {
    try {
      const res = await fetch('/models/sparse-py-2l/not-a-file.bin');
      return `${res.status} ${res.headers.get('content-type')}`;
    } catch {
      return 'network error';
    }
  });
  expect(missing).toBe('network error');
  expect(pageErrors).toEqual([]);
  await context.setOffline(false);
});
