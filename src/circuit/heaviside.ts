import { tf } from '../model/tfjs';

/**
 * The pruning mask's straight-through Heaviside step: the forward value is H(tau) = 1 where tau >= 0, else 0;
 * the backward pass uses the derivative of a sigmoid of temperature T instead of H's (zero almost everywhere),
 * d/dtau = sigmoid'(tau / T) / T = sigmoid(tau / T) * (1 - sigmoid(tau / T)) / T.
 *
 * The gradient closes over the input instead of using customGrad's `save`, whose kept copy trips TF.js's
 * IS_TEST kernel-leak check (see absTopK). The caller keeps `tau` alive through the backward pass anyway.
 */
export function heavisideST(tau: tf.Tensor1D, temperature = 1): tf.Tensor1D {
  if (!(temperature > 0)) throw new Error(`heaviside temperature must be > 0, got ${temperature}`);
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor1D;
    return {
      value: tf.cast(tf.greaterEqual(x, 0), 'float32') as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => {
          const s = tf.sigmoid(tf.div(x, temperature));
          return tf.mul(dy, tf.div(tf.mul(s, tf.sub(1, s)), temperature));
        }),
    };
  })(tau) as tf.Tensor1D;
}

/** Host copy of the surrogate derivative, for tests and for reasoning about step sizes. */
export function heavisideSurrogateGrad(tau: number, temperature = 1): number {
  const s = 1 / (1 + Math.exp(-tau / temperature));
  return (s * (1 - s)) / temperature;
}
