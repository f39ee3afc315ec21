/**
 * Splits a streamed text into lines (LF or CRLF) over large chunks, calling its sink synchronously once per
 * non-blank line, with the line's 1-based number. Used for NDJSON, where one line is one record.
 */
export class LineSplitter {
  private leftover = '';
  private waiting: string[] = [];
  private waitingLength = 0;
  private atStart = true;
  private line = 1;

  constructor(private readonly onLine: (text: string, line: number) => void) {}

  push(chunk: string): void {
    if (this.atStart) {
      if (chunk === '') return;
      this.atStart = false;
      if (chunk.startsWith('\uFEFF')) chunk = chunk.slice(1);
    }
    this.waiting.push(chunk);
    this.waitingLength += chunk.length;
    // As in the CSV parser: rescan an unfinished line only once the new text is at least as long as it.
    if (this.waitingLength < this.leftover.length) return;
    this.split(false);
  }

  /** The number of the next line to be split off: how far splitting got. */
  get nextLine(): number {
    return this.line;
  }

  end(): void {
    this.split(true);
  }

  private split(final: boolean): void {
    const text = this.leftover + (this.waiting.length === 1 ? this.waiting[0]! : this.waiting.join(''));
    this.waiting = [];
    this.waitingLength = 0;
    let pos = 0;
    for (let lf = text.indexOf('\n'); lf !== -1; lf = text.indexOf('\n', pos)) {
      this.emit(text, pos, lf);
      pos = lf + 1;
    }
    if (final && pos < text.length) {
      this.emit(text, pos, text.length);
      pos = text.length;
    }
    this.leftover = pos === 0 ? text : text.slice(pos);
  }

  private emit(text: string, start: number, end: number): void {
    const line = this.line++;
    const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const content = text.slice(start, stop);
    // Blank lines separate nothing in NDJSON and are not records; the cheap first-character test spares a trim.
    if (content.length > 0 && (content.charCodeAt(0) > 32 || content.trim() !== '')) this.onLine(content, line);
  }
}
