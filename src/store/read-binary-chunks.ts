import type { CopyBinaryReader } from "./copy-binary-reader.js";

/**
 * Encodes read rows straight from binary COPY fields into the protobuf wire form of
 * `tdb.v1.PointChunk` (one chunk per run of one series), without building message
 * objects or a bigint per value. This is what makes the read path run at COPY speed: the
 * int64 columns are re-encoded as varints from their two 32-bit halves, doubles are
 * byte-swapped. The bytes are handed to protobuf-es as the unknown field 1 of a
 * ReadValuesResponse (`chunks`), which its binary writer copies verbatim, so every binary
 * client decodes an ordinary message. (JSON clients take the object path instead.)
 *
 * Field numbers follow proto/tdb/v1/types.proto (PointChunk): 1 series (SeriesRef: 1
 * series_id), 2 valid_times, 3 values, 4 nulls, 5 valid_time_ends, 6 annotations, 7 tags
 * (StringList: 1 values), 8 metadata, 9 known_times, 10 run_ids, 11 change_times,
 * 12 changed_by.
 */
export class PointChunkEncoder {
  private seriesId = new Uint8Array(0);
  private rows = 0;
  private readonly validTimes = new Bytes();
  private readonly values = new Bytes();
  private readonly nulls = new Bytes();
  private anyNull = false;
  private readonly ends = new Bytes();
  private anyEnd = false;
  private readonly annotations = new Bytes();
  private anyAnnotation = false;
  private readonly tags = new Bytes();
  private anyTags = false;
  private readonly metadata = new Bytes();
  private anyMetadata = false;
  private readonly knownTimes = new Bytes();
  private readonly runIds = new Bytes();
  private readonly changeTimes = new Bytes();
  private readonly changedBy = new Bytes();

  /** Encoded chunks (each with its length prefix) ready to be sent. */
  readonly done: Uint8Array[] = [];
  /** Rows in `done` plus the open chunk. */
  count = 0;

  /**
   * @param metadataBytes encodes one metadata JSON object as google.protobuf.Struct bytes
   *   (rare; done by the caller with protobuf-es).
   */
  constructor(private readonly metadataBytes: (json: string) => Uint8Array) {}

  /** Starts the chunk of a new series (closing the open one). */
  startSeries(seriesId: string): void {
    this.closeChunk();
    this.seriesId = utf8.encode(seriesId);
  }

  /**
   * Appends the current row of `r`, whose fields are: 0 series_id, 1 valid_time, 2 value,
   * 3 valid_time_end, 4 annotation, 5 tags (JSON array text), 6 metadata (JSON text),
   * 7 known_time, 8 run_id, 9 change_time[, 10 changed_by].
   */
  row(r: CopyBinaryReader, runId: Uint8Array, withChangedBy: boolean): void {
    const buf = r.buf;
    const start = r.start;
    const i = this.rows;
    timestampVarint(this.validTimes, buf, start[1] as number);
    const v = start[2] as number;
    if (v < 0) {
      this.values.double(0);
      if (!this.anyNull) {
        this.anyNull = true;
        for (let k = 0; k < i; k++) this.nulls.byte(0);
      }
      this.nulls.byte(1);
    } else {
      this.values.double(buf.readDoubleBE(v));
      if (this.anyNull) this.nulls.byte(0);
    }
    const e = start[3] as number;
    if (e >= 0) {
      if (!this.anyEnd) {
        this.anyEnd = true;
        for (let k = 0; k < i; k++) this.ends.byte(0);
      }
      timestampVarint(this.ends, buf, e);
    } else if (this.anyEnd) this.ends.byte(0);
    const a = start[4] as number;
    if (a >= 0) {
      if (!this.anyAnnotation) {
        this.anyAnnotation = true;
        for (let k = 0; k < i; k++) this.annotations.field(6, emptyBytes);
      }
      this.annotations.field(6, buf.subarray(a, a + (r.len[4] as number)));
    } else if (this.anyAnnotation) this.annotations.field(6, emptyBytes);
    const t = start[5] as number;
    if (t >= 0) {
      if (!this.anyTags) {
        this.anyTags = true;
        for (let k = 0; k < i; k++) this.tags.field(7, emptyBytes);
      }
      const list = new Bytes();
      for (const s of JSON.parse(r.text(5)) as string[]) list.field(1, utf8.encode(s));
      this.tags.field(7, list.view());
    } else if (this.anyTags) this.tags.field(7, emptyBytes);
    const m = start[6] as number;
    if (m >= 0) {
      if (!this.anyMetadata) {
        this.anyMetadata = true;
        for (let k = 0; k < i; k++) this.metadata.field(8, emptyBytes);
      }
      this.metadata.field(8, this.metadataBytes(r.text(6)));
    } else if (this.anyMetadata) this.metadata.field(8, emptyBytes);
    timestampVarint(this.knownTimes, buf, start[7] as number);
    this.runIds.field(10, runId);
    timestampVarint(this.changeTimes, buf, start[9] as number);
    if (withChangedBy) {
      const c = start[10] as number;
      this.changedBy.field(12, c >= 0 ? buf.subarray(c, c + (r.len[10] as number)) : emptyBytes);
    }
    this.rows++;
    this.count++;
  }

