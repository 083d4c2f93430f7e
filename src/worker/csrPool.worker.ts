/// <reference lib="webworker" />
// One thread of the CSR worker pool (src/model/csrPool.ts): computes the part of a sparse product it is sent, in
// shared memory, and raises the caller's counter. Started by csrPoolBrowser.ts from the engine worker.
import { runCsrJob, type CsrJob } from '../model/csrPool';

self.onmessage = (ev: MessageEvent<CsrJob>) => runCsrJob(ev.data);
(self as unknown as DedicatedWorkerGlobalScope).postMessage('ready');
