const NEWLINE = 0x0a;

/**
 * Cuts a byte stream into lines. A partial line is held until its newline;
 * a line longer than `maxLineBytes` is cut there (its rest skipped) and
 * counted, so one endless line can neither stall the reader nor fill memory.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carried = 0;
  private skipping = false;
  cut = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      this.finish(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) this.hold(chunk.subarray(start));
  }

  /** The stream ended: a last line without a newline is still a line. */
  end(): void {
    if (this.carried > 0 && !this.skipping) this.emit(Buffer.concat(this.carry, this.carried));
    this.carry = [];
    this.carried = 0;
    this.skipping = false;
  }

  private hold(piece: Buffer): void {
    if (this.skipping) return;
    if (this.carried + piece.length > this.maxLineBytes) {
      this.carry.push(piece);
      this.emit(Buffer.concat(this.carry, this.carried + piece.length).subarray(0, this.maxLineBytes));
      this.cut++;
      this.carry = [];
      this.carried = 0;
      this.skipping = true;
      return;
    }
    // Copied: the stream may reuse the chunk's memory.
    this.carry.push(Buffer.from(piece));
    this.carried += piece.length;
  }

  private finish(piece: Buffer): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    let line = piece;
    if (this.carried > 0) {
      line = Buffer.concat([...this.carry, piece], this.carried + piece.length);
      this.carry = [];
      this.carried = 0;
    }
    if (line.length > this.maxLineBytes) {
      line = line.subarray(0, this.maxLineBytes);
      this.cut++;
    }
    this.emit(line);
  }

  private emit(line: Buffer): void {
    this.onLine(line.toString('utf8'));
  }
}
