import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import type { AblationMode } from '../src/model/interventions';
import { DIST, writeDevModel } from './fixtures/devModel';
import { ablatableEdges, clickEdge } from './fixtures/graphEdges';

/**
 * The circuit explorer's user journey. It runs on a shipped model that has a quote task with a circuit; when none
 * is shipped yet it writes the development fixture (e2e/fixtures/devModel.ts: a random model, so its numbers mean
 * nothing, but every code path is the same) into the built dist/ and uses that. EXPLORER_MODEL pins the model id,
 * EXPLORER_TASK another task (by part of its name).
 */
interface TaskPrompt { text: string; tokens: number[]; correct: number; alternative: number }
interface Setup {
  model: string;
  task: string;
  pairs: { a: TaskPrompt; b: TaskPrompt }[];
  circuitNodes: string[];
  /** An edge circuit's unkept candidate edges between its nodes: "restrict to circuit" ablates them too. */
  circuitAblatedEdges: { source: string; target: string }[];
  mode: AblationMode;
}

async function findSetup(page: Page): Promise<Setup> {
  const get = async (url: string) => {
    const r = await page.request.get(url);
    return r.ok() ? ((await r.json().catch(() => null)) as unknown) : null;
  };
  const index = (await get('/models/index.json')) as { models: { id: string }[] } | null;
  const ids = process.env.EXPLORER_MODEL ? [process.env.EXPLORER_MODEL] : [...(index?.models.map((m) => m.id) ?? []), 'dev-fixture'];
  const fixtureDir = join(DIST, 'models/dev-fixture');
  if (!process.env.EXPLORER_MODEL && !existsSync(fixtureDir)) writeDevModel(fixtureDir);
  for (const model of ids) {
    const tasks = (await get(`/models/${model}/tasks/index.json`)) as { tasks: string[] } | null;
    const wanted = process.env.EXPLORER_TASK ?? 'quote';
    const task = (tasks?.tasks ?? [process.env.EXPLORER_TASK ?? 'single_double_quote']).find((t) => t.includes(wanted));
    if (!task) continue;
    const circuit = (await get(`/models/${model}/circuits/${task}.json`)) as {
      nodes: { site: string; channel: number }[]; ablation: AblationMode; ablated_edges?: { source: string; target: string }[];
    } | null;
    const file = (await get(`/models/${model}/tasks/${task}.json`)) as { test: Setup['pairs'] } | null;
    if (!circuit || !file) continue;
    return {
      model, task, pairs: file.test, circuitNodes: circuit.nodes.map((n) => `${n.site}:${n.channel}`),
      circuitAblatedEdges: circuit.ablated_edges ?? [], mode: 'mean',
    };
  }
  throw new Error(`no model with a quote task and circuit among ${ids.join(', ')}`);
}

/** Waits until the shown logits and task metrics were computed for the state the controls show. */
async function settled(page: Page): Promise<string> {
  const state = page.getByTestId('intervention-list');
  await expect(async () => {
    const sig = await state.getAttribute('data-state');
    expect(await page.getByTestId('target-logits').getAttribute('data-for')).toBe(sig);
    expect(await page.getByTestId('task-metrics').getAttribute('data-for')).toBe(sig);
    expect(await page.getByTestId('task-metrics').getAttribute('aria-busy')).toBe('false');
    expect(await page.getByTestId('target-logits').getAttribute('aria-busy')).toBe('false'); // nothing in flight
  }).toPass({ timeout: 90_000 });
  return (await state.getAttribute('data-state'))!;
}

const num = async (page: Page, sel: string, attr: string) => Number(await page.locator(sel).getAttribute(attr));

