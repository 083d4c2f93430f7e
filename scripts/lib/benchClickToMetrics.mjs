import { strongEdgePoints } from './benchEdges.mjs';
// The explorer's task metrics as a user sees them: from a click on a weight edge of the circuit graph to the task loss
// and accuracy of "current" updated on screen (the row's stale mark gone and the metrics computed for the new state,
// then two animation frames), in the real page on a pinned backend. Each timed click ablates a different strong edge
// (a state evaluated before would be answered from the cache); an untimed second click restores it. Then a switch of
// the ablation mode is timed the same way (polling, so to within a few ms).
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

export async function clickToMetrics(browser, base, { model, task = 'single_double_quote', backend = 'wasm', runs = 10 }) {
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  try {
    await page.goto(`${base}/?${new URLSearchParams({ model, task, backend })}`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=graph-edges]')?.getAttribute('data-edges-drawn')) > 0, null, { timeout: 180_000 });
    const settled = async () => page.waitForFunction(() => {
      const m = document.querySelector('[data-testid=task-metrics]');
      const state = document.querySelector('[data-testid=intervention-list]')?.getAttribute('data-state');
      return m && m.getAttribute('data-for') === state && m.getAttribute('aria-busy') === 'false' && !m.querySelector('tr[aria-busy=true]')
        && document.querySelector('[data-testid=target-logits]')?.getAttribute('aria-busy') !== 'true';
    }, null, { timeout: 180_000 });
    await settled();
    const edges = await strongEdgePoints(page, { model, task, count: runs });
    const times = [];
    for (let i = 0; i < runs; i++) {
      const edge = edges[i % edges.length];
      const ms = await page.evaluate(async ({ x, y }) => {
        const table = document.querySelector('[data-testid=task-metrics]');
        const stateBefore = document.querySelector('[data-testid=intervention-list]').getAttribute('data-state');
        const t0 = performance.now();
        // A click on the graph where the edge is drawn, as the browser delivers one (the graph hit-tests it).
        document.querySelector('[data-testid=circuit-graph]').dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: x, clientY: y }));
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the task metrics did not update within 120 s')), 120_000);
          const check = () => {
            const state = document.querySelector('[data-testid=intervention-list]').getAttribute('data-state');
            const row = table.querySelector('tr[data-variant=current]');
            if (state !== stateBefore && table.getAttribute('data-for') === state && row?.getAttribute('data-stale') === 'false') {
              clearTimeout(timer);
              obs.disconnect();
              resolve();
            }
          };
          const obs = new MutationObserver(check);
          obs.observe(table, { attributes: true, subtree: true, childList: true });
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
    // A switch of ablation mode (mean -> zero and back), until every metric row is fresh again: the full model's row is
    // taken over, the circuit's is evaluated once per mode and then remembered.
    const modeSwitch = {};
    for (const mode of ['zero', 'mean']) {
      const t0 = Date.now();
      await page.getByRole('radio', { name: mode, exact: true }).check();
      await settled();
      modeSwitch[`to_${mode}_ms`] = Date.now() - t0;
    }
    return {
      model, task, backend, runs, click_to_metrics_ms_median: median(times), click_to_metrics_ms: times.map((t) => Math.round(t * 10) / 10),
      mode_switch: modeSwitch,
    };
  } finally {
    await page.close();
  }
}
