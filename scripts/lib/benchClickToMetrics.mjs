import { strongEdgePoints } from './benchEdges.mjs';
import { median, openExplorer, timedGraphClick } from './benchPage.mjs';
// The explorer's task metrics as a user sees them: from a click on a weight edge of the circuit graph to the task loss
// and accuracy of "current" updated on screen (the row's stale mark gone and the metrics computed for the new state,
// then two animation frames), in the real page on a pinned backend. Each timed click ablates a different strong edge
// (a state evaluated before would be answered from the cache); an untimed second click restores it. Then a switch of
// the ablation mode is timed the same way (polling, so to within a few ms).
export async function clickToMetrics(browser, base, { model, task = 'single_double_quote', backend = 'wasm', runs = 10 }) {
  const page = await openExplorer(browser, base, { model, task, backend });
  try {
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
      times.push(await timedGraphClick(page, edge, {
        watch: '[data-testid=task-metrics]', timeoutMs: 120_000, what: 'the task metrics',
        armDone: () => {
          const table = document.querySelector('[data-testid=task-metrics]');
          const stateNow = () => document.querySelector('[data-testid=intervention-list]').getAttribute('data-state');
          const stateBefore = stateNow();
          return () => {
            const state = stateNow();
            return state !== stateBefore && table.getAttribute('data-for') === state
              && table.querySelector('tr[data-variant=current]')?.getAttribute('data-stale') === 'false';
          };
        },
      }));
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
