import { copyFileSync, cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { P, torchZip } from '../src/model/testing/torchFiles';
import { ROOT } from './fixtures/devModel';
import { b64, dropFiles, RELEASED_DIR, releasedFile } from './fixtures/dropFiles';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { expectPredictions } from './fixtures/predictions';
import { typePrompt } from './fixtures/typePrompt';

// OpenAI's released files, dropped on the page, are converted in the engine worker into one of our model folders and
// opened: the release-shaped fixture (test-fixtures/openai-small/released, made by train/openai_fixtures.py) then
// reproduces PyTorch's golden logits within 1e-4 (AbsTopK near-ties set apart, as in every golden check), and the
// "Save as model folder" zip opens again. A final_model.pt whose pickle asks for os.system is refused with that global
// named, and the model loaded before stays loaded and unchanged.
const GOLDEN = join(ROOT, 'test-fixtures/openai-small/converted/golden.safetensors');
const RELEASE = [
  'models/csp_tiny/final_model.pt',
  'models/csp_tiny/beeg_config.json',
  'tinypython/encoder.json',
  'tinypython/vocab.bpe',
  'viz/csp_tiny/mean_baseline_pretrain.pt',
];
test('dropped release files convert in the browser, match the golden logits, save and reopen; a malicious pickle is refused', async ({ page }) => {
  await page.goto('/?model=dense-py-2l&backend=wasm');
  const menu = page.getByRole('combobox', { name: 'Shipped model' });
  await expect(menu).toHaveValue('dense-py-2l');
  await expectPredictions(page);
  // The page has run its first detailed pass; typePrompt then waits for the first task's pair to be in the editor.
  await expect(page.getByTestId('target-logits')).toHaveAttribute('data-for', /./);
  // A prompt within the fixture model's 64-token context.
  await typePrompt(page, 'def f(x):\n    return "a');

  await dropFiles(page, RELEASE.map(releasedFile));
  await expect(menu.locator('option:checked')).toHaveText('final_model (OpenAI circuit-sparsity release) (local)');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('model-info')).toContainText('final_model');
  await expectPredictions(page);
  // The engine-memory line moves while the first prediction's tensors settle: read it once it holds still.
  const info = await settledText(page.getByTestId('model-info'));
  const predictions = await page.getByTestId('prediction').allTextContents();

  // The converted folder, as the page saves it: byte for byte the zip its worker loaded.
  const save = page.getByRole('button', { name: 'Save as model folder' });
  const [download] = await Promise.all([page.waitForEvent('download'), save.click()]);
  expect(download.suggestedFilename()).toBe('final_model.zip');
  const zip = readFileSync((await download.path())!);

  // A checkpoint whose pickle would run os.system: refused by name; the converted model stays as it was.
  const evil = torchZip(Uint8Array.from([...P.proto(), ...P.global('os', 'system'), ...P.tupleOf(P.str('touch /tmp/pwned')), ...P.reduce, ...P.stop]));
  await dropFiles(page, [{ name: 'final_model.pt', b64: b64(evil) }, ...RELEASE.slice(1).map(releasedFile)]);
  await expect(page.getByTestId('error')).toContainText(
    'could not convert the dropped release files: refused: final_model.pt asks for global os.system; only tensor rebuilds, storages and OrderedDict are allowed',
  );
  await expect(menu.locator('option:checked')).toHaveText('final_model (OpenAI circuit-sparsity release) (local)');
  await expect(page.getByTestId('model-info')).toHaveText(info!);
  await expect(page.getByTestId('prediction')).toHaveText(predictions);
  await expect(save).toBeVisible();

  // The saved zip opens again through the files picker, as any zipped model folder does.
  await page.getByLabel('Open checkpoint files').setInputFiles({ name: 'final_model.zip', mimeType: 'application/zip', buffer: zip });
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('load-status')).toHaveCount(0);
  await expect(page.getByTestId('prediction')).toHaveText(predictions);
  await expect(save).toHaveCount(0); // a reopened zip is an ordinary local folder

  // The browser's conversion against PyTorch: every golden prompt's logits and hook sites, within 1e-4.
  const harness = await page.context().newPage();
  await harness.goto('/harness.html');
  await expect(harness.locator('#out')).toHaveText('ready');
  for (const backend of ['wasm', 'cpu'] as const) {
    const result = await harness.evaluate(
      ([z, g, b]) => (window as unknown as { runtimeChecks: { releaseGolden: (z: string, g: string, b: string) => Promise<{ backend: string; warnings: string[]; diffs: { label: string; diff: number; nearTie?: string }[] }> } })
        .runtimeChecks.releaseGolden(z, g, b),
      [b64(zip), b64(readFileSync(GOLDEN)), backend] as const,
    );
    expect(result.backend).toBe(backend);
    expect(result.warnings).toEqual([]);
    const logits = result.diffs.filter((d) => / logits$/.test(d.label));
    expect(logits.length).toBeGreaterThanOrEqual(2);
    const ties = result.diffs.filter((d) => d.nearTie);
    if (ties.length) test.info().annotations.push({ type: `near-ties (${backend})`, description: ties.map((t) => t.label).join('; ') });
    expect(result.diffs.filter((d) => !(d.diff <= 1e-4)).map((d) => `${d.label}: ${d.diff}`)).toEqual([]);
  }
});

