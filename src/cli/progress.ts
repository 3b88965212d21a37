/** What the import is doing: reading the file, moving rows into place, or finished. */
export type Phase = "reading" | "storing" | "done";

/**
 * Progress of a long import on stderr: rows and bytes read, rows per second, at most four
 * lines a second. On a terminal the line is redrawn in place; elsewhere (`--progress` into a
 * pipe or file) each report is its own line, so logs stay readable.
 */
export class Progress {
  private readonly started = performance.now();
  private last = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private bytes = 0;
  private rows = 0;

  constructor(
    private readonly out: NodeJS.WriteStream | undefined,
    private readonly totalBytes: number,
    private readonly intervalMs = 250,
  ) {}

  /** Counts bytes read from the file. */
  addBytes(n: number): void {
    this.bytes += n;
  }

  /** Reports the rows read so far; prints when the last report is old enough or `force`. */
  update(rows: number, phase: Phase, force = false): void {
    this.rows = rows;
    if (!this.out) return;
    const now = performance.now();
    if (!force && now - this.last < this.intervalMs) return;
    this.last = now;
    const line = this.line(phase, now);
    if (this.out.isTTY) {
      this.out.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else {
      this.out.write(`${line}\n`);
    }
  }

  /** Ends the in-place line on a terminal, so what follows starts on a line of its own. */
  end(): void {
    if (this.drawn) this.out?.write("\n");
    this.drawn = false;
  }

  /** Seconds since the import started. */
  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  private line(phase: Phase, now: number): string {
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = Math.round(this.rows / seconds);
    const percent =
      this.totalBytes > 0 ? ` (${Math.min(100, Math.floor((this.bytes / this.totalBytes) * 100))}%)` : "";
    const read = `${this.rows.toLocaleString("en-US")} rows, ${mb(this.bytes)} of ${mb(this.totalBytes)}${percent}, ${rate.toLocaleString("en-US")} rows/s`;
    if (phase === "done") {
      return `import: ${this.rows.toLocaleString("en-US")} rows, ${mb(this.bytes)}, done in ${seconds.toFixed(1)} s`;
    }
    return phase === "reading" ? `import: ${read}` : `import: ${read}; storing…`;
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}
