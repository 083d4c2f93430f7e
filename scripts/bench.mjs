#!/usr/bin/env node
// npm run bench: builds the app, serves it, runs bench.html in Debian's headless Chromium (with WebGPU enabled)
// and prints the JSON report. Options: --backends cpu,wasm,webgl,webgpu  --runs N  --model <id>
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { chromium } from '@playwright/test';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const query = new URLSearchParams({ backends: opt('backends', 'cpu,wasm,webgl,webgpu'), runs: opt('runs', '10') });
if (opt('model')) query.set('model', opt('model'));

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
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${base}/bench.html?${query}`);
  let last = '';
  for (;;) {
    const report = await page.evaluate(() => window.__bench);
    if (report) { console.log(JSON.stringify(report, null, 2)); break; }
    const text = await page.evaluate(() => document.getElementById('out')?.textContent ?? '');
    if (text !== last) { process.stderr.write(`bench: ${text.slice(0, 200)}\n`); last = text; }
    await new Promise((r) => setTimeout(r, 1000));
  }
} finally {
  await browser.close();
  stop();
}
