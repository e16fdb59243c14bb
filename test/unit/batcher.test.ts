/** Group commit: batching, isolation of a bad item, failure of a whole batch, bounds. */
import { describe, expect, it } from '@jest/globals';
import { createBatcher } from '../../src/store/batcher.js';

const dataError = Object.assign(new Error('bad row'), { dataError: true });

describe('createBatcher', () => {
  it('gives items sent together one batch, and each caller its own result', async () => {
    const batches: number[][] = [];
    const double = createBatcher(async (items: number[]) => {
      batches.push(items);
      return items.map((n) => n * 2);
    });
    await expect(Promise.all([1, 2, 3, 4].map(double))).resolves.toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });

  it('sends an item alone at once when nothing else waits', async () => {
    const batches: number[][] = [];
    const echo = createBatcher(async (items: number[]) => {
      batches.push(items);
      return items;
    });
    await echo(1);
    await echo(2);
    expect(batches).toEqual([[1], [2]]);
  });

  it('gathers what arrives while batches run, within maxBatch and concurrency', async () => {
    let running = 0;
    let most = 0;
    const sizes: number[] = [];
    const slow = createBatcher(
      async (items: number[]) => {
        running += 1;
        most = Math.max(most, running);
        sizes.push(items.length);
        await new Promise((r) => setTimeout(r, 20));
        running -= 1;
        return items;
      },
      { maxBatch: 8, concurrency: 2 },
    );
    const out = await Promise.all(Array.from({ length: 50 }, (_, i) => slow(i)));
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBe(2);
    expect(Math.max(...sizes)).toBe(8);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(50);
  });

  it("retries a batch item by item when one item's data is refused: only that item fails", async () => {
    const calls: number[][] = [];
    const write = createBatcher(
      async (items: number[]) => {
        calls.push(items);
        if (items.includes(13)) throw dataError;
        return items;
      },
      { isolate: (err) => (err as { dataError?: boolean }).dataError === true },
    );
    const results = await Promise.allSettled([11, 12, 13, 14].map(write));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toBe(dataError);
    expect(calls).toEqual([[11, 12, 13, 14], [11], [12], [13], [14]]);
  });

  it('fails the whole batch, without retries, when the connection is the problem', async () => {
    let runs = 0;
    const lost = new Error('Connection terminated unexpectedly');
    const write = createBatcher(
      async (items: number[]) => {
        runs += 1;
        throw lost;
        return items;
      },
      { isolate: (err) => (err as { dataError?: boolean }).dataError === true },
    );
    const results = await Promise.allSettled([1, 2, 3].map(write));
    expect(results.every((r) => r.status === 'rejected' && r.reason === lost)).toBe(true);
    expect(runs).toBe(1);
  });

  it('reports every successful batch to observe', async () => {
    const seen: number[] = [];
    const echo = createBatcher(async (items: number[]) => items, { observe: (n, seconds) => seen.push(n + (seconds >= 0 ? 0 : NaN)) });
    await Promise.all([1, 2, 3].map(echo));
    await echo(4);
    expect(seen).toEqual([3, 1]);
  });
});
