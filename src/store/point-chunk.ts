/**
 * A validated chunk of points for one series reference, ready to be encoded for COPY.
 * Arrays are parallel; optional ones are undefined when the client did not send them.
 */
export interface IngestChunk {
  /** Field path for error messages, e.g. `chunks[3]`. */
  path: string;
  ref: SeriesReference;
  validTimes: readonly bigint[];
  values: readonly number[];
  nulls: readonly boolean[] | undefined;
  validTimeEnds: readonly bigint[] | undefined;
  annotations: readonly string[] | undefined;
  tags: readonly (readonly string[])[] | undefined;
  /** JSON text per point ("" = none). */
  metadata: readonly string[] | undefined;
  /** True when validTimes are strictly increasing (the common case; rows go in as they are). */
  sorted: boolean;
}

/** How a chunk names its series: by id, or by name + exact labels. */
export type SeriesReference =
  | { kind: "id"; seriesId: bigint }
  | { kind: "name"; name: string; labels: Record<string, string> };

/** A stable string for a reference: the id, or the series key `name{k="v",…}`. */
export function referenceKey(ref: SeriesReference): string {
  return ref.kind === "id" ? `#${ref.seriesId}` : seriesKey(ref.name, ref.labels);
}

/** The series key clients see in UploadResponse.series_ids: name plus labels sorted by key. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return name;
  return `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",")}}`;
}
