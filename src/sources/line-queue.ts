/**
 * Lines a pushed source (a process's output, stdin) received and the daemon
 * has not taken yet. Bounded: above `high` it asks the producer to pause, and
 * once taken below `low` to resume, so a flood waits in the pipe, not in memory.
 */
export class LineQueue<T> {
  private items: T[] = [];
  private head = 0;
  private paused = false;

  constructor(
    private readonly flow: { pause(): void; resume(): void },
    private readonly high = 20_000,
    private readonly low = 5_000,
  ) {}

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
    if (!this.paused && this.size >= this.high) {
      this.paused = true;
      this.flow.pause();
    }
  }

  /** Up to `max` items, oldest first. */
  take(max: number): T[] {
    const end = Math.min(this.items.length, this.head + max);
    const out = this.items.slice(this.head, end);
    this.head = end;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.size <= this.low) {
      this.paused = false;
      this.flow.resume();
    }
    return out;
  }

  /** The newest item not taken yet. */
  last(): T | undefined {
    return this.size ? this.items[this.items.length - 1] : undefined;
  }
}
