import { ABS_TOPK_LOCATIONS } from '../../config';
import { CheckpointError } from '../errors';
import { pyJson } from './pyRepr';

/**
 * beeg_config.json -> our config.json, judged key by key against OpenAI's own loader: the rules of
 * train/openai_import/config.py (docs/openai-import.md, "Config keys"), with the same messages and notes. Options the
 * runtime cannot reproduce are refused; a key nobody knows stops the conversion unless the caller lets it through.
 */

/** GPTConfig's fields in OpenAI's inference/gpt.py (8a029a3): what its load_model accepts. */
const OPENAI_FIELDS = new Set([
  'block_size', 'vocab_size', 'n_layer', 'n_head', 'd_head', 'd_model', 'dropout', 'bias', 'ln_bias', 'rms_norm',
  'residual_activation_type', 'activation_type', 'afrac', 'afrac_loctypes', 'debug_nans', 'tied_unembed',
  'tokenizer_name', 'grad_checkpointing', 'd_mlp', 'enable_bigram_table', 'learnable_bigram_table', 'd_pos_emb',
  'dropout_cat_pos_emb', 'sinusoidal_cat_pos_emb', 'enable_sparse_kernels', 'flash', 'sink',
]);
/** Handled by load_model before GPTConfig(**config). */
const OPENAI_PREPROCESSED = new Set(['n_mlp', 'use_tied_aux_matrix']);

/** Released keys that are not part of our config, and why they do not change the inference forward pass. */
const NO_FORWARD_EFFECT: Readonly<Record<string, string>> = {
  dropout: 'dropout is off at inference',
  debug_nans: 'NaN assertions only',
  grad_checkpointing: 'recomputation during training (load_model overrides it)',
  enable_sparse_kernels: 'a kernel choice',
  flash: 'the attention kernel (load_model overrides it; the sink is applied as on the flash path)',
  learnable_bigram_table: "parameter or buffer: the table's values come from the checkpoint either way",
  pfrac: "the training-time weight density; the checkpoint's zeros already encode it",
  expansion_factor: 'a training-time size multiplier; the sizes are d_model/d_mlp and the tensor shapes',
  expansion_factor_mlp: 'a training-time size multiplier; the sizes are d_model/d_mlp and the tensor shapes',
  ignore_dw_grad: 'a gradient option',
  sparse_matmul_impl: 'a training kernel choice',
  debug_exact_topk: 'the training-time top-k implementation; inference here is exact',
  n_embd: 'an alias of d_model (refused when it differs)',
  afrac_approx: 'false: exact AbsTopK (refused when true)',
  rtopk: 'false: AbsTopK (refused when true)',
  bigram_table_rank: 'null: a dense bigram table (refused when set)',
  use_tied_aux_matrix: 'false: no auxiliary matrix (refused when true)',
  d_pos_emb: 'null: positions added through wpe (refused when set)',
  dropout_cat_pos_emb: 'false: no concatenated positions (refused when true)',
  sinusoidal_cat_pos_emb: 'false: no sinusoidal positions (refused when true)',
};

/** Our config's keys in the order train/model.py's GPTConfig.to_dict writes them, with its defaults. */
const OUR_DEFAULTS: ReadonlyArray<readonly [string, unknown]> = [
  ['block_size', 256], ['vocab_size', 2048], ['n_layer', 4], ['n_head', 8], ['d_head', 16], ['d_model', 128],
  ['d_mlp', 512], ['bias', true], ['ln_bias', true], ['rms_norm', true], ['activation_type', 'gelu'], ['afrac', null],
  ['afrac_loctypes', 'attn_in,attn_out,mlp_in,mlp_out'], ['enable_bigram_table', false], ['sink', false],
  ['tied_unembed', false], ['residual_activation_type', 'identity'], ['tokenizer_name', 'tinypython_2k'],
];
const OUR_KEYS = new Set([...OUR_DEFAULTS.map(([k]) => k), 'n_mlp']);
const REQUIRED_KEYS = ['block_size', 'vocab_size', 'n_layer', 'n_head', 'd_model'];
/** Where OpenAI's GPTConfig default differs from ours, a missing key takes OpenAI's (that is the released model). */
const OPENAI_DEFAULTS: ReadonlyArray<readonly [string, unknown]> = [['rms_norm', false], ['tied_unembed', true]];