  /** Closes the open chunk and hands out everything encoded so far. */
  take(): Uint8Array[] {
    this.closeChunk();
    return this.done.splice(0, this.done.length);
  }

  private closeChunk(): void {
    if (this.rows === 0) return;
    const c = new Bytes();
    const ref = new Bytes();
    ref.field(1, this.seriesId);
    c.field(1, ref.view());
    c.field(2, this.validTimes.view());
    c.field(3, this.values.view());
    if (this.anyNull) c.field(4, this.nulls.view());
    if (this.anyEnd) c.field(5, this.ends.view());
    if (this.anyAnnotation) c.raw(this.annotations.view());
    if (this.anyTags) c.raw(this.tags.view());
    if (this.anyMetadata) c.raw(this.metadata.view());
    c.field(9, this.knownTimes.view());
    c.raw(this.runIds.view());
    c.field(11, this.changeTimes.view());
    c.raw(this.changedBy.view());
    // The chunk as a length-delimited field value: its length, then its bytes.
    const out = new Bytes();
    out.varint(c.length);
    out.raw(c.view());
    this.done.push(out.copy());
    for (const b of [
      this.validTimes,
      this.values,
      this.nulls,
      this.ends,
      this.annotations,
      this.tags,
      this.metadata,
      this.knownTimes,
      this.runIds,
      this.changeTimes,
      this.changedBy,
    ])
      b.reset();
    this.anyNull = this.anyEnd = this.anyAnnotation = this.anyTags = this.anyMetadata = false;
    this.rows = 0;
  }
}

const utf8 = new TextEncoder();
const emptyBytes = new Uint8Array(0);
const two32 = 4294967296;
/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01), as a double (exact). */
const pgEpochUs = 946_684_800_000_000;

/**
 * Appends the varint of a timestamptz read at `pos` (int64 µs since 2000) as µs since the
 * Unix epoch. Doubles are exact below 2^53 µs (the year 2255); beyond, bigint arithmetic.
 */
function timestampVarint(out: Bytes, buf: Buffer, pos: number): void {
  const hi = buf.readInt32BE(pos);
  const lo = buf.readUInt32BE(pos + 4);
  const v = hi * two32 + lo + pgEpochUs;
  if (Math.abs(v) < 2 ** 53) {
    const h = Math.floor(v / two32);
    out.varint64(v - h * two32, h | 0);
  } else {
    const b = BigInt.asUintN(64, buf.readBigInt64BE(pos) + BigInt(pgEpochUs));
    out.varint64(Number(b & 0xffffffffn), Number(b >> 32n) | 0);
  }
}

/** A growable byte buffer with the protobuf primitives the encoder needs. */
class Bytes {
  private buf = Buffer.allocUnsafe(4096);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  reset(): void {
    this.length = 0;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  copy(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.length);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }

  /** An unsigned varint of a non-negative safe integer (lengths, tags). */
  varint(v: number): void {
    this.ensure(10);
    while (v > 0x7f) {
      this.buf[this.length++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.length++] = v;
  }

  /** The varint of a 64-bit integer given as its low (unsigned) and high (signed) halves. */
  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.length;
    for (let i = 0; i < 28; i += 7) {
      const shift = lo >>> i;
      const more = !(shift >>> 7 === 0 && hi === 0);
      b[p++] = (more ? shift | 0x80 : shift) & 0xff;
      if (!more) {
        this.length = p;
        return;
      }
    }
    const split = ((lo >>> 28) & 0x0f) | ((hi & 0x07) << 4);
    const moreHi = !(hi >> 3 === 0);
    b[p++] = (moreHi ? split | 0x80 : split) & 0xff;
    if (moreHi) {
      let i = 3;
      for (; i < 31; i += 7) {
        const shift = hi >>> i;
        const more = !(shift >>> 7 === 0);
        b[p++] = (more ? shift | 0x80 : shift) & 0xff;
        if (!more) break;
      }
      if (i >= 31) b[p++] = (hi >>> 31) & 0x01;
    }
    this.length = p;
  }

  /** A length-delimited field: tag, length, bytes. */
  field(no: number, bytes: Uint8Array): void {
    this.varint((no << 3) | 2);
    this.varint(bytes.length);
    this.raw(bytes);
  }
}
