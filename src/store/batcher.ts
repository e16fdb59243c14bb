/**
 * Group commit, for any database work that can be done for many requests at
 * once. Each caller waits for its own result, but the items that arrive while
 * a batch is running share the next one: under an election-day surge one
 * transaction (one fsync, one round trip) serves dozens of USSD turns.
 *
 * At low traffic an item goes out at once, alone: no timer to wait for. Items
 * of one I/O phase (requests read together) are gathered with setImmediate.
 */

export interface BatcherOptions {
  /** the most items in one batch (default 64) */
  maxBatch?: number;
  /** batches running at once (default 2: one completes while the next fills) */
  concurrency?: number;
  /**
   * When a batch fails with an error this says is about one item's data (not
   * the connection), the items are run again one by one, so only the item at
   * fault fails. Default: never (the whole batch fails).
   */
  isolate?: (err: unknown) => boolean;
  /** told of every batch that succeeded: items, seconds taken */
  observe?: (items: number, seconds: number) => void;
}

interface Pending<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/** `run` gets a batch and must return one result per item, in order. */
export function createBatcher<I, O>(run: (items: I[]) => Promise<O[]>, options: BatcherOptions = {}): (item: I) => Promise<O> {
  const maxBatch = options.maxBatch ?? 64;
  const concurrency = options.concurrency ?? 2;
  const queue: Pending<I, O>[] = [];
  let running = 0;
  let scheduled = false;

  async function flush(batch: Pending<I, O>[]): Promise<void> {
    try {
      const began = performance.now();
      const out = await run(batch.map((p) => p.item));
      options.observe?.(batch.length, (performance.now() - began) / 1000);
      batch.forEach((p, i) => p.resolve(out[i]!));
    } catch (err) {
      if (batch.length === 1 || !options.isolate?.(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      await Promise.all(
        batch.map(async (p) => {
          try {
            p.resolve((await run([p.item]))[0]!);
          } catch (e) {
            p.reject(e);
          }
        }),
      );
    }
  }

  function pump(): void {
    scheduled = false;
    while (running < concurrency && queue.length) {
      const batch = queue.splice(0, maxBatch);
      running += 1;
      void flush(batch).finally(() => {
        running -= 1;
        pump();
      });
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled && running < concurrency) {
        scheduled = true;
        setImmediate(pump);
      }
    });
}
