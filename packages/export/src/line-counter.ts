const NEWLINE = 0x0a;

/**
 * Counts records framed one per line (JSON Lines): every newline ends one. A JSON text holds no raw newline, but it
 * may hold any number of `"`, which is why such a stream must not go through the quote-aware CsvRecordCounter.
 * Same interface as CsvRecordCounter, so the outputs and the file splitter take either.
 */
export class LineCounter {
  /** Records whose newline has been seen so far. */
  records = 0;

  push(chunk: Buffer): void {
    let at = 0;
    while ((at = this.nextRecordEnd(chunk, at)) !== -1);
  }

  /** The offset just past the next newline of `chunk` at or after `from` (the record is counted), or -1 when there is none. */
  nextRecordEnd(chunk: Buffer, from: number): number {
    const newline = chunk.indexOf(NEWLINE, from);
    if (newline === -1) return -1;
    this.records++;
    return newline + 1;
  }
}
