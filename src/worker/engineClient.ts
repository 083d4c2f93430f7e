import type { EngineProgress, EngineReply, EngineRequest, EngineResults, JobProgress } from './protocol';

type RequestBody<T extends EngineRequest['type']> = Omit<Extract<EngineRequest, { type: T }>, 'id' | 'type'>;

/** Typed promise API over the engine worker. */
export class EngineClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: (p: JobProgress) => void }>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<EngineReply>) => this.onReply(ev.data);
    worker.onerror = (ev) => {
      for (const p of this.pending.values()) p.reject(new Error(`the engine worker crashed: ${ev.message}`));
      this.pending.clear();
    };
  }

  static create(): EngineClient {
    return new EngineClient(new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' }));
  }

  /** Sends a request; returns its id (for cancel) and the result promise. */
  request<T extends Exclude<EngineRequest['type'], 'cancel'>>(
    type: T, body: RequestBody<T>, onProgress?: (p: EngineProgress<T>) => void,
  ): { id: number; result: Promise<EngineResults[T]> } {
    const id = this.nextId++;
    const result = new Promise<EngineResults[T]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: onProgress as ((p: JobProgress) => void) | undefined });
    });
    this.worker.postMessage({ id, type, ...body } as EngineRequest);
    return { id, result };
  }

  cancel(target: number): void {
    this.worker.postMessage({ id: this.nextId++, type: 'cancel', target } as EngineRequest);
  }

  private onReply(r: EngineReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    if (r.type === 'progress') {
      p.onProgress?.(r.progress);
      return;
    }
    this.pending.delete(r.id);
    if (r.type === 'ok') p.resolve(r.result);
    else {
      const err = new Error(r.message);
      if (r.cancelled) err.name = 'AbortError';
      p.reject(err);
    }
  }
}
