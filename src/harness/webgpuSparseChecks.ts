// The WebGPU sparse kernel (src/model/webgpuSparse.ts) in the browser, for e2e/webgpu-sparse.spec.ts: its raw outputs
// on a seeded matrix (the spec computes the float64 oracle itself), and a whole sparse-stored model on it against the
// float64 reference forward and against the dense weights' gradient.
import { tf } from '../model/tfjs';
import { SparseGpt } from '../model/forward';
import { allSites, type SiteName } from '../model/sites';
import { sparseLinear } from '../model/sparseLinear';
import { SparseMatrix } from '../model/sparseMatrix';
import { goldenDiffs, maxAbsDiff, testTokens } from '../model/testing/goldenDiffs';
import { randomCheckpoint } from '../model/testing/randomCheckpoint';
import { toSparseRepresentation } from '../model/testing/sparseCheckpoint';
import { releaseWebGpuCopies } from '../model/webgpuSparse';
import { mulberry32 } from '../tasks/seeded';

async function useWebGpu(): Promise<void> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('backend webgpu failed to start');
  await tf.ready();
}

/** Calls of the backend's synchronous read-back while `f` runs (the kernel must make none). */
async function countingReadSync<T>(f: () => Promise<T>): Promise<{ value: T; readSyncCalls: number }> {
  const backend = tf.backend() as unknown as { readSync: (id: object) => unknown };
  const original = backend.readSync;
  let calls = 0;
  backend.readSync = function (this: unknown, id: object) {
    calls++;
    return original.call(this, id);
  };
  try {
    return { value: await f(), readSyncCalls: calls };
  } finally {
    backend.readSync = original;
  }
}

export interface KernelCase {
  rows: number;
  cols: number;
  B: number;
  T: number;
  /** W dense row-major [rows, cols], x [B*T, cols], dy [B*T, rows] (for the whole product), bias [rows]. */
  W: number[];
  x: number[];
  dy: number[];
  bias: number[];
  /** Output rows [start, start + count) alone, with the bias's matching slice and dy's matching columns. */
  block: { start: number; count: number };
  got: { y: number[]; dx: number[]; yBlock: number[]; dxBlock: number[] };
  kernels: string[];
  readSyncCalls: number;
  /** Backend tensors held beyond the inputs: after the first products, after repeating them, after release. */
  heldAfterFirst: number;
  heldAfterRepeat: number;
  heldAfterRelease: number;
}

/**
 * A seeded rows x cols matrix whose sizes are not multiples of the 64-wide workgroup, with empty rows and columns
 * and a few completely dense rows, multiplied on webgpu with the 'webgpu-csr' kernel: y = x @ W^T + b and the
 * gradient dx = dy @ W (through tf.grad), for the whole matrix and for a block of rows.
 */
export async function webgpuSparseKernelCase(seed = 5, rows = 203, cols = 131, B = 2, T = 7): Promise<KernelCase> {
  await useWebGpu();
  const u = mulberry32(seed);
  const W = new Float32Array(rows * cols);
  const emptyRows = new Set([0, 17, 100, 101, 102, rows - 1]);
  const denseRows = new Set([7, 64, 150]);
  const emptyCols = new Set([3, 64, cols - 1]);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    if (emptyRows.has(r) || emptyCols.has(c)) continue;
    if (denseRows.has(r) || u() < 0.05) W[r * cols + c] = u() * 2 - 1;
  }
  const m = B * T;
  const x = Float32Array.from({ length: m * cols }, () => (u() < 0.3 ? 0 : u() * 2 - 1)); // zeros, as after AbsTopK
  const dy = Float32Array.from({ length: m * rows }, () => u() * 2 - 1);
  const bias = Float32Array.from({ length: rows }, () => u() - 0.5);
  const block = { start: 61, count: 70 };
  const S = SparseMatrix.fromDense([rows, cols], W);

  const before = tf.memory().numTensors;
  const xT = tf.tensor3d(x, [B, T, cols]);
  const dyT = tf.tensor3d(dy, [B, T, rows]);
  const dyBlockT = tf.slice(dyT, [0, 0, block.start], [B, T, block.count]);
  const biasT = tf.tensor1d(bias);
  const biasBlockT = tf.slice(biasT, [block.start], [block.count]);
  const inputs = [xT, dyT, dyBlockT, biasT, biasBlockT];
  const products = () => [
    sparseLinear(xT, S, biasT, 'webgpu-csr'),
    tf.grad((v: tf.Tensor) => sparseLinear(v as tf.Tensor3D, S, biasT, 'webgpu-csr'))(xT, dyT),
    sparseLinear(xT, S, biasBlockT, 'webgpu-csr', block),
    tf.grad((v: tf.Tensor) => sparseLinear(v as tf.Tensor3D, S, biasBlockT, 'webgpu-csr', block))(xT, dyBlockT),
  ];
  try {
    let outs: tf.Tensor[] = [];
    let kernels: string[] = [];
    const { value: read, readSyncCalls } = await countingReadSync(async () => {
      const info = await tf.profile(() => (outs = products()));
      kernels = [...new Set(info.kernelNames)];
      return Promise.all(outs.map((t) => t.data()));
    });
    tf.dispose(outs);
    const heldAfterFirst = tf.memory().numTensors - before - inputs.length;
    tf.dispose(products());
    const heldAfterRepeat = tf.memory().numTensors - before - inputs.length;
    releaseWebGpuCopies(S);
    const heldAfterRelease = tf.memory().numTensors - before - inputs.length;
    const [y, dx, yBlock, dxBlock] = read.map((a) => Array.from(a as Float32Array));
    return {
      rows, cols, B, T, W: Array.from(W), x: Array.from(x), dy: Array.from(dy), bias: Array.from(bias), block,
      got: { y: y!, dx: dx!, yBlock: yBlock!, dxBlock: dxBlock! },
      kernels,
      readSyncCalls, heldAfterFirst, heldAfterRepeat, heldAfterRelease,
    };
  } finally {
    releaseWebGpuCopies(S);
    tf.dispose(inputs);
  }
}

