import { strongEdgePoints } from './benchEdges.mjs';
import { median, openExplorer, timedGraphClick } from './benchPage.mjs';
// The explorer's own latency as a user sees it: from a click on a weight edge of the circuit graph to the updated
// "current" target-logit bars painted on screen (the row's data-diff changes, then two animation frames), in the
// real page on a pinned backend. Each timed click ablates an edge; an untimed second click restores it.
export async function clickToBars(browser, base, { model, task = 'single_double_quote', backend = 'wasm', runs = 10 }) {
  const page = await openExplorer(browser, base, { model, task, backend });
  try {
    const current = page.locator('[data-testid=target-logits] .logit-row[data-variant=current]');
    await current.waitFor({ timeout: 180_000 });
    // The strongest ablatable edges: each changes the logits visibly.
    const edges = await strongEdgePoints(page, { model, task, count: Math.min(runs, 5) });
    const settled = async () => page.waitForFunction(() => document.querySelector('[data-testid=target-logits]')?.getAttribute('aria-busy') !== 'true', null, { timeout: 120_000 });
    await settled();
    const times = [];
    for (let i = 0; i < runs; i++) {
      const edge = edges[i % edges.length];
      times.push(await timedGraphClick(page, edge, {
        watch: '[data-testid=target-logits]', timeoutMs: 60_000, what: 'the logit bars',
        armDone: () => {
          const row = () => document.querySelector('[data-testid=target-logits] .logit-row[data-variant=current]');
          const before = row()?.getAttribute('data-diff');
          return () => row()?.getAttribute('data-diff') !== before;
        },
      }));
      await settled();
      await page.mouse.click(edge.x, edge.y); // restore, untimed
      await settled();
    }
    return { model, task, backend, runs, click_to_bars_ms_median: median(times), click_to_bars_ms: times.map((t) => Math.round(t * 10) / 10) };
  } finally {
    await page.close();
  }
}
