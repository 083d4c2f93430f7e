import { beforeEach, describe, expect, it } from 'vitest';
import type { EngineClient } from '../worker/engineClient';
import { loadModel, predict, startEngine } from './actions';
import { useAppStore } from './appStore';

// An engine whose answers the test hands out one by one, so the order in which a load and a prediction finish is the
// test's choice (in the page it is the worker's timing).
interface Pending { type: string; resolve: (v: unknown) => void; reject: (e: Error) => void }
function fakeEngine() {
  const pending: Pending[] = [];
  let nextId = 1;
  const client = {
    request(type: string) {
      let p!: Pending;
      const result = new Promise((resolve, reject) => { p = { type, resolve, reject }; });
      pending.push(p);
      return { id: nextId++, result };
    },
    cancel() {},
  } as unknown as EngineClient;
  const take = (type: string): Pending => {
    const i = pending.findIndex((p) => p.type === type);
    if (i < 0) throw new Error(`no pending ${type} request (pending: ${pending.map((p) => p.type).join(', ')})`);
    return pending.splice(i, 1)[0]!;
  };
  return { client, take };
}

const model = { id: 'm', card: { name: 'M' } };
const prediction = { tokens: [], top: [] };
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('the error line', () => {
  let engine: ReturnType<typeof fakeEngine>;
  beforeEach(async () => {
    useAppStore.setState({ error: null, errorFrom: null, model: null, loading: null, prediction: null, promptProblem: null });
    engine = fakeEngine();
    const started = startEngine(engine.client, null);
    engine.take('init').resolve({ active: 'cpu', reason: 'test', probes: [] });
    await started;
    // A model loaded, its own prediction answered.
    const loaded = loadModel({ kind: 'url', baseUrl: '/models/m/', id: 'm' }, 'M');
    engine.take('load').resolve(model);
    await flush();
    engine.take('predict').resolve(prediction);
    expect(await loaded).toBe(true);
  });

  it('keeps a failed load\'s message when a prediction started before it answers after it', async () => {
    const run = predict(); // the prompt panel's re-run after the model change, still in the worker
    const failed = loadModel({ kind: 'url', baseUrl: '/models/broken/', id: 'broken' }, 'the picked folder "broken"', 'picked');
    engine.take('load').reject(new Error('tokenizer/vocab.bpe is missing from the folder broken/'));
    expect(await failed).toBe(false);
    expect(useAppStore.getState().error).toBe('could not load the picked folder "broken": tokenizer/vocab.bpe is missing from the folder broken/');
    engine.take('predict').resolve(prediction);
    await run;
    expect(useAppStore.getState().error).toBe('could not load the picked folder "broken": tokenizer/vocab.bpe is missing from the folder broken/');
    expect(useAppStore.getState().model).toBe(model); // the previous model stays
  });

  it('clears a prediction\'s own error on the next answer, and a load\'s on the next load', async () => {
    const bad = predict();
    engine.take('predict').reject(new Error('token 99999 is outside the vocabulary'));
    await bad;
    expect(useAppStore.getState().error).toBe('token 99999 is outside the vocabulary');
    const good = predict();
    engine.take('predict').resolve(prediction);
    await good;
    expect(useAppStore.getState().error).toBeNull();

    const failed = loadModel({ kind: 'url', baseUrl: '/models/x/', id: 'x' }, 'X');
    engine.take('load').reject(new Error('config.json is missing'));
    await failed;
    expect(useAppStore.getState().error).toBe('could not load X: config.json is missing');
    const next = loadModel({ kind: 'url', baseUrl: '/models/m/', id: 'm' }, 'M');
    engine.take('load').resolve(model);
    await flush();
    expect(useAppStore.getState().error).toBeNull();
    engine.take('predict').resolve(prediction);
    await next;
  });

  it('shows a prediction only for the model and prompt it was asked for, and stays busy while the newest runs', async () => {
    const old = { prompt: 'x = "a', top: [{ id: 1, text: 'old', prob: 1, logit: 0 }] };
    useAppStore.setState({ prompt: old.prompt });
    const forOld = predict(); // asked while model m is loaded
    const other = { id: 'n', card: { name: 'N' } };
    const loaded = loadModel({ kind: 'url', baseUrl: '/models/n/', id: 'n' }, 'N');
    engine.take('load').resolve(other);
    await flush();
    const askedForOld = engine.take('predict'); // requests are taken in the order they were made
    const askedForNew = engine.take('predict'); // the load's own prediction, for model n
    askedForOld.resolve({ tokens: [], top: old.top }); // m's answer arrives after n is on screen
    await forOld;
    expect(useAppStore.getState().prediction).toBeNull();
    expect(useAppStore.getState().predicting).toBe(true); // n's prediction is still running
    askedForNew.resolve(prediction);
    expect(await loaded).toBe(true);
    expect(useAppStore.getState().prediction).toBe(prediction);
    expect(useAppStore.getState().predicting).toBe(false);
  });
});
