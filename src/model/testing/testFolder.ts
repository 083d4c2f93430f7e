/**
 * Test fixtures: complete model folders (config, weights, means, tokenizer) built from seeded random checkpoints.
 * Node-only (reads the tokenizer fixture from disk); imported by tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../config';
import { checkpointToFolderFiles } from './safetensorsWriter';
import { randomCheckpoint } from './randomCheckpoint';
import type { LoadedCheckpoint } from '../weights';

const tokDir = join(__dirname, '../../tokenizer/testdata');
export const FIXTURE_ENCODER_JSON = readFileSync(join(tokDir, 'encoder.json'), 'utf8');
export const FIXTURE_VOCAB_BPE = readFileSync(join(tokDir, 'vocab.bpe'), 'utf8');
/** The fixture tokenizer's id count (256 bytes + 120 merges + <|endoftext|>). */
export const FIXTURE_VOCAB_SIZE = 377;

export interface TestFolder {
  ckpt: LoadedCheckpoint;
  files: Record<string, Uint8Array>;
}

export function testFolder(opts: { config?: Partial<ModelConfig>; seed?: number; sparse?: boolean; density?: number } = {}): TestFolder {
  const ckpt = randomCheckpoint({ config: { vocabSize: FIXTURE_VOCAB_SIZE, ...opts.config }, seed: opts.seed ?? 1, density: opts.density ?? 0.25 });
  const enc = new TextEncoder();
  const files: Record<string, Uint8Array> = {
    ...checkpointToFolderFiles(ckpt, { sparse: opts.sparse ?? true }),
    'tokenizer/encoder.json': enc.encode(FIXTURE_ENCODER_JSON),
    'tokenizer/vocab.bpe': enc.encode(FIXTURE_VOCAB_BPE),
  };
  return { ckpt, files };
}

/** A safetensors file rebuilt with its JSON header edited (data unchanged). */
export function editHeader(file: Uint8Array, edit: (header: Record<string, unknown>) => void): Uint8Array {
  const len = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + len))) as Record<string, unknown>;
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + file.length - 8 - len);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(file.subarray(8 + len), 8 + json.length);
  return out;
}

/** Byte offset (within the whole file) where a tensor's data starts. */
export function tensorDataOffset(file: Uint8Array, name: string): number {
  const len = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + len))) as Record<string, { data_offsets: number[] }>;
  return 8 + len + header[name]!.data_offsets[0]!;
}