/**
 * A random sparse-stored model with sizes off the workgroup width, on webgpu with its default sparse kernel: max abs
 * diffs against the float64 reference forward (logits, every hook site, attention), and the gradient of a pruning-style
 * loss w.r.t. a node mask on its first hook site against the same model with dense weights (TF.js's own matMul and
 * its gradient), relative to the gradient's largest magnitude.
 */
export async function webgpuSparseModelCase(seed = 3) {
  await useWebGpu();
  const ckpt = randomCheckpoint({
    config: { dModel: 70, dMlp: 134, nHead: 5, dHead: 7, vocabSize: 97, nLayer: 2, afrac: 0.25, bias: true },
    seed,
    density: 0.1,
  });
  const sparse = toSparseRepresentation(ckpt);
  const tokens = testTokens(11, ckpt.config.vocabSize, seed);
  const before = tf.memory().numTensors;
  let kernels: string[] = [];
  const { value: diffs, readSyncCalls } = await countingReadSync(async () => {
    let d: Record<string, number> = {};
    const info = await tf.profile(async () => {
      d = await goldenDiffs(ckpt, tokens, [], {}, sparse);
    });
    kernels = [...new Set(info.kernelNames)];
    return d;
  });
  const leftAfterForward = tf.memory().numTensors - before;

  const site: SiteName = allSites(ckpt.config)[0]!;
  const maskGrad = async (model: SparseGpt) => {
    const tok = tf.tensor2d(tokens, [1, tokens.length], 'int32');
    const width = ckpt.config.dModel;
    const mask = tf.ones([width]) as tf.Tensor1D;
    const weights = tf.tensor3d(Float32Array.from({ length: tokens.length * ckpt.config.vocabSize }, (_, i) => Math.sin(i)), [1, tokens.length, ckpt.config.vocabSize]);
    try {
      const g = tf.grad((m: tf.Tensor) => tf.sum(tf.mul(model.forwardTensors(tok, { nodeMasks: new Map([[site, m as tf.Tensor1D]]), maskFill: 'zero' }).logits, weights)))(mask);
      const data = (await g.data()) as Float32Array;
      g.dispose();
      return data;
    } finally {
      tf.dispose([tok, mask, weights]);
    }
  };
  const sparseModel = new SparseGpt(sparse);
  const denseModel = new SparseGpt(ckpt);
  let gotGrad: Float32Array;
  let wantGrad: Float32Array;
  try {
    gotGrad = await maskGrad(sparseModel);
    wantGrad = await maskGrad(denseModel);
  } finally {
    sparseModel.dispose();
    denseModel.dispose();
  }
  const scale = wantGrad.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
  return {
    backend: tf.getBackend(),
    diffs,
    kernels,
    readSyncCalls,
    leftAfterForward,
    leftAfterGradient: tf.memory().numTensors - before,
    maskSite: site,
    gradScale: scale,
    gradRelDiff: maxAbsDiff(gotGrad, wantGrad) / Math.max(scale, 1e-30),
  };
}

