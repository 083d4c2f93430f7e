import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../config';
import { P, torchZip } from '../../testing/torchFiles';
import { CheckpointError } from '../errors';
import { UnsafePickleError } from '../torch/pickleVm';
import { readTorchFile } from '../torch/readTorchFile';
import { TorchTensor } from '../torch/tensorRebuild';
import { readTaskSamples, readViz, sampleHypotheses, vizFromValue } from './releaseViz';

/**
 * Reading released viz_data.pt files (train/openai_import/viz_read.py's rules): the fixture's circuit and samples as
 * stored, the refusals by name, and pickles that ask for code, refused with the global named before anything runs.
 * The import's output against the Python importer's is src/worker/releaseVizImport.test.ts.
 */
const FIX = resolve(__dirname, '../../../../test-fixtures/openai-small');
const config = parseConfig(JSON.parse(readFileSync(join(FIX, 'converted/config.json'), 'utf8')));
const vizPath = (task: string) => `released/viz/csp_tiny/${task}/prune_v4/k_optim/viz_data.pt`;
const fixture = (task: string) => new Uint8Array(readFileSync(join(FIX, vizPath(task))));
const pyCircuit = (task: string) => JSON.parse(readFileSync(join(FIX, `converted/circuits/${task}.json`), 'utf8')) as { nodes: { site: string; channel: number }[] };

describe('reading a viz_data.pt', () => {
  it.each(['single_double_quote', 'while_return_true_beeg'])('%s: the circuit the Python importer read, and its samples', (task) => {
    const read = readViz(fixture(task), 'viz_data.pt', config);
    const ids = [...read.keptOrder].flatMap(([site, chans]) => [...chans].sort((a, b) => a - b).map((c) => `${site}:${c}`));
    expect(ids.sort()).toEqual(pyCircuit(task).nodes.map((n) => `${n.site}:${n.channel}`).sort());
    expect([...read.circuitExtra.keys()]).toEqual(['prune_config']); // embedded, not a site: kept aside, not refused
    const { rows, tokens } = readTaskSamples(read.importances, config, 'viz_data.pt');
    expect(rows.length).toBe(tokens.shape[0]);
    expect(rows.every((r) => r.length > 0 && r.length <= tokens.shape[1]! && r.at(-1) !== 0)).toBe(true);
  });

  it('offers both orientations of known targets, and with-target only where partner rows end differently', () => {
    const rows = [[5, 6, 1], [5, 7, 2]];
    expect(sampleHypotheses(rows, [1, 2]).map((h) => h.name)).toEqual(['prompt/class1=first-target', 'prompt/class1=second-target', 'with-target']);
    const wt = sampleHypotheses(rows, null)[0]!;
    expect(wt.pairs[0]![0]).toEqual({ tokens: [5, 6], correct: 1, alternative: 2 });
    expect(wt.pairs[0]![1]).toEqual({ tokens: [5, 7], correct: 2, alternative: 1 });
    expect(sampleHypotheses([[5, 1], [6, 1]], null)).toEqual([]);
  });

  const long = (v: number[]) => new TorchTensor('int64', [v.length], Float64Array.from(v));
  const viz = (cd: Map<unknown, unknown>, imp = new Map<unknown, unknown>()) => new Map<unknown, unknown>([['circuit_data', cd], ['importances', imp]]);
  it.each([
    ['a location that is not a site', viz(new Map([['0.attn.nope', long([1])]])), /circuit_data location "0\.attn\.nope" is not a node site of this model \(sites: 0\.attn\.act_in \.\.\. final_resid\)/],
    ['a channel outside the site', viz(new Map([['final_resid', long([3, 32])]])), /circuit_data\["final_resid"\] has channel 32 outside \[0, 32\)/],
    ['a channel listed twice', viz(new Map([['final_resid', long([3, 3])]])), /circuit_data\["final_resid"\] lists a channel twice/],
    ['a mask of the wrong width', viz(new Map([['final_resid', new TorchTensor('bool', [4], new Float64Array(4))]])), /is a mask of shape \[4\], expected \[32\]/],
    ['a file made for another model', viz(new Map(), new Map([['beeg_model_config', new Map([['d_model', 64]])]])), /made for another model: beeg_model_config has d_model=64 \(model: 32\)/],
    ['a file without circuit_data', new Map([['importances', new Map()]]), /not a viz_data\.pt \(expected circuit_data and importances; found \['importances'\]\)/],
  ])('refuses %s, naming it', (_what, value, message) => {
    expect(() => vizFromValue(value, 'v.pt', config)).toThrow(CheckpointError);
    expect(() => vizFromValue(value, 'v.pt', config)).toThrow(message);
  });

  it('refuses task samples with an odd number of rows or ids outside the vocabulary', () => {
    const imp = (t: TorchTensor) => new Map([['task_samples', Object.freeze([t, new Map()])]]);
    expect(() => readTaskSamples(imp(new TorchTensor('int64', [3, 2], Float64Array.from([1, 2, 3, 4, 5, 6]))), config, 'v.pt')).toThrow(/task_samples has 3 rows; expected an even number/);
    expect(() => readTaskSamples(imp(new TorchTensor('int64', [2, 2], Float64Array.from([1, 2, 3, 288]))), config, 'v.pt')).toThrow(/task_samples hold token ids outside \[0, 288\)/);
    expect(() => readTaskSamples(imp(new TorchTensor('int64', [2, 2], Float64Array.from([1, 2, 0, 0]))), config, 'v.pt')).toThrow(/task_samples row 1 is all padding/);
  });
});

