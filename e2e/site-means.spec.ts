import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { readMeans } from '../src/model/checkpoint/means';
import { parseConfig } from '../src/model/config';
import { ROOT } from './fixtures/devModel';
import { dropFiles, releasedFile } from './fixtures/dropFiles';
import { expect, test } from './fixtures/test';
import { expectPredictions } from './fixtures/predictions';
import { typePrompt } from './fixtures/typePrompt';

// A model without means (OpenAI's released files dropped without mean_baseline_pretrain.pt, converted in the page)
// gets them from text: a Cancel midway leaves the page as it was; the fixture's corpus files (test-fixtures/site-means,
// the texts PyTorch's compute_means ran on to make the fixture's mean baseline) then give means that match it to 1e-5,
// the mean-ablation switch enables, and "Save as model folder" writes them with their provenance.
const CONVERTED = join(ROOT, 'test-fixtures/openai-small/converted');
const CORPUS = join(ROOT, 'test-fixtures/site-means/corpus');
const RELEASE_WITHOUT_MEANS = ['models/csp_tiny/final_model.pt', 'models/csp_tiny/beeg_config.json', 'tinypython/encoder.json', 'tinypython/vocab.bpe'];
const corpusFiles = readdirSync(CORPUS).sort();

test('means from text: cancel changes nothing; the corpus files give the golden means, mean ablation enables, the saved folder has them', async ({ page }) => {
  await page.goto('/?model=dense-py-2l&backend=wasm');
  await expectPredictions(page);
  await expect(page.getByTestId('target-logits')).toHaveAttribute('data-for', /./);
  await typePrompt(page, 'def f(x):\n    return "a');

  await dropFiles(page, RELEASE_WITHOUT_MEANS.map(releasedFile));
  const info = page.getByTestId('model-info');
  await expect(info).toContainText('final_model');
  await expect(info).toContainText('unavailable (no means.safetensors)');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expectPredictions(page);
  const mean = page.getByRole('radio', { name: 'mean' });
  await expect(mean).toBeDisabled();
  const notice = page.locator('.notice', { hasText: 'means.safetensors not found' });
  await expect(notice).toHaveCount(1);
  const predictions = await page.getByTestId('prediction').allTextContents();

  await page.getByRole('button', { name: 'Compute means from text…' }).click();
  const count = page.getByTestId('means-count');
  const compute = page.getByRole('button', { name: 'Compute means', exact: true });
  // Nothing given, then too little: the count says why, and the job cannot start.
  await expect(page.getByTestId('means-problem')).toHaveText('the text is empty: give some text (for example Python code) to compute the means over');
  await expect(compute).toBeDisabled();
  await page.getByLabel('Text for means').fill('x = 1\n');
  await expect(page.getByTestId('means-problem')).toContainText(/^the text is \d+ tokens long, fewer than one window of 64 tokens \(plus one\): give more text$/);
  await expect(compute).toBeDisabled();

  // A long job, cancelled once it has made progress: the model stays without means and the page as it was.
  const corpus = corpusFiles.map((f) => readFileSync(join(CORPUS, f), 'utf8')).join('\n');
  await page.getByLabel('Text for means').fill(corpus.repeat(40));
  await page.getByLabel('Means windows').fill('10000');
  await expect(count).toContainText(': 10,000 windows of 64 tokens');
  await compute.click();
  const progress = page.getByLabel('Means progress');
  await expect(progress).toHaveAttribute('value', /^[1-9]/);
  await page.getByTestId('means-progress').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('means-error')).toHaveText('computing the means was cancelled: the model is as it was (no means)');
  await expect(page.getByTestId('means-progress')).toHaveCount(0);
  await expect(info).toContainText('unavailable (no means.safetensors)');
  await expect(mean).toBeDisabled();
  await expect(notice).toHaveCount(1);
  await expect(page.getByTestId('prediction')).toHaveText(predictions);

  // The fixture's corpus as files, 16 windows of (at most 256, so the context's) 64 tokens: what made its mean baseline.
  await page.getByLabel('Text for means').fill('');
  await page.getByLabel('Means windows').fill('16');
  await page.getByLabel('Files for means').setInputFiles(corpusFiles.map((f) => join(CORPUS, f)));
  await expect(page.getByTestId('means-files')).toContainText('3 file(s): 0.py, 1.py, 2.py');
  await expect(count).toHaveText('411 tokens: 16 windows of 64 tokens');
  await compute.click();
  await expect(info).toContainText('available (means computed here from 411 tokens of text, 16 windows of 64)');
  await expect(page.getByTestId('compute-means')).toHaveCount(0);
  await expect(notice).toHaveCount(0);
  await expect(mean).toBeEnabled();
  await mean.check();
  await expect(mean).toBeChecked();
  await expect(page.getByTestId('prediction')).toHaveText(predictions);
  await expect(page.getByTestId('error')).toHaveCount(0);

  // The saved folder: means.safetensors equal to the fixture's (PyTorch's compute_means) to 1e-5 of each site's
  // largest mean, and the card's means naming the texts by their SHA-256.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save as model folder' }).click()]);
  const zip = readFileSync((await download.path())!);
  const entries = unzipSync(new Uint8Array(zip));
  const config = parseConfig(JSON.parse(readFileSync(join(CONVERTED, 'config.json'), 'utf8')));
  const saved = readMeans(entries['final_model/means.safetensors']!, config).means;
  const golden = readMeans(readFileSync(join(CONVERTED, 'means.safetensors')), config).means;
  expect([...saved.keys()]).toEqual([...golden.keys()]);
  for (const [site, g] of golden) {
    const scale = Math.max(...g.map(Math.abs));
    const diff = Math.max(...saved.get(site)!.map((v, i) => Math.abs(v - g[i]!)));
    expect(diff / scale, site).toBeLessThan(1e-5);
  }
  const card = JSON.parse(new TextDecoder().decode(entries['final_model/model-card.json']!)) as { means: unknown };
  expect(card.means).toEqual({
    source: 'text', computed_in: 'browser', corpus_tokens: 411, windows: 16, window_tokens: 64,
    texts: corpusFiles.map((f) => {
      const bytes = readFileSync(join(CORPUS, f));
      return { name: f, chars: bytes.toString('utf8').length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }),
  });

  // Opened again, the saved folder has its means from the file.
  await page.getByLabel('Open checkpoint files').setInputFiles({ name: 'final_model.zip', mimeType: 'application/zip', buffer: zip });
  await expect(page.getByTestId('load-status')).toHaveCount(0);
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(info).toContainText('available (means computed here from 411 tokens of text, 16 windows of 64)');
  await expect(mean).toBeEnabled();
  await expect(page.getByTestId('prediction')).toHaveText(predictions);
});
