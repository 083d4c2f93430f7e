#!/usr/bin/env node
// npm run bench: builds the app, serves it, runs bench.html in Debian's headless Chromium (with WebGPU enabled)
// and prints the JSON report. Options: --backends cpu,wasm,webgl,webgpu  --runs N  --model <id> (default sparse-py-2l)
// Large models (a separate entry, "large_model", one result list per model): for each of --large-model (default
// _bridges2,_yolo2: the csp_bridges2- and csp_yolo2-shaped random models, scripts/make-bridges2-model.py --shape ...)
// whose folder exists, each weight representation (--large-options sparse:csr,sparse:densify,dense) is loaded on wasm in
// a fresh browser: load time, forward and node-toggle latency on the 64-token golden prompt (in a worker: also the
// forward and the explorer's incremental toggle of a last- and a first-layer node on one thread and on all the cores'
// CSR worker pool, with the ratio, "byThreads"; the preview server's COOP/COEP headers make that possible), accuracy, the memory plan,
// and the renderer's peak RSS (VmHWM); with the first option also a --long-prompt (default 1024) token prompt: its
// forward time (--long-runs timed runs, default 1) and peak backend memory against the plan's reservation for it.
// --large-only skips the small-model bench, --no-large skips this entry.
// "explorer_click_to_bars": in the real page, the median time from a click on a circuit edge to the updated target
// logit bars on screen, on wasm (and on webgpu with --click-backends wasm,webgpu where a real GPU is present).
// "explorer_click_to_metrics": the same to the updated task loss and accuracy over the task's test pairs, with the
// full re-evaluation of one such state timed on the bench page in the same run (wasm) and the ratio of the two.
// "graph_redraw": the median canvas redraw of the dense twin's quote circuit (~67,000 edges) after a zoom step, in the
// real page (--redraw-model <id> picks another model; --graph-only runs this entry alone).
// "importance" (in the wasm entry): the explorer's importance job (every node and edge of a circuit also ablated
// over the test pairs, then the default core) on a ~100-node circuit, median of three runs; --importance-task <task>
// picks another circuit (default from_import, 100 nodes in sparse-py-2l).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromium } from '@playwright/test';
import { clickToBars } from './lib/benchClickToBars.mjs';
import { clickToMetrics } from './lib/benchClickToMetrics.mjs';
import { graphRedraw } from './lib/benchGraphRedraw.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const flag = (name) => args.includes(`--${name}`);
const query = new URLSearchParams({ backends: opt('backends', 'cpu,wasm,webgl,webgpu'), runs: opt('runs', '10') });
// One model for every small-model entry, so that a click's time and the full re-evaluation it is divided by are of the
// same model: sparse-py-2l, the model the recorded figures (README, docs/explorer.md) were measured on.
const benchModel = opt('model', 'sparse-py-2l');
query.set('model', benchModel);
if (opt('importance-task')) query.set('importanceTask', opt('importance-task'));

process.stderr.write('bench: building…\n');
// A build of its own, so that a concurrent `vite build` of dist/ (e.g. by the e2e tests) cannot pull files away.
const outDir = '.bench/dist';
const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn', '--outDir', outDir, '--emptyOutDir'], { stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) process.exit(build.status ?? 1);
// A free port, so that another preview server already running can never answer in our place.
const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => { const p = probe.address().port; probe.close(() => resolve(p)); });
});
const server = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort', '--outDir', outDir], { stdio: 'ignore', detached: true });
server.on('exit', (code) => { if (code) { console.error(`bench: preview server exited with ${code}`); process.exit(1); } });
const stop = () => { try { process.kill(-server.pid); } catch { /* already gone */ } };
process.on('exit', stop);

async function waitForServer(url) {
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`preview server did not start at ${url}`);
}

const base = `http://127.0.0.1:${port}`;
await waitForServer(base);
const launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-precise-memory-info'],
});

