/** Parallel point arrays; optional ones are undefined when no point has a value for them. */
export interface PointColumns {
  validTimes: readonly bigint[];
  values: readonly number[];
  nulls: readonly boolean[] | undefined;
  /** 0n = no end. */
  validTimeEnds: readonly bigint[] | undefined;
  /** "" = none. */
  annotations: readonly string[] | undefined;
  tags: readonly (readonly string[])[] | undefined;
  /** JSON object text per point ("" = none). */
  metadata: readonly string[] | undefined;
}

/** A validated chunk of points for one series reference, ready to be packed into blocks. */
export interface IngestChunk extends PointColumns {
  /** Field path for error messages, e.g. `chunks[3]`. */
  path: string;
  ref: SeriesReference;
  /** True when validTimes are strictly increasing (the common case; no sort needed). */
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

/**
 * How an error names a series before it is resolved (ingest cannot query while its COPY is
 * open): as the chunk referenced it, by id or by its key `name{labels}`.
 */
export function referenceName(ref: SeriesReference): string {
  return ref.kind === "id" ? ref.seriesId.toString() : seriesKey(ref.name, ref.labels);
}

/** The series key clients see in UploadResponse.series_ids: name plus labels sorted by key. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return name;
  return `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",")}}`;
}