test('pick the quote task, inspect a node, ablate an edge, check the numbers, undo, share the link, export', async ({ page, context }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const setup = await findSetup(page);
  const shot = async (name: string) => {
    await page.mouse.move(1, 1); // no hover highlight in the pictures
    await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
  };

  // 1. load
  await page.goto(`/?model=${setup.model}`);
  await expect(page.getByTestId('model-info')).toBeVisible();
  const picker = page.getByRole('combobox', { name: 'Task', exact: true });
  await expect(picker.locator(`option[value="${setup.task}"]`)).toHaveCount(1);
  await shot('01-loaded');

  // 2. the quote task and one of its pairs
  await picker.selectOption(setup.task);
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
  const pairIndex = Math.min(3, setup.pairs.length - 1);
  await page.getByTestId(`pair-${pairIndex}a`).click();
  await expect(page.getByLabel('Prompt text')).toHaveValue(setup.pairs[pairIndex]!.a.text);
  await settled(page);
  await shot('02-task-pair');

  // 3. inspect a node: its activation heatmap over the prompt's tokens
  const node = setup.circuitNodes.find((n) => n.includes('mlp.post_act')) ?? setup.circuitNodes[0]!;
  await page.locator(`g.node[data-node="${node}"]`).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('node-detail')).toHaveAttribute('data-node', node);
  await expect(page.getByTestId('node-heatmap').getByTestId('heat-current').locator('button')).toHaveCount(setup.pairs[pairIndex]!.a.tokens.length);
  // ... and where it is largest on held-out code, from the folder's optional snippets.safetensors
  const snippetFile = await page.request.fetch(`/models/${setup.model}/snippets.safetensors`, { method: 'HEAD' });
  const hasSnippets = snippetFile.ok() && !(snippetFile.headers()['content-type'] ?? '').startsWith('text/html');
  if (setup.model === 'sparse-py-2l') expect(hasSnippets, 'the shipped sparse model has a snippet file').toBe(true);
  const snippets = page.getByTestId('top-snippets');
  if (hasSnippets) {
    await expect(snippets).toHaveAttribute('data-state', 'ready');
    const top = snippets.getByRole('list', { name: `Top-activating held-out snippets of ${node}` }).getByRole('listitem');
    await expect(top.first()).toBeVisible();
    expect(await top.count()).toBeGreaterThanOrEqual(1);
    await expect(top.first()).toHaveAccessibleName(/^1: -?[\d.]+ on ".*" in ".*"$/s);
    await expect(snippets.locator('.snippets').first().locator('.token.focus')).toHaveCount(await top.count()); // one boxed token each
  } else {
    await expect(snippets).toContainText('no snippet file for this model');
  }
  await shot('03-node-heatmap');

  // 4. ablate the strongest ablatable weight edge of the circuit
  const before = { diff: await num(page, '[data-testid=target-logits] [data-variant=current]', 'data-diff') };
  // Edges are drawn on a canvas: the click lands where the edge is drawn (e2e/fixtures/graphEdges.ts).
  const circuitFile = (await (await page.request.get(`/models/${setup.model}/circuits/${setup.task}.json`)).json()) as Parameters<typeof ablatableEdges>[0];
  const edge = await clickEdge(page, ablatableEdges(circuitFile));
  await expect(page.getByTestId('intervention')).toHaveCount(1);
  await settled(page);
  const after = {
    diff: await num(page, '[data-testid=target-logits] [data-variant=current]', 'data-diff'),
    // Raw logits: in the circuit view the shown figures are calibrated with the circuit's logit scale and shift.
    accuracy: await num(page, '[data-testid=task-metrics] [data-variant=current]', 'data-uncalibrated-accuracy'),
    loss: await num(page, '[data-testid=task-metrics] [data-variant=current]', 'data-uncalibrated-loss'),
  };
  await shot('04-edge-ablated');

  // The same intervention computed outside the explorer: main thread, one prompt at a time, no padding.
  const [source, target] = edge.split('>');
  const view = await page.locator('input[name=view]:checked').evaluate((e) => (e.parentElement?.textContent ?? '').trim());
  const interventions = [
    ...(view.includes('circuit') ? [
      { kind: 'circuit', nodes: setup.circuitNodes, mode: setup.mode },
      ...setup.circuitAblatedEdges.map((e) => ({ kind: 'edge', source: e.source, target: e.target, mode: setup.mode })),
    ] : []),
    { kind: 'edge', source, target, mode: setup.mode },
  ];
  const backend = /backend: (\w+)/.exec(await page.getByTestId('backend').innerText())![1]!;
  const harness = await context.newPage();
  await harness.goto('/harness.html');
  await expect(harness.locator('#out')).toHaveText('ready');
  const prompts = [setup.pairs[pairIndex]!.a, ...setup.pairs.flatMap((p) => [p.a, p.b])];
  const logits = await harness.evaluate(
    ([base, b, ps, ivs]) => (window as unknown as { runtimeChecks: { targetLogits: (...a: unknown[]) => Promise<[number, number][]> } }).runtimeChecks.targetLogits(base, b, ps, ivs),
    [`/models/${setup.model}/`, backend, prompts.map((p) => ({ tokens: p.tokens, correct: p.correct, alternative: p.alternative })), interventions] as const,
  );
  await harness.close();
  const [first, ...rest] = logits;
  expect(after.diff).toBeCloseTo(first![0] - first![1], 3);
  const diffs = rest.map(([c, a]) => c - a);
  expect(after.accuracy).toBeCloseTo(diffs.filter((d) => d > 0).length / diffs.length, 6);
  const loss = diffs.reduce((s, d) => s + Math.log1p(Math.exp(-d)), 0) / diffs.length;
  expect(after.loss).toBeCloseTo(loss, 3);
  info.annotations.push({ type: 'edge ablation', description: `${edge}: diff ${before.diff.toFixed(4)} -> ${after.diff.toFixed(4)}, accuracy ${after.accuracy}` });

  // 5. undo brings the numbers back
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByTestId('intervention')).toHaveCount(0);
  await settled(page);
  expect(await num(page, '[data-testid=target-logits] [data-variant=current]', 'data-diff')).toBeCloseTo(before.diff, 5);
  await shot('05-undone');

  // 6. redo, then open the shared link in a fresh page: same state, same numbers
  await page.getByRole('button', { name: 'Redo' }).click();
  const signature = await settled(page);
  await expect.poll(() => new URL(page.url()).searchParams.get('iv')).toContain(edge.replace('>', '~'));
  const link = page.url();
  const again = await context.newPage();
  await again.goto(link);
  await expect(again.getByTestId('intervention')).toHaveCount(1);
  expect(await settled(again)).toBe(signature);
  await expect(again.getByTestId('node-detail')).toHaveAttribute('data-node', node);
  await expect(again.getByLabel('Prompt text')).toHaveValue(setup.pairs[pairIndex]!.a.text);
  expect(await num(again, '[data-testid=target-logits] [data-variant=current]', 'data-diff')).toBeCloseTo(after.diff, 5);
  expect(await num(again, '[data-testid=task-metrics] [data-variant=current]', 'data-uncalibrated-accuracy')).toBeCloseTo(after.accuracy, 6);
  await again.screenshot({ path: info.outputPath('06-shared-link.png'), fullPage: true });

  // 7. export the graph as SVG
  const download = again.waitForEvent('download');
  await again.getByRole('button', { name: 'Export SVG' }).click();
  const file = await (await download).path();
  const svg = (await import('node:fs')).readFileSync(file, 'utf8');
  expect(svg).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(svg).toContain(`data-node="${node}"`);
  (await import('node:fs')).copyFileSync(file, info.outputPath('circuit.svg'));
  const png = again.waitForEvent('download');
  await again.getByRole('button', { name: 'Export PNG' }).click();
  const pngBytes = (await import('node:fs')).readFileSync((await (await png).path())!);
  expect([...pngBytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');

  // 8. dark mode
  await again.getByRole('button', { name: /Colour scheme/ }).click(); // auto -> light
  await again.getByRole('button', { name: /Colour scheme/ }).click(); // light -> dark
  await expect(again.locator('html')).toHaveAttribute('data-theme', 'dark');
  await again.mouse.move(1, 1);
  await again.screenshot({ path: info.outputPath('08-dark.png'), fullPage: true });
  await again.close();
  expect(errors).toEqual([]);
});

