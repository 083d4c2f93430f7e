// bench.html?big=<model id>: one large-model measurement (src/harness/bigModelChecks.ts) for scripts/bench.mjs, which
// runs each weight representation in a fresh browser so that the renderer's peak memory belongs to that option alone;
// &longPrompt=<tokens> also times a prompt that long (&longRuns= timed runs). It runs in a worker
// (bigModelBench.worker.ts), where the sparse kernel's pool can run: forward and toggles are timed on one thread and on all.
import { isBackendName } from '../model/backends/types';
import type { BigModelOptions, bigModelRun } from '../harness/bigModelChecks';
import { SPARSE_KERNELS, type SparseKernel } from '../model/sparseLinear';

export async function bigModelBench(params: URLSearchParams): Promise<unknown> {
  const id = params.get('big')!;
  const backend = params.get('backend') ?? 'wasm';
  if (!isBackendName(backend)) throw new Error(`unknown backend ${backend}`);
  const weights = params.get('weights');
  const kernel = params.get('kernel');
  const options: Omit<BigModelOptions, 'startCsrPool'> = {
    baseUrl: `${import.meta.env.BASE_URL}models/${id}/`,
    backend,
    representation: weights === 'dense' || weights === 'sparse' ? weights : 'auto',
    // Absent: the backend's default (webgpu-csr on webgpu, csr elsewhere).
    kernel: SPARSE_KERNELS.includes(kernel as SparseKernel) ? (kernel as SparseKernel) : undefined,
    runs: Number(params.get('runs') ?? 5),
    longPrompt: Number(params.get('longPrompt') ?? 0) || undefined,
    longRuns: Number(params.get('longRuns') ?? 1),
  };
  const worker = new Worker(new URL('./bigModelBench.worker.ts', import.meta.url), { type: 'module', name: 'big-model-bench' });
  type Reply = { ok: true; result: Awaited<ReturnType<typeof bigModelRun>> } | { ok: false; message: string };
  const reply = await new Promise<Reply>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<Reply>) => resolve(ev.data);
    worker.onerror = (ev) => reject(new Error(`the large-model bench worker failed: ${ev.message}`));
    worker.postMessage({ baseUrl: import.meta.env.BASE_URL, options });
  }).finally(() => worker.terminate());
  if (!reply.ok) throw new Error(reply.message);
  const r = reply.result;
  if (!('sites' in r) || !r.sites) return r;
  const { sites, ...rest } = r;
  return { ...rest, sitesMaxRelDiff: Math.max(...Object.values(sites).map((s) => s.relDiff)) };
}