/** viz_data.pt pickles that would run code under Python's pickle: refused by the global's name, nothing called. */
describe('malicious viz pickles are refused by name', () => {
  afterEach(() => vi.restoreAllMocks());
  const payload = P.str('touch /tmp/pwned');
  /** {'circuit_data': {}, 'importances': {key: <the value's opcodes>}}: the released structure with one poisoned entry. */
  const vizPickle = (key: string, value: number[]) => Uint8Array.from([
    ...P.proto(), ...P.emptyDict,
    ...P.str('circuit_data'), ...P.emptyDict, ...P.setitem,
    ...P.str('importances'), ...P.emptyDict, ...P.str(key), ...value, ...P.setitem, ...P.setitem,
    ...P.stop,
  ]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['a numpy scalar as the stored loss', vizPickle('loss', [...P.global('numpy.core.multiarray', 'scalar'), ...P.tupleOf(P.str('x')), ...P.reduce]), /asks for global numpy\.core\.multiarray\.scalar;/],
    ['builtins.eval as the task samples', vizPickle('task_samples', [...P.global('builtins', 'eval'), ...P.tupleOf(payload), ...P.reduce]), /asks for global builtins\.eval;/],
    ['os.system in the layer losses', vizPickle('layer_interv_losses', [...P.global('os', 'system'), ...P.tupleOf(payload), ...P.reduce]), /asks for global os\.system;/],
  ];
  it.each(cases)('%s', (_what, pickle, message) => {
    const evalSpy = vi.spyOn(globalThis, 'eval');
    const functionSpy = vi.spyOn(globalThis, 'Function');
    const file = torchZip(pickle);
    let error: unknown;
    try {
      readViz(file, 'viz/m/t/s/k/viz_data.pt', config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsafePickleError);
    expect((error as Error).message).toMatch(/^refused: viz\/m\/t\/s\/k\/viz_data\.pt asks for global /);
    expect((error as Error).message).toMatch(message);
    expect(evalSpy).not.toHaveBeenCalled();
    expect(functionSpy).not.toHaveBeenCalled();
    // and the same structure without the poisoned entry reads as plain data
    expect(readTorchFile(torchZip(vizPickle('loss', P.float(1.5))), 'ok.pt')).toBeInstanceOf(Map);
  });
});
