/**
 * Turns many concurrent single-item calls into few multi-item statements. A call made while the database is
 * idle runs at once, alone; calls made while a batch is in flight wait for it and then go together, so
 * batches grow with the load and an idle system pays no added latency.
 *
 * A batch that throws is run again one item at a time, so one bad item fails only its own call; `run` must
 * therefore change nothing when it throws (one statement does that). An item it can answer only with an
 * error it answers with an Error instance, which rejects that call alone.
 */
export class Batcher<I, O> {
  private pending: Array<{ item: I; resolve: (value: O) => void; reject: (error: unknown) => void }> = [];
  private running = 0;

  /**
   * @param run - handles a batch; returns one result (or Error) per item, in the items' order.
   * @param options.maxSize - items per batch. Default 200.
   * @param options.maxConcurrent - batches in flight at once. Default 2.
   */
  constructor(
    private readonly run: (items: readonly I[]) => Promise<Array<O | Error>>,
    private readonly options: { maxSize?: number; maxConcurrent?: number } = {},
  ) {}

  call(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.pending.length === 0 || this.running >= (this.options.maxConcurrent ?? 2)) return;
    const batch = this.pending.splice(0, this.options.maxSize ?? 200);
    this.running++;
    void this.settle(batch).finally(() => {
      this.running--;
      this.flush();
    });
  }

  private async settle(batch: typeof this.pending): Promise<void> {
    try {
      const results = await this.run(batch.map((call) => call.item));
      batch.forEach((call, index) => settleCall(call, results[index]!));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      for (const call of batch) {
        await this.run([call.item]).then(
          (results) => settleCall(call, results[0]!),
          (itemError: unknown) => call.reject(itemError),
        );
      }
    }
  }
}

function settleCall<O>(call: { resolve: (value: O) => void; reject: (error: unknown) => void }, result: O | Error): void {
  if (result instanceof Error) call.reject(result);
  else call.resolve(result);
}
