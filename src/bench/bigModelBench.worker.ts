/// <reference lib="webworker" />
// The large-model measurement (src/harness/bigModelChecks.ts) in a worker, as the engine runs in the app: only a
// worker may block on the CSR pool (Atomics.wait), so only here are the forward pass and the toggles timed on all cores.
import '../model/zodNoEval'; // first: before any module builds a zod schema (CSP: no eval)
import { registerBrowserBackends } from '../model/backends/registerBrowserBackends';
import { bigModelRun, type BigModelOptions } from '../harness/bigModelChecks';
import { startBrowserCsrPool } from '../worker/csrPoolBrowser';

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (ev: MessageEvent<{ baseUrl: string; options: Omit<BigModelOptions, 'startCsrPool'> }>) => {
  try {
    registerBrowserBackends(ev.data.baseUrl);
    scope.postMessage({ ok: true, result: await bigModelRun({ ...ev.data.options, startCsrPool: () => startBrowserCsrPool() }) });
  } catch (e) {
    scope.postMessage({ ok: false, message: (e as Error).message ?? String(e) });
  }
};
