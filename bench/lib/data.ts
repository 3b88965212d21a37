import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type UploadRequest, UploadRequestSchema } from "../../gen/tdb/v1/time_series_service_pb.js";
import { type PointChunk, PointChunkSchema, SeriesKind } from "../../gen/tdb/v1/types_pb.js";
import { bigEndian, encodeBlock } from "../../src/store/block-encoder.js";
import { CopyWriter, copyHeader, copyTrailer } from "../../src/store/copy-binary.js";
import type { PointColumns } from "../../src/store/point-chunk.js";

/** The benchmark's data set: `series` series × `points` hourly points each. */
export interface Shape {
  series: number;
  points: number;
}

/** The shape: 1,000 series × 2,000 hourly points = 2 M points. */
export const standard: Shape = { series: 1000, points: 2000 };

export const hourUs = 3_600_000_000n;
/** 2026-01-01T00:00:00Z in µs since the Unix epoch. */
export const t0Us = 1_767_225_600_000_000n;

/** Name of bench series `i` (zero-padded, so name order = index order). */
export function seriesName(prefix: string, i: number): string {
  return `${prefix}_${String(i).padStart(6, "0")}`;
}

/** A deterministic value for point j of series i. */
export function pointValue(i: number, j: number, run = 0): number {
  return Math.sin(i * 0.7 + j * 0.01) * 100 + run;
}

/**
 * The Upload stream of one run: a header (known_time = t0 + run hours; series created on
 * the fly as FORECAST), then messages of `perMessage` series chunks each. Chunks are built
 * as they are sent, so the client's memory stays small for any size.
 */
export async function* uploadStream(
  prefix: string,
  shape: Shape,
  run: number,
  perMessage = 5,
): AsyncGenerator<UploadRequest> {
  yield create(UploadRequestSchema, {
    header: {
      knownTime: timestampFromMs(Number((t0Us + BigInt(run) * hourUs) / 1000n) - 86_400_000),
      workflowId: "bench",
      createMissingSeries: true,
      newSeriesKind: SeriesKind.FORECAST,
    },
  });
  const times: bigint[] = [];
  for (let j = 0; j < shape.points; j++) times.push(t0Us + BigInt(j) * hourUs);
  for (let i = 0; i < shape.series; i += perMessage) {
    const chunks: PointChunk[] = [];
    for (let k = i; k < Math.min(shape.series, i + perMessage); k++) {
      const values = new Array<number>(shape.points);
      for (let j = 0; j < shape.points; j++) values[j] = pointValue(k, j, run);
      chunks.push(
        create(PointChunkSchema, { series: { name: seriesName(prefix, k) }, validTimes: times, values }),
      );
    }
    yield create(UploadRequestSchema, { chunks });
  }
}

/**
 * Writes the same points as a binary COPY file for the plain baseline table
 * (series_id int8, valid_time timestamptz, value float8), sorted by series and time.
 */
export async function writePlainCopyFile(file: string, shape: Shape, run = 0): Promise<void> {
  await writeCopyFile(file, shape, (w, i, j, t) => {
    w.fieldCount(3);
    w.int8(BigInt(i + 1));
    w.timestampUs(t);
    w.float8(pointValue(i, j, run));
  });
}

/**
 * The same points as rows of TDB's `point_blocks` table (migration 0005): one block per
 * series of 2,000 points, times and values packed big-endian, as TDB stores them.
 */
export async function writeLayoutCopyFile(file: string, shape: Shape, tenantId: string): Promise<void> {
  const uuid = Buffer.from(tenantId.replaceAll("-", ""), "hex");
  const known = t0Us - 86_400_000_000n;
  await writeSeriesCopyFile(file, shape, (w, i, block) => {
    w.fieldCount(16);
    w.uuid(uuid);
    w.int8(BigInt(i + 1));
    w.timestampUs(block.validTimes[0] as bigint);
    w.timestampUs(block.validTimes[block.validTimes.length - 1] as bigint);
    w.timestampUs(known);
    w.timestampUs(known);
    w.int8(42n);
    w.int4(block.validTimes.length);
    w.bytea(bigEndian(BigInt64Array.from(block.validTimes)));
    w.bytea(bigEndian(Float64Array.from(block.values)));
    for (let k = 0; k < 6; k++) w.null();
  });
}

/** The same points as rows of TDB's staging table, encoded by the server's own encodeBlock. */
export async function writeStagingCopyFile(file: string, shape: Shape): Promise<void> {
  await writeSeriesCopyFile(file, shape, (w, i, block) => {
    encodeBlock(w, i, block, undefined, 0, block.validTimes.length);
  });
}

/** Writes one COPY row (or more) per series, given its points as columns. */
async function writeSeriesCopyFile(
  file: string,
  shape: Shape,
  rows: (w: CopyWriter, i: number, block: PointColumns) => void,
): Promise<void> {
  const out = createWriteStream(file);
  const w = new CopyWriter();
  w.raw(copyHeader);
  const validTimes: bigint[] = [];
  for (let j = 0; j < shape.points; j++) validTimes.push(t0Us + BigInt(j) * hourUs);
  for (let i = 0; i < shape.series; i++) {
    const values = validTimes.map((_, j) => pointValue(i, j));
    const block: PointColumns = {
      validTimes,
      values,
      nulls: undefined,
      validTimeEnds: undefined,
      annotations: undefined,
      tags: undefined,
      metadata: undefined,
    };
    rows(w, i, block);
    if (w.length > 1 << 20 && !out.write(w.take())) await once(out, "drain");
  }
  w.raw(copyTrailer);
  out.end(w.take());
  await once(out, "finish");
}

async function writeCopyFile(
  file: string,
  shape: Shape,
  row: (w: CopyWriter, i: number, j: number, t: bigint) => void,
): Promise<void> {
  const out = createWriteStream(file);
  const w = new CopyWriter();
  w.raw(copyHeader);
  for (let i = 0; i < shape.series; i++) {
    for (let j = 0; j < shape.points; j++) row(w, i, j, t0Us + BigInt(j) * hourUs);
    if (w.length > 1 << 20 && !out.write(w.take())) await once(out, "drain");
  }
  w.raw(copyTrailer);
  out.end(w.take());
  await once(out, "finish");
}
