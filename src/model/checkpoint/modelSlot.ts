export type ReplaceResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: Error; /** true when a newer load started before this one finished */ superseded?: boolean };

/**
 * Holds the one loaded model. `replaceIfValid` swaps in a new value only when its load succeeds, so a failed or
 * superseded load leaves the previous model in place. `dispose` (optional) is called for values that leave the slot
 * or that lose to a newer load.
 */
export class ModelSlot<T> {
  private value: T | null = null;
  private generation = 0;
  private lastError: Error | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly dispose?: (old: T) => void) {}

  get current(): T | null {
    return this.value;
  }

  /** The error of the most recent failed load, cleared by a successful one. */
  get error(): Error | null {
    return this.lastError;
  }

  async replaceIfValid(load: () => Promise<T>): Promise<ReplaceResult<T>> {
    const gen = ++this.generation;
    let next: T;
    try {
      next = await load();
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (gen !== this.generation) return { ok: false, error, superseded: true };
      this.lastError = error;
      this.notify();
      return { ok: false, error };
    }
    if (gen !== this.generation) {
      this.dispose?.(next);
      return { ok: false, error: new Error('a newer model load replaced this one'), superseded: true };
    }
    const old = this.value;
    this.value = next;
    this.lastError = null;
    if (old !== null && old !== next) this.dispose?.(old);
    this.notify();
    return { ok: true, value: next };
  }

  /** For useSyncExternalStore and the like; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
