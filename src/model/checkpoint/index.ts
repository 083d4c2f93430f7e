/** Reading model folders (docs/model-folder.md): safetensors, compact sparse tensors, validation, sources. */
export { CheckpointError, formatBytes } from './errors';
export { parseSafetensors, toFloat32, toInt32, type SafetensorsFile, type SafetensorsEntry, type Dtype } from './safetensors';
export { expandTensors, readTensors } from './sparse';
export { readSafetensorsHead, type WeightsHead } from './header';
export {
  expectedTensors, estimateDenseBytes, checkMemoryBudget, validateTensorShapes, checkFinite, DEFAULT_MAX_DENSE_BYTES,
  type ExpectedTensor,
} from './validate';
export { readMeans, NO_MEANS_WARNING, type MeansResult } from './means';
export { fetchOptional, HttpStatusError, ABSENT_STATUSES, type FetchLike, type OptionalFetchOptions } from './optionalFile';
export {
  urlSource, filesSource, mapSource, withPaths, FOLDER_FILES,
  type FolderSource, type FolderFile, type LoadStage, type LoadProgressEvent, type PathedFile,
} from './sources';
export { readRequired, readRequiredText, readOptionalJson, folderHas } from './folderRead';
export { matchFolderFile, folderLookup, normalizePath } from './folderPaths';
export { loadModelFolder, type LoadModelFolderOptions, type LoadedModelFolder } from './loadModelFolder';
export {
  fetchModelIndex, parseModelIndex, defaultModel, modelBaseUrl, type ModelIndex, type ModelIndexEntry,
} from './modelIndex';
export { ModelSlot, type ReplaceResult } from './modelSlot';
