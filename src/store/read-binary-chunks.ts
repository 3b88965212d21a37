import { halves, type Source } from "./block-source.js";
import type { SeriesName } from "./merge.js";

/**
 * Encodes merged points straight from the stored blocks' bytes into the protobuf wire form of
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
  /** The SeriesRef of the next chunk: named for a series' first chunk, then the id alone. */
  private seriesRef: Uint8Array = new Uint8Array(0);
  private seriesIdText = "";
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
  constructor(
    private readonly metadataBytes: (json: string) => Uint8Array,
    /** A SeriesRef message: the id, plus name and labels when given (first chunk of a series). */
    private readonly seriesRefBytes: (seriesId: string, named: SeriesName | undefined) => Uint8Array,
    /** Known times, run ids and change times per point (off for ReadValuesRequest.values_only). */
    private readonly provenance: boolean,
    /** changed_by per point (CORRECTIONS). */
    private readonly withChangedBy: boolean,
  ) {}

  private readonly chunk = new Bytes();
  private cachedSource: Source | undefined;
  private cached:
    | { known: Uint8Array; run: Uint8Array; change: Uint8Array; changedBy: Uint8Array }
    | undefined;

  /** Starts the chunk of a new series (closing the open one). */
  startSeries(seriesId: string, named?: SeriesName): void {
    this.closeChunk();
    this.seriesIdText = seriesId;
    this.seriesRef = this.seriesRefBytes(seriesId, named);
  }

  /**
   * Appends points [from, to) of a source. Valid times are re-encoded as varints from their
   * two 32-bit halves; values are copied and byte-swapped in one native call when the
   * range has no null; the per-source fields (known time, run id, change time) were
   * encoded once per source.
   */
  range(src: Source, from: number, to: number): void {
    const i0 = this.rows;
    const n = to - from;
    const times = src.times;
    for (let i = from; i < to; i++)
      this.validTimes.varint64(times.readUInt32BE(8 * i + 4), times.readInt32BE(8 * i));
    this.values.swapped64(src.values, 8 * from, 8 * to);
    if (src.nulls) {
      for (let i = from; i < to; i++) {
        const isNull = src.nulls[i] === 1;
        if (isNull && !this.anyNull) {
          this.anyNull = true;
          for (let k = 0; k < i0 + (i - from); k++) this.nulls.byte(0);
        }
        if (this.anyNull) this.nulls.byte(isNull ? 1 : 0);
      }
    } else if (this.anyNull) for (let k = 0; k < n; k++) this.nulls.byte(0);
    if (src.ends) {
      if (!this.anyEnd) {
        this.anyEnd = true;
        for (let k = 0; k < i0; k++) this.ends.byte(0);
      }
      const e = src.ends;
      for (let i = from; i < to; i++) this.ends.varint64(e.readUInt32BE(8 * i + 4), e.readInt32BE(8 * i));
    } else if (this.anyEnd) for (let k = 0; k < n; k++) this.ends.byte(0);
    if (src.annotations) {
      if (!this.anyAnnotation) {
        this.anyAnnotation = true;
        for (let k = 0; k < i0; k++) this.annotations.field(6, emptyBytes);
      }
      for (let i = from; i < to; i++) this.annotations.field(6, utf8.encode(src.annotation(i)));
    } else if (this.anyAnnotation) for (let k = 0; k < n; k++) this.annotations.field(6, emptyBytes);
    if (src.tags) {
      if (!this.anyTags) {
        this.anyTags = true;
        for (let k = 0; k < i0; k++) this.tags.field(7, emptyBytes);
      }
      for (let i = from; i < to; i++) {
        const list = new Bytes();
        for (const t of src.tagList(i)) list.field(1, utf8.encode(t));
        this.tags.field(7, list.view());
      }
    } else if (this.anyTags) for (let k = 0; k < n; k++) this.tags.field(7, emptyBytes);
    if (src.metadata) {
      if (!this.anyMetadata) {
        this.anyMetadata = true;
        for (let k = 0; k < i0; k++) this.metadata.field(8, emptyBytes);
      }
      for (let i = from; i < to; i++) {
        const m = src.metadataJson(i);
        this.metadata.field(8, m === "" ? emptyBytes : this.metadataBytes(m));
      }
    } else if (this.anyMetadata) for (let k = 0; k < n; k++) this.metadata.field(8, emptyBytes);
    if (this.provenance) {
      const p = this.perSource(src);
      this.knownTimes.repeat(p.known, n);
      this.runIds.repeat(p.run, n);
      this.changeTimes.repeat(p.change, n);
      if (this.withChangedBy) this.changedBy.repeat(p.changedBy, n);
    }
    this.rows += n;
    this.count += n;
  }

  /** A source's per-point fields, encoded once (the last source is cached: ranges repeat it). */
  private perSource(src: Source): {
    known: Uint8Array;
    run: Uint8Array;
    change: Uint8Array;
    changedBy: Uint8Array;
  } {
    if (this.cachedSource === src && this.cached) return this.cached;
    const b = new Bytes();
    const enc = (f: (x: Bytes) => void) => {
      b.reset();
      f(b);
      return b.copy();
    };
    const [kh, kl] = halves(src.knownUs);
    const [ch, cl] = halves(src.changeUs);
    this.cached = {
      known: enc((x) => x.varint64(kl, kh)),
      run: enc((x) => x.field(10, utf8.encode(src.runIdText))),
      change: enc((x) => x.varint64(cl, ch)),
      changedBy: enc((x) => x.field(12, utf8.encode(src.changedBy ?? ""))),
    };
    this.cachedSource = src;
    return this.cached;
  }

  /** Closes the open chunk and hands out everything encoded so far. */
  take(): Uint8Array[] {
    this.closeChunk();
    return this.done.splice(0, this.done.length);
  }

  private closeChunk(): void {
    if (this.rows === 0) return;
    // Assembled in a reused buffer, then copied once into an exact one: a read of millions
    // of points makes little garbage per message.
    const c = this.chunk;
    c.reset();
    c.field(1, this.seriesRef);
    c.field(2, this.validTimes.view());
    c.field(3, this.values.view());
    if (this.anyNull) c.field(4, this.nulls.view());
    if (this.anyEnd) c.field(5, this.ends.view());
    if (this.anyAnnotation) c.raw(this.annotations.view());
    if (this.anyTags) c.raw(this.tags.view());
    if (this.anyMetadata) c.raw(this.metadata.view());
    if (this.provenance) {
      c.field(9, this.knownTimes.view());
      c.raw(this.runIds.view());
      c.field(11, this.changeTimes.view());
      c.raw(this.changedBy.view());
    }
    // The chunk as a length-delimited field value: its length, then its bytes.
    const body = c.view();
    const out = new Uint8Array(varintSize(body.length) + body.length);
    let p = 0;
    for (let v = body.length; ; v = Math.floor(v / 128)) {
      if (v < 128) {
        out[p++] = v;
        break;
      }
      out[p++] = (v % 128) | 0x80;
    }
    out.set(body, p);
    this.done.push(out);
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
    // Later chunks of the same series carry its id only.
    this.seriesRef = this.seriesRefBytes(this.seriesIdText, undefined);
  }
}

const utf8 = new TextEncoder();
const emptyBytes = new Uint8Array(0);

/** Bytes of the varint of a non-negative safe integer. */
function varintSize(v: number): number {
  let n = 1;
  for (let x = v; x >= 128; x = Math.floor(x / 128)) n++;
  return n;
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

  /** `bytes` n times: written once, then doubled with native copies. */
  repeat(bytes: Uint8Array, n: number): void {
    const total = bytes.length * n;
    if (total === 0) return;
    this.ensure(total);
    const start = this.length;
    this.buf.set(bytes, start);
    for (let done = bytes.length; done < total; ) {
      const c = Math.min(done, total - done);
      this.buf.copyWithin(start + done, start, start + c);
      done += c;
    }
    this.length += total;
  }

  /** Bytes [from, to) of 8-byte big-endian numbers, appended little-endian (protobuf's fixed64). */
  swapped64(src: Buffer, from: number, to: number): void {
    const n = to - from;
    this.ensure(n);
    src.copy(this.buf, this.length, from, to);
    this.buf.subarray(this.length, this.length + n).swap64();
    this.length += n;
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
