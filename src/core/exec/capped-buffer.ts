/** Capped capture of command output. */

/** The marker put where captured output was cut (one format for every capture in perfloop). */
export function cutMarker(bytes: number): string {
  return `\n[… perfloop cut ${bytes} bytes …]\n`;
}

/**
 * Keeps the head and the tail of a stream within a byte limit, so a chatty command cannot fill
 * memory while the start (setup errors) and the end (the final traceback) are both kept.
 */
export class CappedBuffer {
  readonly limit: number;
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** Total bytes seen, kept or not. */
  total = 0;

  /** @param limit bytes kept at most (half head, half tail). */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Appends a chunk. */
  push(chunk: Buffer): void {
    this.total += chunk.length;
    const headRoom = Math.floor(this.limit / 2) - this.headBytes;
    if (headRoom > 0) {
      const part = chunk.subarray(0, headRoom);
      this.head.push(part);
      this.headBytes += part.length;
      chunk = chunk.subarray(part.length);
    }
    if (chunk.length === 0) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    const tailLimit = this.limit - Math.floor(this.limit / 2);
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= tailLimit)
      this.tailBytes -= this.tail.shift()?.length ?? 0;
  }

  /** True when bytes were dropped. */
  get truncated(): boolean {
    return (
      this.total > this.headBytes + this.tailBytes || this.tailBytes > this.limit - Math.floor(this.limit / 2)
    );
  }

  /** The kept text, with a marker where bytes were cut. */
  toString(): string {
    const head = Buffer.concat(this.head).toString("utf8");
    let tail = Buffer.concat(this.tail);
    const tailLimit = this.limit - Math.floor(this.limit / 2);
    if (tail.length > tailLimit) tail = tail.subarray(tail.length - tailLimit);
    const cut = this.total - this.headBytes - tail.length;
    return cut > 0 ? `${head}${cutMarker(cut)}${tail.toString("utf8")}` : head + tail.toString("utf8");
  }
}