/** Options whose forward pass the runtime does not implement: refused when set (true, or not null), with why. */
const REFUSED_WHEN_SET: ReadonlyArray<readonly [string, string]> = [
  ['use_tied_aux_matrix', "tied auxiliary matrices are not part of the runtime's forward pass"],
  ['rtopk', 'the runtime implements only AbsTopK (keep the k largest |x|)'],
  ['d_pos_emb', 'concatenated positional embeddings are not supported (only wte + wpe)'],
  ['dropout_cat_pos_emb', 'concatenated positional embeddings are not supported'],
  ['sinusoidal_cat_pos_emb', 'sinusoidal positional embeddings are not supported'],
  ['bigram_table_rank', 'a low-rank bigram table is not supported (only a dense V x V table)'],
  ['afrac_approx', "approximate top-k would differ from the runtime's exact AbsTopK"],
];

export interface ReleaseConfig {
  /** config.json, keys in train/model.py's order. */
  config: Record<string, unknown>;
  notes: string[];
}

type Beeg = Record<string, unknown>;
const has = (o: Beeg, k: string) => Object.prototype.hasOwnProperty.call(o, k);
const get = (o: Beeg, k: string, dflt: unknown = null) => (has(o, k) ? o[k] : dflt);
const isSet = (v: unknown) => v !== undefined && v !== null && v !== false;

function refusals(beeg: Beeg, refuse: (key: string, why: string) => never): void {
  if (get(beeg, 'residual_activation_type', 'identity') !== 'identity') {
    refuse('residual_activation_type', "the runtime supports only 'identity' (no activation on the residual)");
  }
  for (const [key, why] of REFUSED_WHEN_SET) if (isSet(get(beeg, key))) refuse(key, why);
  const act = get(beeg, 'activation_type', 'gelu');
  if (act !== 'gelu' && act !== 'relu') refuse('activation_type', "the runtime supports 'gelu' (exact erf) and 'relu'");
  const nEmbd = get(beeg, 'n_embd');
  if (nEmbd !== null && nEmbd !== get(beeg, 'd_model')) refuse('n_embd', `differs from d_model=${String(get(beeg, 'd_model'))}`);
  const afrac = get(beeg, 'afrac');
  if (afrac !== null && !(typeof afrac === 'number' && afrac > 0 && afrac <= 1)) refuse('afrac', 'must be null or in (0, 1]');
  const loctypes = String(pyStrValue(get(beeg, 'afrac_loctypes', 'attn_in,attn_out,mlp_in,mlp_out')));
  const locs = loctypes.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = locs.filter((s) => !(ABS_TOPK_LOCATIONS as readonly string[]).includes(s));
  if (bad.length && typeof afrac === 'number' && afrac < 1) {
    refuse('afrac_loctypes', `unknown AbsTopK location(s) ${bad.join(', ')} (supported: ${ABS_TOPK_LOCATIONS.join(', ')})`);
  }
}

/** Python's str() of a JSON value, for the one place config.py stringifies one (afrac_loctypes). */
function pyStrValue(v: unknown): string {
  return v === null ? 'None' : v === true ? 'True' : v === false ? 'False' : typeof v === 'string' ? v : pyJson(v);
}

