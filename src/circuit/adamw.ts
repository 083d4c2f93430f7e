/**
 * AdamW on a flat host vector (the pruning masks are a few thousand scalars, so the optimiser state lives on the
 * host and the update costs nothing next to a forward pass). Decoupled weight decay as in torch.optim.AdamW:
 * p -= lr * wd * p, then the Adam step. Global gradient-norm clipping before the moments are updated.
 */
export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the gradient's global L2 norm to this (0 or Infinity: no clipping). */
  gradClip: number;
}

export class AdamW {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(readonly size: number, private readonly opts: AdamWOptions) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** Updates `params` in place with gradient `grad` at learning rate `lr`; returns the pre-clip grad norm. */
  step(params: Float32Array, grad: Float32Array, lr: number): number {
    const { beta1, beta2, eps, weightDecay, gradClip } = this.opts;
    if (params.length !== this.size || grad.length !== this.size) throw new Error('AdamW: size mismatch');
    let sq = 0;
    for (let i = 0; i < grad.length; i++) sq += grad[i]! * grad[i]!;
    const norm = Math.sqrt(sq);
    const scale = gradClip > 0 && Number.isFinite(gradClip) && norm > gradClip ? gradClip / norm : 1;
    this.t++;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i]! * scale;
      this.m[i] = beta1 * this.m[i]! + (1 - beta1) * g;
      this.v[i] = beta2 * this.v[i]! + (1 - beta2) * g * g;
      const p = params[i]! * (1 - lr * weightDecay);
      params[i] = p - (lr * (this.m[i]! / bc1)) / (Math.sqrt(this.v[i]! / bc2) + eps);
    }
    return norm;
  }
}
