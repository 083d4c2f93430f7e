import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';

/**
 * Every drawn edge of a circuit is ablatable: on the shipped default model, one weight, one residual and one q·k edge
 * of the quote task's circuit are toggled from the graph's keyboard cursor (a node shift-clicked, E to its edge,
 * Enter), one after another. After each, the target logits the page shows equal the runtime's own result for the
 * same intervention list (harness.html, main thread, same backend) to 1e-4; the interventions panel lists the edge;
 * switching the ablation mode, undo and the share link keep the numbers.
 */
interface CircuitEdge { source: string; target: string; weight: number; kind: 'weight' | 'residual' | 'qk' }
interface Circuit { nodes: { site: string; channel: number }[]; edges: CircuitEdge[]; ablated_edges?: { source: string; target: string }[] }
interface TaskPrompt { tokens: number[]; correct: number; alternative: number }
type Iv = Record<string, unknown>;

const graphFrame = (page: Page) => page.getByRole('group', { name: /^Circuit graph/ });
const current = (page: Page) => page.locator('[data-testid=target-logits] [data-variant=current]');

/** Waits until the shown logits were computed for the state the controls show; returns (correct, alternative). */
async function shownLogits(page: Page): Promise<[number, number]> {
  const state = page.getByTestId('intervention-list');
  await expect(async () => {
    const sig = await state.getAttribute('data-state');
    expect(await page.getByTestId('target-logits').getAttribute('data-for')).toBe(sig);
    expect(await page.getByTestId('target-logits').getAttribute('aria-busy')).toBe('false');
  }).toPass({ timeout: 90_000 });
  return [Number(await current(page).getAttribute('data-correct')), Number(await current(page).getAttribute('data-alternative'))];
}

/** The runtime's (correct, alternative) logits for prompts under a list, computed outside the explorer: main thread,
 *  one whole prompt at a time. */
async function runtimeLogitsOf(page: Page, model: string, prompts: TaskPrompt[], list: Iv[]): Promise<[number, number][]> {
  const backend = /backend: (\w+)/.exec(await page.getByTestId('backend').innerText())![1]!;
  const harness = await page.context().newPage();
  await harness.goto('/harness.html');
  await expect(harness.locator('#out')).toHaveText('ready');
  const out = await harness.evaluate(
    ([base, b, ps, ivs]) => (window as unknown as { runtimeChecks: { targetLogits: (...a: unknown[]) => Promise<[number, number][]> } }).runtimeChecks.targetLogits(base, b, ps, ivs),
    [`/models/${model}/`, backend, prompts.map((p) => ({ tokens: p.tokens, correct: p.correct, alternative: p.alternative })), list] as const,
  );
  await harness.close();
  return out;
}
const runtimeLogits = async (page: Page, model: string, prompt: TaskPrompt, list: Iv[]) => (await runtimeLogitsOf(page, model, [prompt], list))[0]!;

/** Puts the graph's keyboard cursor on the edge (from its source node, E until it is reached) and toggles it. */
async function toggleFromGraph(page: Page, e: CircuitEdge): Promise<void> {
  await page.locator(`g.node[data-node="${e.source}"]`).click({ modifiers: ['Shift'] });
  await graphFrame(page).focus();
  const status = page.locator('.graph-status');
  for (let i = 0; !((await status.innerText()).includes(`: ${e.source} → ${e.target},`)); i++) {
    expect(i, `E reaches ${e.source} → ${e.target}`).toBeLessThan(300);
    await page.keyboard.press('e');
  }
  await expect(status).toContainText('Enter toggles its ablation');
  await page.keyboard.press('Enter');
}

const close = (got: [number, number], want: [number, number], what: string) => {
  expect(Math.abs(got[0] - want[0]), `${what}: correct-token logit`).toBeLessThanOrEqual(1e-4);
  expect(Math.abs(got[1] - want[1]), `${what}: alternative-token logit`).toBeLessThanOrEqual(1e-4);
};

