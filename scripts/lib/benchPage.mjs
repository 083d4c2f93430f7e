// What the explorer benchmarks share: the median, opening the explorer on a task until its graph has drawn, and
// timing one click on the graph until the page shows its effect.

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** A new page with the explorer on `model`/`task`, pinned to `backend`, once its circuit graph has drawn edges. */
export async function openExplorer(browser, base, { model, task, backend }) {
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await page.goto(`${base}/?${new URLSearchParams({ model, task, backend })}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=graph-edges]')?.getAttribute('data-edges-drawn')) > 0, null, { timeout: 180_000 });
  return page;
}

/**
 * Milliseconds from a click on the graph at the edge's point (dispatched as the browser delivers one; the graph
 * hit-tests it) until the page shows its effect, plus two animation frames for the paint. `watch` is the selector of
 * the element whose subtree changes tell; `armDone` (run in the page just before the click) reads the state before
 * it and returns the check that the effect has landed.
 */
export async function timedGraphClick(page, edge, { watch, armDone, timeoutMs, what }) {
  const arm = await page.evaluateHandle(`(${armDone})`); // the function itself, made in the page
  try {
    return await page.evaluate(async ({ x, y, watch, timeoutMs, what, arm }) => {
      const done = arm();
      const t0 = performance.now();
      document.querySelector('[data-testid=circuit-graph]').dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: x, clientY: y }));
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what} did not update within ${timeoutMs / 1000} s`)), timeoutMs);
        const check = () => { if (done()) { clearTimeout(timer); obs.disconnect(); resolve(); } };
        const obs = new MutationObserver(check);
        obs.observe(document.querySelector(watch), { attributes: true, subtree: true, childList: true });
        check();
      });
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return performance.now() - t0;
    }, { x: edge.x, y: edge.y, watch, timeoutMs, what, arm });
  } finally {
    await arm.dispose();
  }
}
