/**
 * GPT-2 "data-gym" tokenizer files (encoder.json + vocab.bpe) store token bytes as printable characters: bytes that
 * are printable and not a space stand for themselves (as Latin-1 code points); every other byte b is written as
 * chr(256 + n), numbering those bytes in increasing order. The same order gives the single-byte ranks 0..255
 * (tiktoken's data_gym_to_mergeable_bpe_ranks).
 */

/** rankToByte[r] = the byte whose single-byte token has rank r. */
const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);

export const RANK_TO_BYTE: readonly number[] = (() => {
  const out: number[] = [];
  for (let b = 0; b < 256; b++) if (printable(b)) out.push(b);
  for (let b = 0; b < 256; b++) if (!printable(b)) out.push(b);
  return out;
})();

/** byteToChar[b] = the data-gym character that stands for byte b. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return out;
})();

const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** Data-gym string -> bytes, or null when it contains a character that stands for no byte. */
export function dataGymToBytes(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const b = CHAR_TO_BYTE.get(s[i]!);
    if (b === undefined) return null;
    out[i] = b;
  }
  return out;
}

export function bytesToDataGym(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}

export const END_OF_TEXT = '<|endoftext|>';

/**
 * Writes encoder.json and vocab.bpe for a merge list (each merge joins two existing tokens, given as byte arrays),
 * exactly as the GPT-2 tools lay them out: ranks 0..255 are the single bytes, merge i gets rank 256 + i, and
 * `<|endoftext|>` follows the merges. Used to build tokenizer fixtures.
 */
export function dataGymFiles(merges: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): {
  encoderJson: string;
  vocabBpe: string;
} {
  const encoder: Record<string, number> = {};
  RANK_TO_BYTE.forEach((b, r) => (encoder[BYTE_TO_CHAR[b]!] = r));
  const lines = ['#version: 0.2'];
  merges.forEach(([a, b], i) => {
    const left = bytesToDataGym(a);
    const right = bytesToDataGym(b);
    lines.push(`${left} ${right}`);
    encoder[left + right] = 256 + i;
  });
  encoder[END_OF_TEXT] = 256 + merges.length;
  return { encoderJson: JSON.stringify(encoder), vocabBpe: lines.join('\n') + '\n' };
}
