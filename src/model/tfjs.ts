// The single import point of TF.js for the app: everything else imports `tf` from here so that the
// core and the always-available CPU backend are registered exactly once. Faster backends (wasm, webgl,
// webgpu) are registered by src/model/backends (browser) or src/model/testing/nodeBackends (Node).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients (the @tensorflow/tfjs union package normally does); tf.grad over
// the forward pass (pruning) needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';

export { tf };
