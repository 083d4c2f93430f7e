import { readFileSync } from 'node:fs';
import { median } from './benchPage.mjs';
import { LARGE_CIRCUIT } from './largeCircuit.mjs';

// "graph_redraw": the circuit graph's canvas after a zoom, in the real page, on the dense twin's node-pruned quote
// circuit (~67,000 edges). Each run dispatches one wheel step on the graph (d3's zoom redraws in the next animation frame) and reads one
// pixel back after that frame, which makes the browser finish rasterising the canvas: "zoom_frame" is that time, what
// each frame of a zoom or pan costs (for a large edge set: the last full drawing moved and scaled). The full drawing of
// every edge follows when the view has been still for SETTLE_MS (src/ui/CircuitGraph/edgeCanvas.ts): "full_redraw" is
// the length of the frame that drew it, from the frame before to its pixels read back.

export async function graphRedraw(browser, base, { model = 'dense-py-2l', task = 'single_double_quote', runs = 10 }) {
  // The large circuit belongs to the default model and task; any other is timed on its own shipped circuit.
  const circuitFile = model === LARGE_CIRCUIT.model && task === LARGE_CIRCUIT.task ? LARGE_CIRCUIT.path : null;
  // Service workers off, so that the route below answers the page's request for the circuit.
  const context = await browser.newContext({ viewport: { width: 1500, height: 950 }, serviceWorkers: 'block' });
  const page = await context.newPage();
  try {
    let circuit;
    if (circuitFile) {
      const body = readFileSync(circuitFile, 'utf8');
      circuit = JSON.parse(body);
      await page.route(`**/models/${model}/circuits/${task}.json`, (r) => r.fulfill({ contentType: 'application/json', body }));
    } else {
      circuit = await (await page.request.get(`${base}/models/${model}/circuits/${task}.json`)).json();
    }
    await page.goto(`${base}/?${new URLSearchParams({ model, task, backend: 'wasm' })}`);
    await page.waitForFunction((n) => document.querySelector('[data-testid=graph-edges]')?.getAttribute('data-edges-drawn') === String(n), circuit.edges.length, { timeout: 180_000 });
    const frames = [];
    const fulls = [];
    const drawCalls = [];
    for (let i = 0; i < runs; i++) {
      const r = await page.evaluate(async (step) => {
        const svg = document.querySelector('[data-testid=circuit-graph]');
        const canvas = document.querySelector('[data-testid=graph-edges]');
        const box = svg.getBoundingClientRect();
        const frame = () => new Promise((res) => requestAnimationFrame(res));
        const pixels = () => canvas.getContext('2d').getImageData(0, 0, 1, 1);
        await frame(); // start on a fresh frame
        const fullBefore = Number(canvas.dataset.fullDraws);
        const t0 = performance.now();
        svg.dispatchEvent(new WheelEvent('wheel', { bubbles: true, cancelable: true, deltaY: step, clientX: box.left + box.width / 2, clientY: box.top + box.height / 2 }));
        await frame(); // the graph drew in this frame, before this callback
        pixels();
        const zoomFrame = performance.now() - t0;
        // Then the full drawing: wait frame by frame until it has run, and time its rasterisation from its frame.
        for (;;) {
          const f0 = performance.now();
          await frame();
          if (Number(canvas.dataset.fullDraws) > fullBefore) {
            pixels();
            // The frame that drew it lasted from f0 to here (drawing calls, rasterising, painting); any rasterising
            // left is finished by the read-back.
            return { zoomFrame, full: performance.now() - f0, draw: Number(canvas.dataset.drawMs) };
          }
        }
      }, i % 2 ? 120 : -120); // in and out, so every run draws at a similar scale
      frames.push(r.zoomFrame);
      fulls.push(r.full);
      drawCalls.push(r.draw);
    }
    return {
      model, task, circuit: circuitFile ?? `public/models/${model}/circuits/${task}.json`, edges: circuit.edges.length, runs,
      zoom_frame_ms_median: median(frames), zoom_frame_ms: frames.map((t) => Math.round(t * 10) / 10),
      full_redraw_ms_median: median(fulls), full_redraw_ms: fulls.map((t) => Math.round(t * 10) / 10),
      full_redraw_draw_calls_ms_median: median(drawCalls),
    };
  } finally {
    await context.close();
  }
}