/** Opens a bench.html URL and waits for its report. */
async function runPage(browser, url) {
  const page = await browser.newPage();
  await page.goto(url);
  let last = '';
  for (;;) {
    const report = await page.evaluate(() => window.__bench);
    if (report) return report;
    const text = await page.evaluate(() => document.getElementById('out')?.textContent ?? '');
    if (text !== last) { process.stderr.write(`bench: ${text.slice(0, 200)}\n`); last = text; }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Peak and current resident memory of the browser's renderer processes (Linux /proc; CDP lists the processes). */
async function rendererMemory(browser) {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
  const kib = (text, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return processInfo.filter((p) => p.type === 'renderer').map((p) => {
    try {
      const status = readFileSync(`/proc/${p.id}/status`, 'utf8');
      return { pid: p.id, peak_rss_bytes: kib(status, 'VmHWM'), rss_bytes: kib(status, 'VmRSS') };
    } catch {
      return { pid: p.id, error: 'not readable' };
    }
  });
}

async function largeModelEntry(id) {
  if (!existsSync(`${outDir}/models/${id}/golden.safetensors`)) {
    return { model: id, skipped: `public/models/${id}/ is absent (create it with: .venv/bin/python scripts/make-bridges2-model.py --shape ${id.replace(/^_/, '')})` };
  }
  const results = [];
  const options = opt('large-options', 'sparse:csr,sparse:densify,dense').split(',');
  for (const option of options) {
    const [weights, kernel = 'csr'] = option.split(':');
    const q = new URLSearchParams({ big: id, backend: 'wasm', weights, kernel, runs: opt('large-runs', '5') });
    if (option === options[0] && Number(opt('long-prompt', '1024')) > 0) {
      q.set('longPrompt', opt('long-prompt', '1024'));
      q.set('longRuns', opt('long-runs', '1'));
    }
    process.stderr.write(`bench: large model ${id}, ${option}\n`);
    const browser = await launch(); // a fresh renderer per option: its peak RSS is this option's alone
    try {
      const report = await runPage(browser, `${base}/bench.html?${q}`);
      results.push({ option, ...report, renderer_memory: await rendererMemory(browser) });
    } catch (e) {
      results.push({ option, error: e.message });
    } finally {
      await browser.close();
    }
  }
  return { model: id, backend: 'wasm', results };
}

try {
  let report = {};
  if (flag('graph-only')) {
    const browser = await launch();
    try {
      report = { graph_redraw: await graphRedraw(browser, base, { model: opt('redraw-model', 'dense-py-2l'), runs: Number(opt('runs', '10')) }) };
    } finally {
      await browser.close();
    }
    console.log(JSON.stringify(report, null, 2));
    process.exit(0);
  }
  if (!flag('large-only')) {
    const browser = await launch();
    try {
      report = await runPage(browser, `${base}/bench.html?${query}`);
      const clicks = [];
      for (const backend of opt('click-backends', 'wasm').split(',')) {
        process.stderr.write(`bench: explorer click -> bars on ${backend}\n`);
        clicks.push(await clickToBars(browser, base, { model: benchModel, backend, runs: Number(opt('runs', '10')) }));
      }
      const metrics = [];
      for (const backend of opt('click-backends', 'wasm').split(',')) {
        process.stderr.write(`bench: explorer click -> task metrics on ${backend}\n`);
        const m = await clickToMetrics(browser, base, { model: benchModel, backend, runs: Number(opt('runs', '10')) });
        // The full re-evaluation of the same task and edges, on the bench page's wasm run above (same browser, same run).
        const engine = report.results?.find((r) => r.backend === 'wasm')?.task_metrics;
        const full = engine?.full_reevaluation_ms_median;
        metrics.push({
          ...m, full_reevaluation_ms_median: full ?? null, ratio_to_full_reevaluation: full ? m.click_to_metrics_ms_median / full : null,
          full_reevaluation_tf_topk_ms_median: engine?.full_reevaluation_tf_topk_ms_median ?? null,
        });
      }
      process.stderr.write('bench: graph redraw after a zoom\n');
      const redraw = await graphRedraw(browser, base, { model: opt('redraw-model', 'dense-py-2l'), runs: Number(opt('runs', '10')) });
      report = { ...report, explorer_click_to_bars: clicks, explorer_click_to_metrics: metrics, graph_redraw: redraw };
    } finally {
      await browser.close();
    }
  }
  if (!flag('no-large')) {
    const large = [];
    for (const id of opt('large-model', '_bridges2,_yolo2').split(',')) large.push(await largeModelEntry(id));
    report = { ...report, large_model: large };
  }
  console.log(JSON.stringify(report, null, 2));
} finally {
  stop();
}
