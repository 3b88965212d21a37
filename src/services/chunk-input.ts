import type { PointChunk, SeriesRef } from "../../gen/tdb/v1/types_pb.js";
import { InvalidInputError } from "../errors.js";
import type { IngestChunk, SeriesReference } from "../store/point-chunk.js";
import { finite, maxTimeUs, minTimeUs, requireText, seriesIdFrom, timeUs, validLabels } from "./validate.js";

/** Resolves how a chunk or correction names its series: by id, or by name + labels, never both. */
export function seriesReference(field: string, ref: SeriesRef | undefined): SeriesReference {
  if (!ref) throw new InvalidInputError(field, "is required");
  const hasName = ref.name !== "" || Object.keys(ref.labels).length > 0;
  if (ref.seriesId !== "") {
    if (hasName) throw new InvalidInputError(field, "give series_id or name + labels, not both");
    return { kind: "id", seriesId: seriesIdFrom(`${field}.series_id`, ref.seriesId) };
  }
  return {
    kind: "name",
    name: requireText(`${field}.name`, ref.name, 200),
    labels: validLabels(`${field}.labels`, ref.labels),
  };
}

/**
 * Validates one columnar chunk of an upload and returns it in ingest form. Every error names
 * the chunk and, for a bad point, its index: `chunks[3].values[17]`.
 */
export function ingestChunk(path: string, chunk: PointChunk): IngestChunk {
  const ref = seriesReference(`${path}.series`, chunk.series);
  const n = chunk.validTimes.length;
  const sameLength = (name: string, len: number, optional: boolean) => {
    if (optional && len === 0) return;
    if (len !== n)
      throw new InvalidInputError(`${path}.${name}`, `has ${len} elements, valid_times has ${n}`);
  };
  sameLength("values", chunk.values.length, false);
  sameLength("nulls", chunk.nulls.length, true);
  sameLength("valid_time_ends", chunk.validTimeEnds.length, true);
  sameLength("annotations", chunk.annotations.length, true);
  sameLength("tags", chunk.tags.length, true);
  sameLength("metadata", chunk.metadata.length, true);
  for (const name of ["known_times", "run_ids", "change_times", "changed_by"] as const) {
    const len = {
      known_times: chunk.knownTimes,
      run_ids: chunk.runIds,
      change_times: chunk.changeTimes,
      changed_by: chunk.changedBy,
    }[name].length;
    if (len > 0)
      throw new InvalidInputError(
        `${path}.${name}`,
        "is set by the server on reads; leave it empty in uploads",
      );
  }

  const nulls = chunk.nulls.length > 0 ? chunk.nulls : undefined;
  let sorted = true;
  // The hot loop of every upload: check inline and build a field path only for an error.
  for (let i = 0; i < n; i++) {
    const t = chunk.validTimes[i] as bigint;
    if (t < minTimeUs || t > maxTimeUs) timeUs(`${path}.valid_times[${i}]`, t);
    if (i > 0 && t <= (chunk.validTimes[i - 1] as bigint)) sorted = false;
    const v = chunk.values[i] as number;
    if (!Number.isFinite(v) && !nulls?.[i]) finite(`${path}.values[${i}]`, v);
  }
  const ends = chunk.validTimeEnds.length > 0 ? chunk.validTimeEnds : undefined;
  if (ends) {
    for (let i = 0; i < n; i++) {
      const e = ends[i] as bigint;
      if (e === 0n) continue;
      timeUs(`${path}.valid_time_ends[${i}]`, e);
      if (e <= (chunk.validTimes[i] as bigint)) {
        throw new InvalidInputError(
          `${path}.valid_time_ends[${i}]`,
          "must be after valid_times[i] (or 0 for no end)",
        );
      }
    }
  }
  chunk.annotations.forEach((a, i) => {
    if (a.length > 10_000)
      throw new InvalidInputError(`${path}.annotations[${i}]`, "must be at most 10000 characters");
  });
  return {
    path,
    ref,
    validTimes: chunk.validTimes,
    values: chunk.values,
    nulls,
    validTimeEnds: ends,
    annotations: chunk.annotations.length > 0 ? chunk.annotations : undefined,
    tags: chunk.tags.length > 0 ? chunk.tags.map((t) => t.values) : undefined,
    metadata:
      chunk.metadata.length > 0
        ? chunk.metadata.map((m) => (Object.keys(m).length > 0 ? JSON.stringify(m) : ""))
        : undefined,
    sorted,
  };
}
