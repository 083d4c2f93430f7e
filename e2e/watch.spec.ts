import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { allowConsoleError, allowFailedRequest, expect, test, Watch } from './fixtures/test';
import { ROOT } from './fixtures/devModel';

/** A blank same-origin page to provoke problems on, without loading the app. */
async function blankPage(page: Page): Promise<void> {
  await page.route('**/watch-probe.html', (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>probe</title>' }));
  await page.goto('/watch-probe.html');
}

/**
 * The watch of e2e/fixtures/test.ts: every spec runs under it, a declared console error or failed request is
 * tolerated, and an undeclared one is reported (which fails the test that met it). The failed request is a JSON
 * file that does not exist: asked for as JSON, `vite preview` answers 404 instead of its index.html fallback.
 */
test('every spec takes its test from the watched fixture', () => {
  const dir = join(ROOT, 'e2e');
  const specs = readdirSync(dir).filter((f) => f.endsWith('.spec.ts'));
  const unwatched = specs.filter((f) => !/import \{[^}]*\btest\b[^}]*\} from '\.\/fixtures\/test'/.test(readFileSync(join(dir, f), 'utf8')));
  expect(unwatched, "specs that import test from '@playwright/test' instead of './fixtures/test'").toEqual([]);
});

test('declared console errors and failed requests are tolerated', async ({ page }) => {
  allowConsoleError(/^deliberate error$/);
  allowFailedRequest(/\/watch-missing\.json/);
  await blankPage(page);
  const status = await page.evaluate(async () => {
    console.error('deliberate error');
    return (await fetch('/watch-missing.json', { headers: { Accept: 'application/json' } })).status;
  });
  expect(status).toBe(404);
});

test('an undeclared console error or failed request is reported, a declared one is not', async ({ browser }) => {
  // A context of its own, so the provoked problems are reported to this watch and not to the test's.
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  const w = new Watch();
  w.observe(context);
  const page = await context.newPage();
  await blankPage(page);
  await page.evaluate(async () => {
    console.error('nobody declared this');
    await fetch('/watch-missing.json', { headers: { Accept: 'application/json' } });
  });
  await expect.poll(() => w.unexpected().join('\n')).toMatch(/request: GET .*\/watch-missing\.json: HTTP 404/);
  expect(w.unexpected().join('\n')).toMatch(/console: nobody declared this/);
  w.allowed.push({ kind: 'console', re: /nobody declared/ }, { kind: 'request', re: /watch-missing\.json/ });
  expect(w.unexpected()).toEqual([]);
  await context.close();
});
