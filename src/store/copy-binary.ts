/**
 * Encoder for PostgreSQL's binary COPY format, written straight into Buffers: no per-row
 * objects, no text parsing on the server. Format: 19-byte header, then per row an int16
 * field count and per field an int32 length (-1 = NULL) and the big-endian value; an int16
 * -1 trailer ends the stream. timestamptz is int64 microseconds since 2000-01-01 UTC.
 */

/** Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01). */
export const pgEpochOffsetUs = 946_684_800_000_000n;

/** The COPY header: signature, flags, header-extension length. */
export const copyHeader = Buffer.concat([
  Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"),
  Buffer.alloc(8), // int32 flags + int32 extension length, all zero
]);

/** The COPY trailer. */
export const copyTrailer = Buffer.from([0xff, 0xff]);

/** Grows a buffer as rows are appended; `take()` hands out what was written so far. */
export class CopyWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  fieldCount(n: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(n, this.pos);
    this.pos += 2;
  }

  null(): void {
    this.ensure(4);
    this.buf.writeInt32BE(-1, this.pos);
    this.pos += 4;
  }

  int4(v: number): void {
    this.ensure(8);
    this.buf.writeInt32BE(4, this.pos);
    this.buf.writeInt32BE(v, this.pos + 4);
    this.pos += 8;
  }

  int8(v: bigint): void {
    this.ensure(12);
    this.buf.writeInt32BE(8, this.pos);
    this.buf.writeBigInt64BE(v, this.pos + 4);
    this.pos += 12;
  }

  /** A uuid given as its 16 bytes. */
  uuid(bytes: Uint8Array): void {
    this.ensure(20);
    this.buf.writeInt32BE(16, this.pos);
    this.buf.set(bytes, this.pos + 4);
    this.pos += 20;
  }

  float8(v: number): void {
    this.ensure(12);
    this.buf.writeInt32BE(8, this.pos);
    this.buf.writeDoubleBE(v, this.pos + 4);
    this.pos += 12;
  }

  /** A timestamptz given as microseconds since the Unix epoch. */
  timestampUs(unixUs: bigint): void {
    this.int8(unixUs - pgEpochOffsetUs);
  }

  text(s: string): void {
    const n = Buffer.byteLength(s, "utf8");
    this.ensure(4 + n);
    this.buf.writeInt32BE(n, this.pos);
    this.buf.write(s, this.pos + 4, "utf8");
    this.pos += 4 + n;
  }

  /** jsonb: a version byte (1) and the JSON text. */
  jsonb(json: string): void {
    const n = Buffer.byteLength(json, "utf8");
    this.ensure(5 + n);
    this.buf.writeInt32BE(n + 1, this.pos);
    this.buf.writeUInt8(1, this.pos + 4);
    this.buf.write(json, this.pos + 5, "utf8");
    this.pos += 5 + n;
  }

  /** text[] with one dimension and no NULL elements. */
  textArray(values: readonly string[]): void {
    const bodies = values.map((v) => Buffer.from(v, "utf8"));
    const size = 20 + bodies.reduce((a, b) => a + 4 + b.length, 0);
    this.ensure(4 + size);
    const b = this.buf;
    let p = this.pos;
    b.writeInt32BE(size, p);
    b.writeInt32BE(1, p + 4); // ndim
    b.writeInt32BE(0, p + 8); // has nulls
    b.writeInt32BE(25, p + 12); // element type: text
    b.writeInt32BE(values.length, p + 16);
    b.writeInt32BE(1, p + 20); // lower bound
    p += 24;
    for (const body of bodies) {
      b.writeInt32BE(body.length, p);
      body.copy(b, p + 4);
      p += 4 + body.length;
    }
    this.pos = p;
  }

  /** bytea: the bytes as they are. */
  bytea(bytes: Uint8Array): void {
    this.ensure(4 + bytes.length);
    this.buf.writeInt32BE(bytes.length, this.pos);
    this.buf.set(bytes, this.pos + 4);
    this.pos += 4 + bytes.length;
  }

  raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }

  /** The bytes written since the last take(), as a fresh Buffer; the writer starts over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}
