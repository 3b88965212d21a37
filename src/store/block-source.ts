import type { CopyBinaryReader } from "./copy-binary-reader.js";

/**
 * One block of stored versions as a read sees it: a block of `point_blocks`, or one row of
 * `point_corrections` as a block of one point (the read SQL shapes both alike, see
 * read-values.ts). Times stay in their big-endian bytes and are compared as two 32-bit
 * halves, so every int64 (years 0001–9999) is exact without a bigint per point.
 */
export class Source {
  readonly seriesHi: number;
  readonly seriesLo: number;
  readonly seriesId: string;
  /** First valid time of the block (unclipped), as halves of µs since the Unix epoch. */
  readonly firstHi: number;
  readonly firstLo: number;
  readonly knownUs: bigint;
  readonly changeUs: bigint;
  readonly runId: bigint;
  readonly runIdText: string;
  readonly n: number;
  /** n × int64 big-endian, µs since the Unix epoch, strictly increasing. */
  readonly times: Buffer;
  /** n × float64 big-endian. */
  readonly values: Buffer;
  readonly nulls: Buffer | undefined;
  /** n × int64 big-endian, 0 = no end. */
  readonly ends: Buffer | undefined;
  readonly annotations: (string | null)[] | undefined;
  readonly tags: string[][] | undefined;
  /** JSON object text per point ("" = none). */
  readonly metadata: string[] | undefined;
  readonly changedBy: string | undefined;
  /** The merge cursor: the next point to consider, and the end of the read's window. */
  pos = 0;
  end: number;

  /** Reads the current row of a read's COPY stream (fields as in readSql's SELECT). */
  constructor(r: CopyBinaryReader) {
    const b = r.buf;
    const s = r.start;
    this.seriesHi = b.readInt32BE(s[0] as number);
    this.seriesLo = b.readUInt32BE((s[0] as number) + 4);
    this.seriesId = r.int8(0).toString();
    [this.firstHi, this.firstLo] = halves(r.timestampUs(1));
    this.knownUs = r.timestampUs(2);
    this.changeUs = r.timestampUs(3);
    this.runId = r.int8(4);
    this.runIdText = this.runId.toString();
    // Copies: the reader's buffer is reused for the next network chunk's rows.
    this.times = copyField(r, 5) as Buffer;
    this.n = this.times.length / 8;
    this.values = copyField(r, 6) as Buffer;
    this.nulls = copyField(r, 7);
    this.ends = copyField(r, 8);
    this.annotations = r.isNull(9) ? undefined : (JSON.parse(r.text(9)) as (string | null)[]);
    this.tags = r.isNull(10) ? undefined : (JSON.parse(r.text(10)) as string[][]);
    this.metadata = r.isNull(11)
      ? undefined
      : (JSON.parse(r.text(11)) as (object | null)[]).map((m) =>
          m && Object.keys(m).length > 0 ? JSON.stringify(m) : "",
        );
    this.changedBy = r.isNull(12) ? undefined : r.text(12);
    this.end = this.n;
  }

  hi(i: number): number {
    return this.times.readInt32BE(8 * i);
  }

  lo(i: number): number {
    return this.times.readUInt32BE(8 * i + 4);
  }

  /** The valid time of point i, as a bigint (for object output and messages). */
  timeUs(i: number): bigint {
    return this.times.readBigInt64BE(8 * i);
  }

  isNull(i: number): boolean {
    return this.nulls !== undefined && this.nulls[i] === 1;
  }

  value(i: number): number {
    return this.values.readDoubleBE(8 * i);
  }

  /** The end of point i's interval in µs, 0n = none. */
  endUs(i: number): bigint {
    return this.ends ? this.ends.readBigInt64BE(8 * i) : 0n;
  }

  annotation(i: number): string {
    return this.annotations?.[i] ?? "";
  }

  tagList(i: number): string[] {
    return this.tags?.[i] ?? [];
  }

  metadataJson(i: number): string {
    return this.metadata?.[i] ?? "";
  }

  /** The first index in [from, to) whose time is >= (hi, lo), or `to`. */
  lowerBound(hi: number, lo: number, from: number, to: number): number {
    let a = from;
    let z = to;
    while (a < z) {
      const m = (a + z) >>> 1;
      const h = this.hi(m);
      if (h < hi || (h === hi && this.lo(m) < lo)) a = m + 1;
      else z = m;
    }
    return a;
  }

  /** Narrows the cursor to valid times in [start, end) (µs; undefined = unbounded). */
  clip(start: bigint | undefined, end: bigint | undefined): void {
    if (start !== undefined) {
      const [h, l] = halves(start);
      this.pos = this.lowerBound(h, l, 0, this.n);
    }
    if (end !== undefined) {
      const [h, l] = halves(end);
      this.end = this.lowerBound(h, l, this.pos, this.n);
    }
  }
}

/** A 64-bit integer as its signed high and unsigned low 32-bit halves. */
export function halves(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u >> 32n) | 0, Number(u & 0xffffffffn)];
}

function copyField(r: CopyBinaryReader, i: number): Buffer | undefined {
  if (r.isNull(i)) return undefined;
  const s = r.start[i] as number;
  return Buffer.from(r.buf.subarray(s, s + (r.len[i] as number)));
}
