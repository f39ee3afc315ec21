const QUOTE = 0x22;
const NEWLINE = 0x0a;

/**
 * Counts CSV records in a byte stream as it passes, chunk by chunk: a newline ends a record unless it lies
 * inside a quoted field. A doubled quote ("") inside a field toggles twice, so it needs no special case.
 * Scans with indexOf, so the cost is per quote and newline, not per byte in JavaScript; the next quote is
 * looked up once per quote, not once per record (which made a chunk without quotes cost its length per record).
 */
export class CsvRecordCounter {
  private inQuotes = false;
  /** Records whose newline has been seen so far (the header row included). */
  records = 0;

  push(chunk: Buffer): void {
    let at = 0;
    const length = chunk.length;
    // The next quote at or after `at`, looked up again only once passed: a chunk without quotes is one scan.
    let quote = -2;
    while (at < length) {
      if (this.inQuotes) {
        const close = chunk.indexOf(QUOTE, at);
        if (close === -1) return;
        this.inQuotes = false;
        at = close + 1;
        continue;
      }
      if (quote !== -1 && quote < at) quote = chunk.indexOf(QUOTE, at);
      const newline = chunk.indexOf(NEWLINE, at);
      if (quote !== -1 && (newline === -1 || quote < newline)) {
        this.inQuotes = true;
        at = quote + 1;
      } else if (newline !== -1) {
        this.records++;
        at = newline + 1;
      } else {
        return;
      }
    }
  }
}
