import { Tiktoken } from 'js-tiktoken/lite';
import { z } from 'zod';
import { RANK_TO_BYTE, bytesToDataGym, dataGymToBytes, END_OF_TEXT } from './dataGym';

/** The tinypython_2k pre-tokenizer split pattern (used with the 'u' flag). */
export const TINYPYTHON_PAT_STR =
  "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

export interface DataGymOptions {
  /** Split pattern; defaults to the tinypython one. */
  patStr?: string;
  /**
   * The model's vocab_size: when encoder.json has no `<|endoftext|>`, that token gets id vocabSize - 1
   * (otherwise the id right after the last merge).
   */
  vocabSize?: number;
  /** File names for error messages. */
  encoderName?: string;
  vocabName?: string;
}

const encoderSchema = z.record(z.string(), z.number().int().nonnegative());

function bytesKey(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

function toBase64(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b));
}

/** Decodes UTF-8 with U+FFFD for invalid sequences, keeping a leading BOM (so decode(encode(s)) === s). */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Byte-level BPE from GPT-2 "data-gym" files, encoding with js-tiktoken's core. The mergeable ranks are built the way
 * tiktoken's `data_gym_to_mergeable_bpe_ranks` builds them (single bytes first, in data-gym order, then one rank per
 * merge line) and must agree with encoder.json.
 */
export class BpeTokenizer {
  readonly vocabSize: number;
  /** Id of `<|endoftext|>`. */
  readonly endOfTextId: number;
  private readonly core: Tiktoken;
  private readonly idToBytes: Uint8Array[];
  private readonly bytesToId: Map<string, number>;
  private readonly maxTokenBytes: number;

  private constructor(ranks: Uint8Array[], eotId: number, patStr: string) {
    this.idToBytes = ranks;
    this.bytesToId = new Map(ranks.map((b, i) => [bytesKey(b), i]));
    this.maxTokenBytes = ranks.reduce((m, b) => Math.max(m, b.length), 0);
    this.endOfTextId = eotId;
    this.vocabSize = Math.max(ranks.length, eotId + 1);
    // js-tiktoken's rank format: lines of "<ignored> <first rank> <base64 token> <base64 token> ...".
    const bpeRanks = `! 0 ${ranks.map(toBase64).join(' ')}`;
    this.core = new Tiktoken({ pat_str: patStr, special_tokens: { [END_OF_TEXT]: eotId }, bpe_ranks: bpeRanks });
  }