/** The released circuits' tasks, and the Python importer's circuit file of each (test-fixtures/openai-small/converted). */
const RELEASED_TASKS = ['single_double_quote', 'while_return_true_beeg'];
const pyCircuit = (task: string) => JSON.parse(readFileSync(join(ROOT, `test-fixtures/openai-small/converted/circuits/${task}.json`), 'utf8')) as { k: number; nodes: unknown[] };

/**
 * Picks a release folder over the shipped dense model: it opens as the release with the released circuits' tasks, and
 * each task's graph draws exactly the nodes of the Python importer's circuit file, with no notice.
 */
async function openReleaseWithCircuits(page: Page, dir: string): Promise<void> {
  await page.goto('/?model=dense-py-2l&backend=wasm');
  const menu = page.getByRole('combobox', { name: 'Shipped model' });
  await expect(menu).toHaveValue('dense-py-2l');
  await expectPredictions(page);

  await page.getByLabel('Open model folder').setInputFiles(dir);
  await expect(menu.locator('option:checked')).toHaveText('csp_tiny (OpenAI circuit-sparsity release) (local)');
  await expect(page.getByTestId('error')).toHaveCount(0);
  const tasks = page.getByRole('combobox', { name: 'Task', exact: true });
  await expect(tasks.locator('option')).toHaveText(RELEASED_TASKS);
  const graphNodes = page.getByTestId('circuit-graph').locator('g.node');
  for (const task of RELEASED_TASKS) {
    await tasks.selectOption(task);
    const file = pyCircuit(task);
    expect(file.nodes.length).toBe(file.k);
    await expect(graphNodes).toHaveCount(file.k);
    await expect(page.getByTestId('task-notice')).toHaveCount(0);
  }
}

// The whole release folder picked, with its two viz_data.pt: the worker imports the released circuits as the Python
// importer does (src/worker/releaseVizImport.test.ts compares the files), and the explorer opens them like shipped
// ones: each task's graph draws exactly the nodes of its circuit file, and the saved zip holds tasks/ and circuits/.
test('a picked release folder with viz_data.pt files opens with the released circuits in the graph', async ({ page }) => {
  await openReleaseWithCircuits(page, RELEASED_DIR);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save as model folder' }).click()]);
  expect(download.suggestedFilename()).toBe('csp_tiny.zip');
  const names = Object.keys(unzipSync(new Uint8Array(readFileSync((await download.path())!)))).map((n) => n.replace(/^[^/]+\//, '')).sort();
  expect(names.filter((n) => /^(tasks|circuits)\//.test(n))).toEqual([
    ...RELEASED_TASKS.map((t) => `circuits/${t}.json`), 'tasks/index.json', ...RELEASED_TASKS.map((t) => `tasks/${t}.json`),
  ]);
});

// OpenAI's README names the circuits viz_data.pkl: a release folder holding them under that name opens the same way,
// single_double_quote's being the released torch.save zip renamed and while_return_true_beeg's a bare pickle.dump
// (test-fixtures/openai-small/viz-pkl).
test('a picked release folder with viz_data.pkl files (a zip and a bare pickle) opens with the released circuits', async ({ page }) => {
  const dir = test.info().outputPath('released');
  cpSync(RELEASED_DIR, dir, { recursive: true, filter: (p) => !p.endsWith('viz_data.pt') });
  const vizDir = (task: string) => join(dir, 'viz/csp_tiny', task, 'prune_v4/k_optim');
  copyFileSync(join(RELEASED_DIR, 'viz/csp_tiny/single_double_quote/prune_v4/k_optim/viz_data.pt'), join(vizDir('single_double_quote'), 'viz_data.pkl'));
  copyFileSync(join(ROOT, 'test-fixtures/openai-small/viz-pkl/csp_tiny/while_return_true_beeg/prune_v4/k_optim/viz_data.pkl'), join(vizDir('while_return_true_beeg'), 'viz_data.pkl'));
  await openReleaseWithCircuits(page, dir);
});

/** A locator's text once it has not changed for a second (polled every 250 ms, up to 30 s). */
async function settledText(locator: import('@playwright/test').Locator): Promise<string> {
  let last = await locator.textContent();
  let stableSince = Date.now();
  for (const end = Date.now() + 30_000; Date.now() < end; ) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await locator.textContent();
    if (now !== last) [last, stableSince] = [now, Date.now()];
    else if (Date.now() - stableSince >= 1000) break;
  }
  return last ?? '';
}