test('a weight, a residual and a q·k edge clicked in the graph give the runtime\'s logits', async ({ page, context }, info) => {
  test.setTimeout(360_000);
  const index = (await (await page.request.get('/models/index.json')).json()) as { models: { id: string; default?: boolean }[] };
  const model = index.models.find((m) => m.default)!.id;
  const task = 'single_double_quote';
  const circuit = (await (await page.request.get(`/models/${model}/circuits/${task}.json`)).json()) as Circuit;
  const pairs = ((await (await page.request.get(`/models/${model}/tasks/${task}.json`)).json()) as { test: { a: TaskPrompt; b: TaskPrompt }[] }).test;
  const prompt = pairs[0]!.a;
  const strongest = (kind: CircuitEdge['kind'], prefer = (_: CircuitEdge) => true) => {
    const of = circuit.edges.filter((e) => e.kind === kind).sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
    return of.find(prefer) ?? of[0]!;
  };
  // A residual edge across layers (into a later layer's read, not the final one) when the circuit has one.
  const edges = [strongest('weight'), strongest('residual', (e) => !e.target.startsWith('final_resid') && e.source[0] !== e.target[0]), strongest('qk')];
  expect(edges.map((e) => e.kind)).toEqual(['weight', 'residual', 'qk']);

  await page.goto(`/?model=${model}&task=${task}&pair=0&side=a`);
  await expect(page.getByTestId('circuit-graph').locator('g.node').first()).toBeVisible();
  const pageMode = async () => (await page.locator('input[name=mode]:checked').evaluate((el) => el.parentElement!.textContent!.trim())) as 'mean' | 'zero';
  const mode = await pageMode();
  const inCircuit = (await page.locator('input[name=view]:checked').evaluate((el) => el.parentElement!.textContent!)).includes('circuit');
  // "Restrict to circuit": the node restriction, plus, for an edge circuit, its unkept edges between kept nodes.
  const base: Iv[] = inCircuit ? [
    { kind: 'circuit', nodes: circuit.nodes.map((n) => `${n.site}:${n.channel}`), mode },
    ...(circuit.ablated_edges ?? []).map((e) => ({ kind: 'edge', source: e.source, target: e.target, mode })),
  ] : [];
  // The circuit restriction follows the page's mode; each edge keeps the mode it has in the list.
  const listOf = (es: CircuitEdge[], m: string, circuitMode = m): Iv[] =>
    [...base.map((b) => ({ ...b, mode: circuitMode })), ...es.map((e) => ({ kind: 'edge', source: e.source, target: e.target, mode: m }))];

  let previous = await shownLogits(page);
  close(previous, await runtimeLogits(page, model, prompt, listOf([], mode)), 'before any edge');
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i]!;
    await toggleFromGraph(page, e);
    await expect(page.getByTestId('intervention')).toHaveCount(i + 1);
    await expect(page.getByTestId('intervention').nth(i)).toContainText(`edge ${e.source} → ${e.target} (${mode})`);
    const shown = await shownLogits(page);
    close(shown, await runtimeLogits(page, model, prompt, listOf(edges.slice(0, i + 1), mode)), `${e.kind} edge ${e.source} → ${e.target}`);
    expect(shown, `ablating the ${e.kind} edge changes the logits`).not.toEqual(previous);
    info.annotations.push({ type: `${e.kind} edge`, description: `${e.source} → ${e.target}: correct − alternative ${(previous[0] - previous[1]).toFixed(4)} -> ${(shown[0] - shown[1]).toFixed(4)}` });
    previous = shown;
  }
  await page.screenshot({ path: info.outputPath('three-edges-ablated.png'), fullPage: true });

  // The task metrics (the worker's staged evaluation: packed prompts, cached streams) agree with whole forward passes.
  const metrics = page.locator('[data-testid=task-metrics] [data-variant=current]');
  await expect(async () => {
    expect(await page.getByTestId('task-metrics').getAttribute('data-for')).toBe(await page.getByTestId('intervention-list').getAttribute('data-state'));
    expect(await page.getByTestId('task-metrics').getAttribute('aria-busy')).toBe('false');
  }).toPass({ timeout: 120_000 });
  const diffs = (await runtimeLogitsOf(page, model, pairs.flatMap((p) => [p.a, p.b]), listOf(edges, mode))).map(([c, a]) => c - a);
  expect(Number(await metrics.getAttribute('data-uncalibrated-loss'))).toBeCloseTo(diffs.reduce((s, d) => s + Math.log1p(Math.exp(-d)), 0) / diffs.length, 4);
  expect(Number(await metrics.getAttribute('data-uncalibrated-accuracy'))).toBeCloseTo(diffs.filter((d) => d > 0).length / diffs.length, 6);

  // The other ablation mode applies to every active edge, as one step.
  const other = mode === 'mean' ? 'zero' : 'mean';
  await page.locator('label').filter({ has: page.locator('input[name=mode]') }).filter({ hasText: other }).locator('input').check();
  close(await shownLogits(page), await runtimeLogits(page, model, prompt, listOf(edges, other)), `all three in ${other} mode`);

  // Undo (the edges' mode switch, then the q·k edge; the page's mode stays as chosen) and the shared link.
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByTestId('intervention')).toHaveCount(2);
  await expect(page.getByTestId('intervention').nth(1)).toContainText(`edge ${edges[1]!.source} → ${edges[1]!.target} (${mode})`);
  const undone = await shownLogits(page);
  close(undone, await runtimeLogits(page, model, prompt, listOf(edges.slice(0, 2), mode, await pageMode())), 'after undo');
  await expect.poll(() => new URL(page.url()).searchParams.get('iv')).toContain(`${edges[1]!.source}~${edges[1]!.target}`);
  const again = await context.newPage();
  await again.goto(page.url());
  await expect(again.getByTestId('intervention')).toHaveCount(2);
  expect(await shownLogits(again)).toEqual(undone);
  await again.close();
});
