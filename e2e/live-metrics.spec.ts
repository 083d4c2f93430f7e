import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';
import { ablatableEdges, clickEdge } from './fixtures/graphEdges';

/**
 * The task metrics after a change (docs/explorer.md, "Engine"): while a row's value is recomputed it stays on screen
 * marked stale (class, aria-busy, dimmed, title "updating…") until the new one lands, and rows that the change does not
 * touch are never recomputed: the full model's row neither after a toggle nor after a switch of ablation mode.
 * Runs on the shipped sparse-py-2l and its quote circuit, on wasm.
 */
const MODEL = 'sparse-py-2l';
const TASK = 'single_double_quote';

async function settled(page: Page): Promise<void> {
  await expect(async () => {
    const sig = await page.getByTestId('intervention-list').getAttribute('data-state');
    expect(await page.getByTestId('task-metrics').getAttribute('data-for')).toBe(sig);
    expect(await page.getByTestId('task-metrics').getAttribute('aria-busy')).toBe('false');
    expect(await page.locator('[data-testid=task-metrics] tr[aria-busy=true]').count()).toBe(0);
  }).toPass({ timeout: 120_000 });
}

interface RowState { stale: string | null; busy: string | null; cls: string; title: string | null; opacity: number; loss: string | null }
type Snapshot = Record<string, RowState>;

/** Records every state the metric rows pass through from now on: a stale mark may last less than any polling interval. */
async function recordRows(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __rows: unknown[] };
    w.__rows = [];
    const table = document.querySelector('[data-testid=task-metrics]')!;
    const snap = () => {
      const out: Record<string, unknown> = {};
      for (const tr of table.querySelectorAll('tr[data-variant]')) {
        const value = tr.children[1] as HTMLElement;
        out[tr.getAttribute('data-variant')!] = {
          stale: tr.getAttribute('data-stale'), busy: tr.getAttribute('aria-busy'), cls: tr.className,
          title: value.getAttribute('title'), opacity: Number(getComputedStyle(value).opacity), loss: tr.getAttribute('data-loss'),
        };
      }
      w.__rows.push(out);
    };
    new MutationObserver(snap).observe(table, { attributes: true, childList: true, subtree: true, characterData: true });
  });
}

const recorded = (page: Page) => page.evaluate(() => (window as unknown as { __rows: Snapshot[] }).__rows);

test('a stale metric is marked until the new one lands; the full model and circuit rows are never re-evaluated', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto(`/?model=${MODEL}&task=${TASK}&pair=0&side=a&backend=wasm`);
  await expect(page.getByTestId('graph-edges')).toHaveAttribute('data-edges-drawn', /^[1-9]/, { timeout: 120_000 });
  await settled(page);
  const row = (label: string) => page.locator(`[data-testid=task-metrics] tr[data-variant=${label}]`);
  const before = {
    current: await row('current').getAttribute('data-loss'), full: await row('full').getAttribute('data-loss'), circuit: await row('circuit').getAttribute('data-loss'),
  };
  expect(Number(before.full)).toBeGreaterThan(0);

  // 1. Ablate the strongest weight edge of the circuit.
  await recordRows(page);
  const circuitFile = (await (await page.request.get(`/models/${MODEL}/circuits/${TASK}.json`)).json()) as Parameters<typeof ablatableEdges>[0];
  await clickEdge(page, ablatableEdges(circuitFile));
  await expect(page.getByTestId('intervention')).toHaveCount(1);
  await settled(page);
  let log = await recorded(page);
  const firstStale = log.findIndex((s) => s.current?.stale === 'true');
  expect(firstStale, 'the current row was marked stale after the click').toBeGreaterThanOrEqual(0);
  // Marked: the old value still on screen, dimmed, busy, titled.
  expect(log[firstStale]!.current).toMatchObject({ busy: 'true', cls: 'stale', title: 'updating…', loss: before.current });
  expect(log[firstStale]!.current!.opacity).toBeLessThan(1);
  // ... until the new one lands, unmarked.
  const landed = log.findIndex((s, i) => i > firstStale && s.current?.stale === 'false');
  expect(landed, 'the new value landed').toBeGreaterThan(firstStale);
  const after = log.at(-1)!.current!;
  expect(after).toMatchObject({ stale: 'false', busy: 'false', cls: '', title: null, opacity: 1 });
  expect(after.loss).not.toBe(before.current);
  // The full model's and the circuit's rows did not move or go stale: only "current" was evaluated.
  expect(log.filter((s) => s.full?.stale !== 'false' || s.full?.loss !== before.full)).toEqual([]);
  expect(log.filter((s) => s.circuit?.stale !== 'false' || s.circuit?.loss !== before.circuit)).toEqual([]);

  // 2. Switch to zero ablation: the full model's row is the same under both modes and is taken over, not recomputed;
  //    the circuit's row and "current" are recomputed, marked stale meanwhile.
  await recordRows(page);
  await page.getByRole('radio', { name: 'zero' }).check();
  await settled(page);
  log = await recorded(page);
  expect(log.filter((s) => s.full?.stale !== 'false' || s.full?.loss !== before.full)).toEqual([]);
  expect(log.some((s) => s.circuit?.stale === 'true'), 'the circuit row was marked stale while recomputed').toBe(true);
  expect(log.at(-1)!.circuit).toMatchObject({ stale: 'false', busy: 'false' });
});