  static fromDataGym(encoderJson: string, vocabBpe: string, opts: DataGymOptions = {}): BpeTokenizer {
    const encName = opts.encoderName ?? 'encoder.json';
    const vocName = opts.vocabName ?? 'vocab.bpe';
    const fail = (msg: string): never => {
      throw new TokenizerError(msg);
    };

    // Mergeable ranks from vocab.bpe.
    const ranks: Uint8Array[] = RANK_TO_BYTE.map((b) => Uint8Array.of(b));
    const seen = new Map<string, number>(ranks.map((b, i) => [bytesKey(b), i]));
    const lines = vocabBpe.split('\n');
    lines.forEach((rawLine, lineNo) => {
      const line = rawLine.replace(/\r$/, '');
      if (line.trim() === '' || (lineNo === 0 && line.startsWith('#'))) return;
      const parts = line.trim().split(/ +/);
      if (parts.length !== 2) fail(`${vocName} line ${lineNo + 1}: expected two tokens separated by a space, got ${JSON.stringify(line)}`);
      const a = dataGymToBytes(parts[0]!);
      const b = dataGymToBytes(parts[1]!);
      if (!a || !b) fail(`${vocName} line ${lineNo + 1}: ${JSON.stringify(line)} contains a character that is not a data-gym byte`);
      const merged = new Uint8Array(a!.length + b!.length);
      merged.set(a!, 0);
      merged.set(b!, a!.length);
      const key = bytesKey(merged);
      if (seen.has(key)) fail(`${vocName} line ${lineNo + 1}: merge ${JSON.stringify(line)} makes a token that already has rank ${seen.get(key)}`);
      seen.set(key, ranks.length);
      ranks.push(merged);
    });

    // encoder.json must list exactly these ranks (plus special tokens).
    let parsed: unknown;
    try {
      parsed = JSON.parse(encoderJson);
    } catch (e) {
      return fail(`${encName} is not valid JSON (${(e as Error).message})`);
    }
    const enc = encoderSchema.safeParse(parsed);
    if (!enc.success) return fail(`${encName} must be an object mapping token strings to non-negative integer ids`);
    let eotId: number | undefined;
    let count = 0;
    for (const [tok, id] of Object.entries(enc.data)) {
      if (tok === END_OF_TEXT) {
        eotId = id;
        continue;
      }
      if (tok === '<|startoftext|>') continue;
      const bytes = dataGymToBytes(tok);
      if (!bytes) fail(`${encName}: token ${JSON.stringify(tok)} contains a character that is not a data-gym byte`);
      const rank = seen.get(bytesKey(bytes!));
      if (rank === undefined) {
        fail(`${encName} and ${vocName} disagree: token ${JSON.stringify(tok)} (id ${id}) is not made by the merges in ${vocName}`);
      }
      if (rank !== id) {
        fail(`${encName} and ${vocName} disagree: token ${JSON.stringify(tok)} has id ${id} in ${encName} but rank ${rank} from ${vocName}`);
      }
      count++;
    }
    if (count !== ranks.length) {
      const listed = new Set<string>();
      for (const tok of Object.keys(enc.data)) {
        const b = dataGymToBytes(tok);
        if (b) listed.add(bytesKey(b));
      }
      const missing = ranks.findIndex((b) => !listed.has(bytesKey(b)));
      fail(
        `${encName} and ${vocName} disagree: ${encName} lists ${count} mergeable tokens, ${vocName} makes ${ranks.length} ` +
          `(256 bytes + ${ranks.length - 256} merges)` +
          (missing >= 0 ? `; rank ${missing} (${JSON.stringify(bytesToDataGym(ranks[missing]!))}) is not in ${encName}` : ''),
      );
    }
    if (eotId === undefined) eotId = opts.vocabSize !== undefined ? opts.vocabSize - 1 : ranks.length;
    if (eotId < ranks.length) fail(`${END_OF_TEXT} id ${eotId} collides with mergeable token rank ${eotId}`);
    if (opts.vocabSize !== undefined && eotId >= opts.vocabSize) {
      fail(`${encName}: the tokenizer has ${eotId + 1} token ids but the model's vocab_size is ${opts.vocabSize}`);
    }
    return new BpeTokenizer(ranks, eotId, opts.patStr ?? TINYPYTHON_PAT_STR);
  }

  /**
   * Token ids for a text, like tiktoken's `encode_ordinary` (what the Python trainer and exporter use): the text
   * `<|endoftext|>` is encoded as ordinary text. With allowSpecial it becomes the special token instead.
   */
  encode(text: string, opts: { allowSpecial?: boolean } = {}): number[] {
    return opts.allowSpecial ? this.core.encode(text, 'all') : this.core.encode(text, [], []);
  }

  /** Raw bytes of one token. Throws on an unknown id. */
  tokenBytes(id: number): Uint8Array {
    if (id === this.endOfTextId) return new TextEncoder().encode(END_OF_TEXT);
    const b = Number.isInteger(id) ? this.idToBytes[id] : undefined;
    if (!b) throw new TokenizerError(`unknown token id ${id} (this tokenizer has ids 0..${this.vocabSize - 1})`);
    return b;
  }

  decode(ids: readonly number[]): string {
    const parts: Uint8Array[] = [];
    let n = 0;
    ids.forEach((id, pos) => {
      let b: Uint8Array;
      try {
        b = this.tokenBytes(id);
      } catch (e) {
        throw new TokenizerError(`cannot decode: ${(e as Error).message} at position ${pos}`);
      }
      parts.push(b);
      n += b.length;
    });
    const all = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return utf8.decode(all);
  }

  /** Display form of one token: its bytes decoded as UTF-8 with U+FFFD for partial characters. */
  tokenString(id: number): string {
    return utf8.decode(this.tokenBytes(id));
  }

  /** The id of the single token whose text is exactly `text`, or null. */
  tokenId(text: string): number | null {
    if (text === END_OF_TEXT) return this.endOfTextId;
    const bytes = new TextEncoder().encode(text);
    if (bytes.length === 0 || bytes.length > this.maxTokenBytes) return null;
    return this.bytesToId.get(bytesKey(bytes)) ?? null;
  }
}
