import { pgEpochOffsetUs } from "./copy-binary.js";

/**
 * Incremental parser of PostgreSQL's binary COPY output (`COPY … TO STDOUT (FORMAT
 * binary)`). The stream arrives in chunks that do not align with rows; `push()` takes a
 * chunk and calls `row()` for every complete row, keeping the partial tail for the next
 * chunk. Field access goes straight to the Buffer: no per-field objects, no text parsing.
 */
export class CopyBinaryReader {
  private pending: Buffer | undefined;
  private headerDone = false;
  /** True once the trailer (field count -1) has been read. */
  ended = false;

  /** The current row's buffer and the offsets of its fields (-1 = NULL). */
  buf: Buffer = Buffer.alloc(0);
  readonly start: Int32Array;
  readonly len: Int32Array;

  constructor(readonly fields: number) {
    this.start = new Int32Array(fields);
    this.len = new Int32Array(fields);
  }

  /** Parses what `chunk` completes; calls `row()` once per complete row. */
  push(chunk: Buffer, row: () => void): void {
    const b = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let p = 0;
    if (!this.headerDone) {
      if (b.length < 19) {
        this.pending = b;
        return;
      }
      if (b.toString("latin1", 0, 11) !== "PGCOPY\n\xff\r\n\0") throw new Error("not a binary COPY stream");
      const ext = b.readInt32BE(15);
      if (b.length < 19 + ext) {
        this.pending = b;
        return;
      }
      p = 19 + ext;
      this.headerDone = true;
    }
    const n = this.fields;
    const start = this.start;
    const len = this.len;
    this.buf = b;
    for (;;) {
      if (p + 2 > b.length) break;
      const count = b.readInt16BE(p);
      if (count === -1) {
        this.ended = true;
        return;
      }
      if (count !== n) throw new Error(`COPY row has ${count} fields, expected ${n}`);
      let q = p + 2;
      let complete = true;
      for (let i = 0; i < n; i++) {
        if (q + 4 > b.length) {
          complete = false;
          break;
        }
        const l = b.readInt32BE(q);
        q += 4;
        if (l < 0) {
          start[i] = -1;
          len[i] = 0;
          continue;
        }
        if (q + l > b.length) {
          complete = false;
          break;
        }
        start[i] = q;
        len[i] = l;
        q += l;
      }
      if (!complete) break;
      row();
      p = q;
    }
    if (p < b.length) this.pending = Buffer.from(b.subarray(p));
  }

  isNull(i: number): boolean {
    return this.start[i] === -1;
  }

  float8(i: number): number {
    return this.buf.readDoubleBE(this.start[i] as number);
  }

  /** int8 as a bigint. */
  int8(i: number): bigint {
    return this.buf.readBigInt64BE(this.start[i] as number);
  }

  /** The high and low 32 bits of an int8, for cheap equality checks without a bigint. */
  int8Hi(i: number): number {
    return this.buf.readInt32BE(this.start[i] as number);
  }
  int8Lo(i: number): number {
    return this.buf.readUInt32BE((this.start[i] as number) + 4);
  }

  /** timestamptz as microseconds since the Unix epoch. */
  timestampUs(i: number): bigint {
    return this.buf.readBigInt64BE(this.start[i] as number) + pgEpochOffsetUs;
  }

  text(i: number): string {
    const s = this.start[i] as number;
    return this.buf.toString("utf8", s, s + (this.len[i] as number));
  }
}