test('200 intervention toggles leak no tensors and leave the page responsive', async ({ page }, info) => {
  test.setTimeout(360_000); // a full-size circuit re-runs the task's test pairs on every toggle
  const setup = await findSetup(page);
  await page.goto(`/?model=${setup.model}&task=${setup.task}&pair=0&side=a`);
  await settled(page);
  const tensors = async () => {
    const row = page.getByTestId('memory');
    const at = await row.getAttribute('data-at');
    await row.getByRole('button', { name: 'Refresh engine memory' }).click();
    await expect(row).not.toHaveAttribute('data-at', at ?? '');
    // The task metrics keep residual streams of earlier states within a budget (stagedTaskEval.ts): counted apart.
    return Number(await row.getAttribute('data-tensors')) - Number(await row.getAttribute('data-cached-tensors'));
  };
  const frame = page.getByRole('group', { name: /Circuit graph/ });
  await frame.focus();
  await page.keyboard.press('ArrowRight'); // puts the keyboard cursor on the first node
  // The engine keeps one compiled intervention list cached. Toggling the cursor node on and off, each settled, makes
  // that list "cursor node ablated" both before and after the burst; any difference in tensors then is a leak.
  const onAndOff = async () => {
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('intervention')).toHaveCount(1);
    await settled(page);
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('intervention')).toHaveCount(0);
    await settled(page);
  };
  await onAndOff();
  const before = await tensors();
  await frame.focus(); // the memory refresh button took the focus; the cursor stays where it was
  // 200 toggles over five nodes: ten distinct states in turn, more than the page caches, so the engine works.
  for (let pass = 0; pass < 40; pass++) {
    for (let k = 0; k < 5; k++) {
      await page.keyboard.press('Enter');
      if (k < 4) await page.keyboard.press('ArrowRight');
    }
    for (let k = 0; k < 4; k++) await page.keyboard.press('ArrowLeft');
  }
  await onAndOff();
  await expect(page.getByTestId('intervention')).toHaveCount(0);
  await settled(page);
  const after = await tensors();
  expect(after).toBe(before);
  // Responsive: a frame is painted and a click is handled promptly after the burst.
  const t0 = Date.now();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByTestId('intervention')).toHaveCount(1);
  info.annotations.push({ type: 'memory', description: `tensors before ${before}, after ${after}; frame + undo in ${Date.now() - t0} ms` });
  await page.screenshot({ path: info.outputPath('toggles.png'), fullPage: true });
});
