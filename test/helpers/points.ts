import type { Client } from "@connectrpc/connect";
import type { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import type { ReadMode } from "../../gen/tdb/v1/types_pb.js";

/** One point of a read, flattened from the columnar chunks; optional columns only when sent. */
export interface PointRow {
  series: string;
  valid: bigint;
  value: number | null;
  known: bigint;
  run: string;
  change: bigint;
  end?: bigint;
  annotation?: string;
  tags?: string[];
  changedBy?: string;
}

/** Reads everything a ReadValues call streams, as rows in stream order. */
export async function readAll(
  client: Client<typeof TimeSeriesService>,
  req: Parameters<Client<typeof TimeSeriesService>["readValues"]>[0] & { mode?: ReadMode },
): Promise<PointRow[]> {
  const rows: PointRow[] = [];
  for await (const res of client.readValues(req)) {
    for (const c of res.chunks) {
      c.validTimes.forEach((t, i) => {
        const row: PointRow = {
          series: c.series?.seriesId ?? "",
          valid: t,
          value: c.nulls[i] ? null : (c.values[i] as number),
          known: c.knownTimes[i] as bigint,
          run: c.runIds[i] as string,
          change: c.changeTimes[i] as bigint,
        };
        if (c.validTimeEnds.length > 0 && c.validTimeEnds[i] !== 0n) row.end = c.validTimeEnds[i];
        if (c.annotations.length > 0 && c.annotations[i] !== "") row.annotation = c.annotations[i];
        if (c.tags.length > 0 && (c.tags[i]?.values.length ?? 0) > 0) row.tags = c.tags[i]?.values;
        if (c.changedBy.length > 0) row.changedBy = c.changedBy[i];
        rows.push(row);
      });
    }
  }
  return rows;
}

/** Microseconds since the epoch of an ISO time. */
export function us(iso: string): bigint {
  return BigInt(Date.parse(iso)) * 1000n;
}

/** A Timestamp init from an ISO time. */
export function ts(iso: string): { seconds: bigint; nanos: number } {
  const ms = Date.parse(iso);
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}
