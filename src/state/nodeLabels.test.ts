import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddingTokens } from '../circuit/nodeLabels';
import { mapSource } from '../model/checkpoint/sources';
import { parseConfig } from '../model/config';
import { MODELS_DIR } from '../model/testing/publicModelFolders';
import { clearEmbeddingCache, loadNodeLabels, type EmbedLookup } from './nodeLabels';
import { clearSnippetsCache, parseSnippets, SNIPPETS_FILE } from './snippets';

const ID = 'sparse-py-2l';
const DIR = join(MODELS_DIR, ID);
/** The weights these labels were read from: a re-exported model has other snippets, and other labels. */
const PINNED_SHA256 = '94dc7baeedac6904bb5e422d7e953ea8727d6158879514578a9b276670d7a0c0';

function folder() {
  const files = ['config.json', SNIPPETS_FILE, 'tokenizer/encoder.json', 'tokenizer/vocab.bpe'];
  return mapSource(Object.fromEntries(files.map((f) => [f, new Uint8Array(readFileSync(join(DIR, f)))])), ID);
}

/** An embedding lookup that answers made-up tokens per channel and records what it was asked. */
function recordingEmbed(): { embed: EmbedLookup; asked: [number, number][] } {
  const asked: [number, number][] = [];
  const embed: EmbedLookup = async (channel, k): Promise<EmbeddingTokens> => {
    asked.push([channel, k]);
    return { top: [`up${channel}`, 'u2', 'u3'].slice(0, k), bottom: [`down${channel}`, 'd2', 'd3'].slice(0, k) };
  };
  return { embed, asked };
}

const shipped = existsSync(join(DIR, SNIPPETS_FILE))
  && parseSnippets(readFileSync(join(DIR, SNIPPETS_FILE))).info.model_sha256 === PINNED_SHA256;

describe.skipIf(!shipped)(`labels of ${ID}'s quote-circuit nodes from its shipped snippets`, () => {
  afterEach(() => {
    clearSnippetsCache();
    clearEmbeddingCache();
  });
  const model = () => parseConfig(JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')));

  it('names the tokens, sign and head read from the file, and the embedding of residual channels', async () => {
    const { embed, asked } = recordingEmbed();
    const nodes = ['0.attn.q:9', '0.attn.k:9', '1.attn.k:79', '1.mlp.post_act:378', '0.attn.act_in:112', '1.attn.act_in:112', 'final_resid:86'];
    const labels = await loadNodeLabels(folder(), model(), nodes, embed);
    expect(Object.fromEntries([...labels].map(([id, l]) => [id, l.text]))).toEqual({
      '0.attn.q:9': 'h0 − "_str"×8',
      '0.attn.k:9': 'h0 − "\')"×5 "\'"×2 "</"',
      '1.attn.k:79': 'h4 − " \\""×6 "=\\""×2',
      '1.mlp.post_act:378': '"11"×3 "85"×2 "10" and 2 more',
      '0.attn.act_in:112': '− "\'\\n"×8 · emb "down112" "d2" "d3"',
      '1.attn.act_in:112': '− "\'\\n"×8 · emb "down112" "d2" "d3"',
      'final_resid:86': '+ "$"×8 · emb "up86" "u2" "u3"',
    });
    // One lookup per residual channel, never for q/k/v or neurons.
    expect(asked.sort((a, b) => a[0] - b[0])).toEqual([[86, 3], [112, 3]]);
  });

  it('asks for a channel\'s embedding once per model, and again for a newly loaded model', async () => {
    const { embed, asked } = recordingEmbed();
    const m = model();
    await loadNodeLabels(folder(), m, ['0.mlp.act_in:5'], embed);
    await loadNodeLabels(folder(), m, ['1.mlp.resid_delta:5', '0.attn.act_in:6'], embed);
    expect(asked.map((a) => a[0])).toEqual([5, 6]);
    await loadNodeLabels(folder(), model(), ['0.mlp.act_in:5'], embed);
    expect(asked.map((a) => a[0])).toEqual([5, 6, 5]);
  });

  it('labels from snippets alone when there is no embedding lookup, and retries a failed lookup', async () => {
    const m = model();
    const plain = await loadNodeLabels(folder(), m, ['0.attn.act_in:112'], null);
    expect(plain.get('0.attn.act_in:112')?.text).toBe('− "\'\\n"×8');
    const failing: EmbedLookup = async () => { throw new Error('the engine has not started'); };
    await expect(loadNodeLabels(folder(), m, ['0.attn.act_in:112'], failing)).rejects.toThrow(/engine has not started/);
    const { embed, asked } = recordingEmbed();
    await loadNodeLabels(folder(), m, ['0.attn.act_in:112'], embed);
    expect(asked).toEqual([[112, 3]]);
  });
});

describe.skipIf(!existsSync(join(DIR, 'config.json')))('labels without a snippet file', () => {
  it('are the embedding alone for residual channels and absent elsewhere', async () => {
    const { embed } = recordingEmbed();
    const cfg = parseConfig(JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')));
    const bare = mapSource({ 'config.json': readFileSync(join(DIR, 'config.json'), 'utf8') }, 'bare');
    const labels = await loadNodeLabels(bare, cfg, ['0.attn.q:9', '0.mlp.act_in:3'], embed);
    expect([...labels.keys()]).toEqual(['0.mlp.act_in:3']);
    expect(labels.get('0.mlp.act_in:3')?.text).toBe('emb "up3" "u2" "u3"');
    clearEmbeddingCache();
  });
});
