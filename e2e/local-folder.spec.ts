import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { ROOT } from './fixtures/devModel';
import { expectPredictions } from './fixtures/predictions';

// A model folder given to the folder picker with its subfolders (tasks/, circuits/, tokenizer/) loads exactly as a URL
// load does: tasks, circuits and snippets come from the picked files, nothing is fetched from the server's copy, the
// model menu names the local model, and a folder missing a required file is refused with the file named while the
// previous model stays. The test builds the folders itself from public/models/sparse-py-2l.
const SRC = join(ROOT, 'public/models/sparse-py-2l');
const NAME = 'Local sparse copy';
const TASKS = ['single_double_quote', 'bracket_counting'];

let dir: string;
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-folder-'));
  // picked/local-sparse/...: the picker's relative paths then carry a parent prefix ("picked/local-sparse/config.json").
  const good = join(dir, 'picked', 'local-sparse');
  cpSync(SRC, good, { recursive: true, filter: (p) => !p.endsWith('golden.safetensors') });
  const card = JSON.parse(readFileSync(join(SRC, 'model-card.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(good, 'model-card.json'), JSON.stringify({ ...card, name: NAME }));
  // Its own task list, so the task menu shows that this folder's tasks/index.json was read.
  writeFileSync(join(good, 'tasks', 'index.json'), JSON.stringify({ tasks: TASKS }));
  // A folder without tokenizer/vocab.bpe.
  const broken = join(dir, 'broken');
  mkdirSync(join(broken, 'tokenizer'), { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'means.safetensors', 'model-card.json', 'tokenizer/encoder.json']) copyFileSync(join(SRC, f), join(broken, f));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a picked model folder loads with its tasks, circuits and snippets', async ({ page }) => {
  // Console errors and failed requests fail the test by themselves (fixtures/test.ts).
  const fromServer: string[] = [];
  // The page and its engine worker; the service worker precaches the default model on its own.
  page.context().on('request', (r) => { if (r.url().includes('/models/sparse-py-2l/') && !r.serviceWorker()) fromServer.push(r.url()); });

  await page.goto('/?model=dense-py-2l&backend=wasm');
  const menu = page.getByRole('combobox', { name: 'Shipped model' });
  await expect(menu).toHaveValue('dense-py-2l');
  await expectPredictions(page);
  const picker = page.getByLabel('Open model folder');

  // A folder missing a required file: the message names the file, says "picked", and the previous model stays.
  await picker.setInputFiles(join(dir, 'broken'));
  await expect(page.getByTestId('error')).toContainText('could not load the picked folder "broken": tokenizer/vocab.bpe is missing from the folder broken/');
  await expect(menu).toHaveValue('dense-py-2l');
  await expect(page.getByTestId('model-info')).toContainText('dense-py-2l');

  // The whole folder, subfolders included.
  await picker.setInputFiles(join(dir, 'picked'));
  await expect(menu.locator('option:checked')).toHaveText(`${NAME} (local)`);
  await expect(page.getByTestId('error')).toHaveCount(0);

  const tasks = page.getByRole('combobox', { name: 'Task', exact: true });
  await expect(tasks.locator('option')).toHaveText(TASKS);
  await expect(tasks).toHaveValue(TASKS[0]!);
  // Its circuit file: the graph draws and the panel does not say that no circuit has been pruned.
  const node = page.getByTestId('circuit-graph').locator('g.node').first();
  await expect(node).toBeVisible();
  await expect(page.getByTestId('task-notice')).toHaveCount(0);
  // Its snippets.safetensors: the node panel shows where the node is largest on held-out code.
  await node.click({ modifiers: ['Shift'] });
  const snippets = page.getByTestId('top-snippets');
  await expect(snippets).toHaveAttribute('data-state', 'ready');
  await expect(snippets.getByRole('listitem').first()).toBeVisible();
  // The other task's circuit is read from the folder too.
  await tasks.selectOption(TASKS[1]!);
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
  await expect(page.getByTestId('task-notice')).toHaveCount(0);

  expect(fromServer, 'everything came from the picked files').toEqual([]);
});

test('a picked model folder without tasks shows no task of the previous model', async ({ page }) => {
  // The OpenAI-shaped fixture (vocabulary 288) without tasks/ and circuits/, opened after sparse-py-2l (whose quote
  // task has token ids past 288): nothing of the previous task may open, stay on screen or be evaluated on it.
  cpSync(join(ROOT, 'test-fixtures/openai-small/converted'), join(dir, 'no-tasks', 'openai-small'), {
    recursive: true,
    filter: (p) => !/[/\\](tasks|circuits)$/.test(p) && !p.endsWith('golden.safetensors'),
  });
  const taskUrl = '**/models/sparse-py-2l/tasks/single_double_quote.json';
  // 1. sparse-py-2l's first task file is held back until the other model has loaded: a task still on its way
  // when the model changed must not open on the new model.
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  let heldRequest: Request | null = null;
  await page.context().route(taskUrl, async (route) => {
    if (route.request().method() !== 'GET' || heldRequest) return route.continue(); // the task list's probe (HEAD)
    heldRequest = route.request();
    await held;
    await route.continue();
  });
  await page.goto('/?model=sparse-py-2l&backend=wasm');
  const tasks = page.getByRole('combobox', { name: 'Task', exact: true });
  await expect(tasks.locator('option[value="single_double_quote"]')).toHaveCount(1);
  await expect.poll(() => heldRequest !== null).toBe(true);
  const picker = page.getByLabel('Open model folder');
  await picker.setInputFiles(join(dir, 'no-tasks'));
  await expect(page.getByTestId('model-info')).toContainText('openai-small');
  release();
  // The held file reaches the page; a fetch of it made afterwards, then two frames, let whatever it triggers render.
  await (await heldRequest!.response())!.finished();
  await page.evaluate(async (url) => {
    await (await fetch(url)).json();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  }, '/models/sparse-py-2l/tasks/single_double_quote.json');
  const noTaskPanel = async () => {
    await expect(page.getByTestId('model-info')).toContainText('openai-small');
    await expect(page.getByTestId('task-notice')).toHaveText('this model folder lists no tasks (tasks/index.json)');
    await expect(tasks).toHaveValue('');
    await expect(tasks).toBeDisabled();
    // No task description, pairs or metrics of the previous model, and no alert about its token ids.
    await expect(page.getByTestId('task-metrics')).toHaveCount(0);
    await expect(page.getByTestId('pair-0a')).toHaveCount(0);
    await expect(page.getByRole('region', { name: 'Task and metrics' }).getByRole('alert')).toHaveCount(0);
    await expect(page.getByTestId('error')).toHaveCount(0);
  };
  await noTaskPanel();

  // 2. Back to sparse-py-2l, its quote task open and being evaluated, then the folder again: the task panel says
  // the folder lists no tasks (not that the quote task is missing), and the evaluation of that task is dropped.
  await page.getByRole('combobox', { name: 'Shipped model' }).selectOption('sparse-py-2l');
  await expect(tasks).toHaveValue('single_double_quote');
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
  await expect(page.getByTestId('pair-0a')).toBeVisible();
  await picker.setInputFiles(join(dir, 'no-tasks'));
  await noTaskPanel();
  // What sparse-py-2l computed for the prompt is not shown against the new one.
  await expect(page.getByTestId('target-logits').locator('[data-variant="circuit"]')).toHaveCount(0);
});
