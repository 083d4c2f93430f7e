// Edges of the explorer's circuit graph for the click benchmarks. The graph draws its edges on a canvas, so an edge
// is clicked where it is drawn: halfway between its two nodes (read from the nodes' boxes on screen), at a point the
// graph's own hit test answers with that edge (its tooltip says which). Same approach as e2e/fixtures/graphEdges.ts.

/** Up to `count` ablatable weight edges of the task's circuit, strongest first, with a client point on each. */
export async function strongEdgePoints(page, { model, task, count }) {
  const circuit = await (await page.request.get(new URL(`/models/${model}/circuits/${task}.json`, page.url()).href)).json();
  const weights = circuit.edges.filter((e) => e.kind === 'weight').sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  const graph = page.getByTestId('circuit-graph');
  const out = [];
  for (const e of weights) {
    if (out.length >= count) break;
    const id = `${e.source}>${e.target}`;
    const box = async (node) => graph.locator(`g.node[data-node="${node}"] .shape`).boundingBox();
    const [s, t] = [await box(e.source), await box(e.target)];
    if (!s || !t) continue;
    // Whole pixels, where a click lands (a pointer move's coordinates need not be whole).
    const x = Math.round((s.x + s.width / 2 + t.x + t.width / 2) / 2);
    const y = Math.round((s.y + s.height / 2 + t.y + t.height / 2) / 2);
    await page.mouse.move(x, y);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const tip = await page.evaluate(() => {
      const el = document.querySelector('[data-testid=edge-tip]');
      return el && !el.hidden ? { edge: el.dataset.edge, ablatable: el.dataset.ablatable } : null;
    });
    if (tip?.edge === id && tip.ablatable === 'true') out.push({ id, x, y });
  }
  await page.mouse.move(1, 1);
  if (!out.length) throw new Error(`no ablatable edge of ${model}/${task} could be pointed at`);
  return out;
}
