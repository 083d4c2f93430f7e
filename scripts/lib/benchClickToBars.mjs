import { strongEdgePoints } from './benchEdges.mjs';
// The explorer's own latency as a user sees it: from a click on a weight edge of the circuit graph to the updated
// "current" target-logit bars painted on screen (the row's data-diff changes, then two animation frames), in the
// real page on a pinned backend. Each timed click ablates an edge; an untimed second click restores it.
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

export async function clickToBars(browser, base, { model, task = 'single_double_quote', backend = 'wasm', runs = 10 }) {
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  try {
    await page.goto(`${base}/?${new URLSearchParams({ model, task, backend })}`);
    const current = page.locator('[data-testid=target-logits] .logit-row[data-variant=current]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=graph-edges]')?.getAttribute('data-edges-drawn')) > 0, null, { timeout: 180_000 });
    await current.waitFor({ timeout: 180_000 });
    // The strongest ablatable edges: each changes the logits visibly.
    const edges = await strongEdgePoints(page, { model, task, count: Math.min(runs, 5) });
    const settled = async () => page.waitForFunction(() => document.querySelector('[data-testid=target-logits]')?.getAttribute('aria-busy') !== 'true', null, { timeout: 120_000 });
    await settled();
    const times = [];
    for (let i = 0; i < runs; i++) {
      const edge = edges[i % edges.length];
      const ms = await page.evaluate(async ({ x, y }) => {
        const row = () => document.querySelector('[data-testid=target-logits] .logit-row[data-variant=current]');
        const before = row()?.getAttribute('data-diff');
        const t0 = performance.now();
        // A click on the graph where the edge is drawn, as the browser delivers one (the graph hit-tests it).
        document.querySelector('[data-testid=circuit-graph]').dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: x, clientY: y }));
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the logit bars did not change within 60 s')), 60_000);
          const check = () => { if (row()?.getAttribute('data-diff') !== before) { clearTimeout(timer); obs.disconnect(); resolve(); } };
          const obs = new MutationObserver(check);
          obs.observe(document.querySelector('[data-testid=target-logits]'), { attributes: true, subtree: true, childList: true });
          check();
        });
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        return performance.now() - t0;
      }, { x: edge.x, y: edge.y });
      times.push(ms);
      await settled();
      await page.mouse.click(edge.x, edge.y); // restore, untimed
      await settled();
    }
    return { model, task, backend, runs, click_to_bars_ms_median: median(times), click_to_bars_ms: times.map((t) => Math.round(t * 10) / 10) };
  } finally {
    await page.close();
  }
}
