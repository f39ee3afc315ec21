import { Batcher } from '../src/batcher';

describe('Batcher', () => {
  it('runs a call on an idle batcher at once, alone, and groups the calls made while it runs', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new Batcher<number, number>(
      async (items) => {
        batches.push([...items]);
        if (batches.length === 1) await gate;
        return items.map((item) => item * 10);
      },
      { maxConcurrent: 1 },
    );
    const first = batcher.call(1);
    const rest = [2, 3, 4].map((item) => batcher.call(item));
    expect(batches).toEqual([[1]]);
    release();
    expect(await first).toBe(10);
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('keeps batches within maxSize', async () => {
    const sizes: number[] = [];
    const batcher = new Batcher<number, number>(
      async (items) => {
        sizes.push(items.length);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return [...items];
      },
      { maxSize: 3, maxConcurrent: 1 },
    );
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.call(i)));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('fails only the bad item of a failed batch: the others are run again one by one', async () => {
    const batcher = new Batcher<number, number>(
      async (items) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (items.includes(13)) throw new Error('13 is refused');
        return items.map((item) => item + 1);
      },
      { maxConcurrent: 1 },
    );
    const calls = [1, 13, 2, 3].map((item) => batcher.call(item).then((value) => ({ value }), (error: Error) => ({ error: error.message })));
    expect(await Promise.all(calls)).toEqual([{ value: 2 }, { error: '13 is refused' }, { value: 3 }, { value: 4 }]);
  });

  it('rejects only the call answered with an Error, without running the batch again', async () => {
    let runs = 0;
    const batcher = new Batcher<number, number>(
      async (items) => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 1));
        return items.map((item) => (item === 13 ? new Error('13 is unknown') : item));
      },
      { maxConcurrent: 1 },
    );
    const calls = [1, 13, 2].map((item) => batcher.call(item).then((value) => ({ value }), (error: Error) => ({ error: error.message })));
    expect(await Promise.all(calls)).toEqual([{ value: 1 }, { error: '13 is unknown' }, { value: 2 }]);
    expect(runs).toBe(2);
  });
});
