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
  // The next quote at or after `quoteFrom` in `quoteChunk`, kept between two nextRecordEnd calls on one chunk:
  // a chunk without quotes is then one scan for quotes, however many records it holds.
  private quoteChunk: Buffer | undefined;
  private quoteFrom = 0;
  private nextQuote = -1;

  push(chunk: Buffer): void {
    let at = 0;
    while ((at = this.nextRecordEnd(chunk, at)) !== -1);
  }

  /**
   * Scans `chunk` from `from` to the end of the record under way: returns the offset just past its newline (and
   * counts the record), or -1 when the chunk ends first (the quote state carries over to the next chunk).
   * What the file splitter cuts at: a record boundary is never inside a quoted field.
   */
  nextRecordEnd(chunk: Buffer, from: number): number {
    let at = from;
    const length = chunk.length;
    // -2: not looked up yet (-1 means there is none left in the chunk).
    let quote = this.quoteChunk === chunk && from >= this.quoteFrom ? this.nextQuote : -2;
    while (at < length) {
      if (this.inQuotes) {
        const close = chunk.indexOf(QUOTE, at);
        if (close === -1) break;
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
        this.quoteChunk = chunk;
        this.quoteFrom = newline + 1;
        this.nextQuote = quote;
        return newline + 1;
      } else {
        break;
      }
    }
    this.quoteChunk = undefined;
    return -1;
  }
}
