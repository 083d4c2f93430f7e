// Runtime checks in the browser (harness.html), for the Playwright golden tests on the WebGL and WebGPU
// backends, which Node cannot run. Exposes window.runtimeChecks.
import '../model/zodNoEval'; // first: before any module builds a zod schema (CSP: no eval)
import { tf } from '../model/tfjs';
import { registerBrowserBackends } from '../model/backends/registerBrowserBackends';
import { probeWebGpu } from '../model/backends/selectBackend';
import type { BackendName } from '../model/backends/types';
import { goldenDiffs, testTokens } from '../model/testing/goldenDiffs';
import { OPTION_CASES } from '../model/testing/optionMatrix';
import { randomCheckpoint } from '../model/testing/randomCheckpoint';
import { bigModelRun, refusalKeepsModel, sparseGoldenSuite } from './bigModelChecks';
import { attentionPattern, targetLogits } from './explorerChecks';
import { releaseGolden } from './releaseChecks';
import { webgpuSparseKernelCase, webgpuSparseModelCase } from './webgpuSparseChecks';

async function useBackend(name: BackendName): Promise<{ backend: string; adapter: string }> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to start`);
  await tf.ready();
  const adapter = name === 'webgpu' ? (await probeWebGpu()).detail : name;
  return { backend: tf.getBackend(), adapter };
}

/** Max abs diff per option case and per compared quantity, against the float64 reference. */
async function goldenSuite(name: BackendName) {
  const info = await useBackend(name);
  const cases: Record<string, Record<string, number>> = {};
  for (const [label, config] of OPTION_CASES) {
    const ckpt = randomCheckpoint({ config, seed: 11 });
    cases[label] = await goldenDiffs(ckpt, testTokens(9, ckpt.config.vocabSize, 7));
  }
  return { ...info, cases };
}

registerBrowserBackends(import.meta.env.BASE_URL);
(window as unknown as { runtimeChecks: unknown }).runtimeChecks = { goldenSuite, targetLogits, attentionPattern, bigModelRun, refusalKeepsModel, sparseGoldenSuite, releaseGolden, webgpuSparseKernelCase, webgpuSparseModelCase };
document.getElementById('out')!.textContent = 'ready';
