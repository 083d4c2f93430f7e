import type { ModelConfig } from './config';

/** A dense host-side tensor (row-major). Checkpoint readers produce these; the runtime uploads them. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Everything a checkpoint folder provides to the runtime, validated and backend-neutral. */
export interface LoadedCheckpoint {
  config: ModelConfig;
  /** Released state-dict key names -> dense tensors (compact sparse tensors already expanded). */
  tensors: Map<string, HostTensor>;
  /** Hook-site name -> mean activation per channel (means.safetensors); empty when the folder has none. */
  means: Map<string, Float32Array>;
}
