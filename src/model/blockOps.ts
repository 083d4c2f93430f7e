import type { BlockOps } from './blocks';
import type { ModelConfig } from './config';
import type { DeviceInterventions, GpuWeights } from './gpu-weights';
import { linear } from './layers';
import { ResidualPatcher } from './residualPatches';
import type { SiteName } from './sites';
import { sparseLinear, type SparseKernel } from './sparseLinear';
import { tf } from './tfjs';

/**
 * The block operations (blocks.ts) of a model under one intervention list, for one run: the list's edited weights
 * shadow the base ones, its site overrides (`x * keep + fill`) apply at every hook site, then `siteHook` (pruning
 * masks, recording); the result is what the model sees, and what residual edges patch out of their readers' copies.
 */
export function makeBlockOps(
  config: ModelConfig, weights: GpuWeights, dev: DeviceInterventions | null, kernel: SparseKernel,
  siteHook?: (name: SiteName, y: tf.Tensor3D) => tf.Tensor3D,
): BlockOps {
  const weight = (key: string) => dev?.weights.get(key) ?? weights.get(key);
  const mustWeight = (key: string) => {
    const t = weight(key);
    if (!t) throw new Error(`missing weight ${key}`);
    return t;
  };
  const sparse = (key: string) => dev?.sparse.get(key) ?? weights.sparse(key);
  const patcher = dev && dev.residual.size > 0 ? new ResidualPatcher(dev.residual) : null;
  return {
    config,
    weight,
    mustWeight,
    lin: (x, weightKey, biasKey) => {
      const s = sparse(weightKey);
      return s ? sparseLinear(x, s, weight(biasKey), kernel) : linear(x, mustWeight(weightKey), weight(biasKey));
    },
    // One output block as its own product, so that q, k and v never pass through a split along the last axis
    // (a slow strided copy on wasm); each output is the same dot product as in the whole matmul, bit for bit.
    linPart: (x, weightKey, biasKey, part, parts) => {
      const s = sparse(weightKey);
      const out = (s ? s.rows : mustWeight(weightKey).shape[1]!) / parts;
      const b = weight(biasKey);
      const bias = b && tf.slice(b, [part * out], [out]);
      if (s) return sparseLinear(x, s, bias, kernel, { start: part * out, count: out });
      const W = mustWeight(weightKey);
      return linear(x, tf.slice(W, [0, part * out], [W.shape[0]!, out]), bias);
    },
    site: (name, x) => {
      const o = dev?.sites.get(name);
      const y = o ? (tf.add(tf.mul(x, o.keep), o.fill) as tf.Tensor3D) : x;
      const seen = siteHook ? siteHook(name, y) : y;
      patcher?.capture(name, seen);
      return seen;
    },
    read: (name, x) => (patcher ? patcher.read(name, x) : x),
    narrowPatches: (f) => patcher?.narrow(f),
    release: () => patcher?.dispose(),
  };
}
