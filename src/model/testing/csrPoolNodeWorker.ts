// A CSR pool worker under Node's worker_threads (the tests' stand-in for src/worker/csrPool.worker.ts).
import { parentPort } from 'node:worker_threads';
import { runCsrJob, type CsrJob } from '../csrPool';

parentPort!.on('message', (job: CsrJob) => runCsrJob(job));
parentPort!.postMessage('ready');