/** One note per released key OpenAI's loader rejects; refuses a key nobody knows unless `ignoreKeys` names it. */
function keyReport(beeg: Beeg, src: string, ignoreKeys: readonly string[]): string[] {
  const notes: string[] = [];
  const unknown: string[] = [];
  for (const k of Object.keys(beeg).sort()) {
    if (OPENAI_FIELDS.has(k) || OPENAI_PREPROCESSED.has(k)) continue;
    const v = pyJson(beeg[k]);
    if (k in NO_FORWARD_EFFECT) {
      notes.push(`config key ${k}=${v}: OpenAI's load_model rejects it (not a GPTConfig field); does not change the forward pass (${NO_FORWARD_EFFECT[k]}); ignored`);
    } else if (ignoreKeys.includes(k)) {
      notes.push(`config key ${k}=${v}: unknown, and OpenAI's load_model rejects it (not a GPTConfig field); whether it changes the forward pass is not known; ignored (--ignore-config-key)`);
    } else {
      unknown.push(`${k}=${v}`);
    }
  }
  if (unknown.length) {
    throw new CheckpointError(
      `${src}: unknown config key(s) ${unknown.join(', ')}: OpenAI's own load_model rejects them (GPTConfig has no such field) and ` +
        'whether they change the forward pass is not known, so the import stops; allow each one known not to change it',
      { file: src },
    );
  }
  return notes;
}

/** Released beeg_config.json (parsed) -> our config.json and the conversion notes. */
export function convertReleaseConfig(beeg: unknown, src = 'beeg_config.json', ignoreKeys: readonly string[] = []): ReleaseConfig {
  if (beeg === null || typeof beeg !== 'object' || Array.isArray(beeg)) {
    const type = beeg === null ? 'NoneType' : Array.isArray(beeg) ? 'list' : typeof beeg === 'string' ? 'str' : typeof beeg === 'number' ? (Number.isInteger(beeg) ? 'int' : 'float') : typeof beeg;
    throw new CheckpointError(`${src}: expected a JSON object, got ${type}`, { file: src });
  }
  const b = beeg as Beeg;
  const missing = REQUIRED_KEYS.filter((k) => get(b, k) === null);
  if (missing.length) throw new CheckpointError(`${src}: missing required key(s): ${missing.join(', ')}`, { file: src });
  refusals(b, (key, why) => {
    throw new CheckpointError(`${src}: unsupported option ${key}=${pyJson(get(b, key))}: ${why}`, { file: src });
  });
  const notes = keyReport(b, src, ignoreKeys);
  if (isTruthy(get(b, 'sink')) && get(b, 'flash') === false) {
    notes.push('flash=false with sink=true: the released non-flash path ignores the sink; the sink is applied here as in the flash path the release asserts for sink models');
  }
  if (get(b, 'debug_exact_topk') === false) {
    notes.push('debug_exact_topk=false: training may have used an approximate top-k; inference here is exact');
  }
  const d = new Map<string, unknown>(Object.entries(b).filter(([k]) => OUR_KEYS.has(k)));
  if ((d.get('d_mlp') ?? null) === null && (d.get('n_mlp') ?? null) !== null) {
    d.set('d_mlp', d.get('n_mlp'));
    d.delete('n_mlp');
    notes.push('n_mlp renamed to d_mlp');
  }
  d.delete('n_mlp');
  const dModel = Math.trunc(Number(b.d_model));
  if ((d.get('d_mlp') ?? null) === null) {
    d.set('d_mlp', 4 * dModel);
    notes.push(`d_mlp missing: OpenAI's default 4 * d_model = ${4 * dModel}`);
  }
  if ((d.get('d_head') ?? null) === null) {
    d.set('d_head', Math.floor(dModel / Math.trunc(Number(b.n_head))));
    notes.push(`d_head missing: OpenAI's default d_model // n_head = ${d.get('d_head') as number}`);
  }
  if (!has(b, 'sink')) {
    d.set('sink', false);
    notes.push('sink missing: defaulted to false');
  }
  for (const [k, v] of OPENAI_DEFAULTS) {
    if (!has(b, k)) {
      d.set(k, v);
      notes.push(`${k} missing: OpenAI's GPTConfig default ${pyJson(v)}`);
    }
  }
  if ((d.get('tokenizer_name') ?? null) === null) d.delete('tokenizer_name');
  const config: Record<string, unknown> = {};
  for (const [k, dflt] of OUR_DEFAULTS) config[k] = d.has(k) ? d.get(k) : dflt;
  const afrac = get(b, 'afrac');
  if (afrac === null || (afrac as number) >= 1) config.afrac = null;
  return { config, notes };
}

const isTruthy = (v: unknown) => v !== null && v !== undefined && v !== false && v !== 0 && v !== '';
