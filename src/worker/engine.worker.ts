/// <reference lib="webworker" />
// The engine runs in this worker so that loading and forward passes never freeze the page.
import '../model/zodNoEval'; // first: before any module builds a zod schema (CSP: no eval)
import { registerBrowserBackends } from '../model/backends/registerBrowserBackends';
import { convertReleaseToZip } from './convertRelease';
import { startBrowserCsrPool } from './csrPoolBrowser';
import { Engine } from './engine';
import type { EngineReply, EngineRequest } from './protocol';
import { yieldToMessages } from './yieldToMessages';

const engine = new Engine();
const inFlight = new Map<number, AbortController>();
const post = (r: EngineReply) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(r);

// Requests run one at a time, in order: a forward pass must never overlap a model swap.
let queue: Promise<void> = Promise.resolve();

self.onmessage = (ev: MessageEvent<EngineRequest>) => {
  const req = ev.data;
  if (req.type === 'cancel') {
    inFlight.get(req.target)?.abort();
    post({ id: req.id, type: 'ok', result: null });
    return;
  }
  const ctrl = new AbortController();
  inFlight.set(req.id, ctrl);
  queue = queue.then(async () => {
    try {
      // Let cancels posted after this request arrive first: a superseded request then never starts.
      if (req.type !== 'init' && req.type !== 'load') {
        await yieldToMessages();
        ctrl.signal.throwIfAborted();
      }
      const result = await handle(req, ctrl.signal);
      post({ id: req.id, type: 'ok', result });
    } catch (e) {
      post({ id: req.id, type: 'error', message: (e as Error).message ?? String(e), cancelled: ctrl.signal.aborted });
    } finally {
      inFlight.delete(req.id);
    }
  });
};

async function handle(req: Exclude<EngineRequest, { type: 'cancel' }>, signal: AbortSignal): Promise<unknown> {
  switch (req.type) {
    case 'init': {
      registerBrowserBackends(req.baseUrl);
      const choice = await engine.init(req.pinnedBackend, req.memory);
      // All the cores for the sparse 'csr' kernel where the page is cross-origin isolated (else one, said in the plan).
      engine.useCsrThreads(await startBrowserCsrPool());
      return choice;
    }
    case 'load':
      return engine.load(req.source, (progress) => post({ id: req.id, type: 'progress', progress }), signal);
    case 'predict':
      return engine.predict(req.prompt, req.topK, req.interventions);
    case 'memory':
      return engine.memory();
    case 'runDetailed':
      return engine.runDetailed(req, signal);
    case 'evalTask':
      return engine.evalTask(req.prompts, req.variants, (progress) => post({ id: req.id, type: 'progress', progress }), signal);
    case 'embedTop':
      return engine.embedTop(req.channel, req.k);
    case 'prune':
      return engine.prune(req.task, { steps: req.steps, ablation: req.ablation, minimality: req.minimality, control: req.control, granularity: req.granularity, layers: req.layers, kCoef: req.kCoef }, (progress) => post({ id: req.id, type: 'progress', progress }), signal);
    case 'importance':
      return engine.importance(req.request, (progress) => post({ id: req.id, type: 'progress', progress }), signal);
    case 'buildTask':
      return engine.buildTask(req.spec);
    case 'vocab':
      return engine.vocab();
    case 'lookupToken':
      return engine.lookupToken(req.text);
    case 'countMeansText':
      return engine.countMeansText(req.request);
    case 'computeMeans':
      return engine.computeMeans(req.request, (progress) => post({ id: req.id, type: 'progress', progress }), signal);
    case 'convertRelease':
      return convertReleaseToZip(req.files, (progress) => post({ id: req.id, type: 'progress', progress }), signal);
  }
}
