import { create } from "@bufbuild/protobuf";
import type pg from "pg";
import { PointChunkSchema } from "../../gen/tdb/v1/types_pb.js";
import { InvalidInputError, LimitExceededError } from "../errors.js";
import { ingestChunk } from "../services/chunk-input.js";
import { Ingest, type IngestResult, type RunInput } from "../store/ingest.js";
import { referenceKey } from "../store/point-chunk.js";
import { withTenant } from "../store/tenant-tx.js";
import type { CsvRecord } from "./csv-records.js";
import { parseLabels, parseTimeUs, parseValue } from "./csv-values.js";
import { CliError, exitCodes } from "./exit-codes.js";

/** Columns an import file must have, and those it may have. */
export const requiredColumns = ["series", "valid_time", "value"] as const;
export const optionalColumns = ["labels", "valid_time_end", "annotation"] as const;
type Column = (typeof requiredColumns)[number] | (typeof optionalColumns)[number];

/** Where each known column sits in a row (undefined = absent). */
export type ColumnIndex = Record<Column, number | undefined> & { count: number };

/** Reads the header row: every required column, no unknown or repeated one, any order. */
export function columnIndex(header: CsvRecord | undefined): ColumnIndex {
  if (!header) throw new CliError("the file is empty: expected a header row", exitCodes.usage);
  const known: readonly string[] = [...requiredColumns, ...optionalColumns];
  const index: ColumnIndex = {
    series: undefined,
    valid_time: undefined,
    value: undefined,
    labels: undefined,
    valid_time_end: undefined,
    annotation: undefined,
    count: header.fields.length,
  };
  header.fields.forEach((raw, i) => {
    const name = raw.trim();
    if (!known.includes(name)) {
      throw new CliError(
        `line ${header.line}: unknown column ${JSON.stringify(name)} (columns: ${known.join(", ")})`,
        exitCodes.usage,
      );
    }
    if (index[name as Column] !== undefined) {
      throw new CliError(`line ${header.line}: column ${name} appears twice`, exitCodes.usage);
    }
    index[name as Column] = i;
  });
  const missing = requiredColumns.filter((c) => index[c] === undefined);
  if (missing.length > 0) {
    throw new CliError(
      `line ${header.line}: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (required: ${requiredColumns.join(", ")})`,
      exitCodes.usage,
    );
  }
  return index;
}

/** The run an import creates; the rest of RunInput is fixed for imports. */
export type ImportRun = Pick<
  RunInput,
  "knownTimeUs" | "workflowId" | "paramsJson" | "createdBy" | "newSeriesKind"
>;

/**
 * Imports CSV rows (after the header) as one run, through the Upload RPC's ingest path:
 * consecutive rows of one series become one chunk (at most `chunkSize` rows), each chunk is
 * validated by the same code as an uploaded PointChunk and streamed into the same Ingest,
 * in one tenant transaction — all or nothing. Errors name the CSV line and column.
 * `onRows` is called every few thousand rows with the number of rows read so far. `rescan`
 * reads the file again from the top; it is used only to find the line of a duplicate that
 * the ingest finds after the whole file was sent.
 */
export async function importRecords(
  pool: pg.Pool,
  tenantId: string,
  records: AsyncIterable<CsvRecord>,
  columns: ColumnIndex,
  run: ImportRun,
  chunkSize: number,
  onRows: (rows: number, phase: "reading" | "storing") => void,
  rescan?: () => AsyncIterable<CsvRecord>,
): Promise<IngestResult & { rows: number }> {
  return withTenant(pool, tenantId, async (c) => {
    const ingest = await Ingest.begin(c, tenantId, {
      ...run,
      startedAtUs: BigInt(Date.now()) * 1000n,
      finishedAtUs: undefined,
      createMissingSeries: true,
      // An operator import is bounded by the file, not by the per-request upload limit.
      maxPoints: Number.MAX_SAFE_INTEGER,
    });
    const chunks = new ChunkBuilder(columns);
    let rows = 0;
    try {
      for await (const record of records) {
        if (chunks.full(record, chunkSize)) await chunks.flush(ingest);
        chunks.add(record);
        rows++;
        if (rows % 4096 === 0) onRows(rows, "reading");
      }
      await chunks.flush(ingest);
      onRows(rows, "storing");
      const result = await ingest.finish().catch(async (err: unknown) => {
        throw (rescan && (await chunks.duplicateLine(err, rescan()))) ?? chunks.located(err);
      });
      return { ...result, rows };
    } catch (err) {
      await ingest.abort(err);
      throw err;
    }
  });
}

/** Collects consecutive rows of one series into a columnar chunk. */
class ChunkBuilder {
  private key: string | undefined;
  private name = "";
  private labels: Record<string, string> = {};
  private firstLine = 0;
  private lines: number[] = [];
  private validTimes: bigint[] = [];
  private values: number[] = [];
  private nulls: boolean[] = [];
  private ends: bigint[] = [];
  private annotations: string[] = [];
  private anyNull = false;
  private anyEnd = false;
  private anyAnnotation = false;
  /** Chunks sent so far; the next one's index. */
  private sent = 0;
  /** The first line of each series (by reference key), and the chunk index it went in. */
  private readonly firstLines = new Map<number, { line: number; name: string; ref: string }>();
  private readonly seen = new Set<string>();

  constructor(private readonly columns: ColumnIndex) {}

  /** True when `record` cannot join the chunk being built (another series, or it is full). */
  full(record: CsvRecord, chunkSize: number): boolean {
    if (this.key === undefined) return false;
    return this.lines.length >= chunkSize || this.seriesKey(record) !== this.key;
  }

  add(record: CsvRecord): void {
    const f = record.fields;
    const line = record.line;
    if (f.length !== this.columns.count) {
      throw new CliError(
        `line ${line}: has ${f.length} field${f.length === 1 ? "" : "s"}, the header has ${this.columns.count}`,
        exitCodes.usage,
      );
    }
    if (this.key === undefined) {
      this.key = this.seriesKey(record);
      this.name = this.cell(f, "series");
      this.firstLine = line;
      this.labels = this.parse(line, "labels", () => parseLabels(this.cell(f, "labels")));
    }
    this.lines.push(line);
    this.validTimes.push(this.parse(line, "valid_time", () => parseTimeUs(this.cell(f, "valid_time"))));
    const value = this.parse(line, "value", () => parseValue(this.cell(f, "value")));
    this.values.push(value ?? 0);
    this.nulls.push(value === null);
    if (value === null) this.anyNull = true;
    const endText = this.cell(f, "valid_time_end");
    const end = endText.trim() === "" ? 0n : this.parse(line, "valid_time_end", () => parseTimeUs(endText));
    this.ends.push(end);
    if (end !== 0n) this.anyEnd = true;
    const annotation = this.cell(f, "annotation");
    this.annotations.push(annotation);
    if (annotation !== "") this.anyAnnotation = true;
  }

  /** Validates the chunk as an uploaded PointChunk would be and hands it to the ingest. */
  async flush(ingest: Ingest): Promise<void> {
    if (this.key === undefined) return;
    const path = `chunks[${this.sent}]`;
    try {
      const chunk = ingestChunk(
        path,
        create(PointChunkSchema, {
          series: { name: this.name, labels: this.labels },
          validTimes: this.validTimes,
          values: this.values,
          nulls: this.anyNull ? this.nulls : [],
          validTimeEnds: this.anyEnd ? this.ends : [],
          annotations: this.anyAnnotation ? this.annotations : [],
        }),
      );
      const ref = referenceKey(chunk.ref);
      if (!this.seen.has(ref)) {
        this.seen.add(ref);
        this.firstLines.set(this.sent, { line: this.firstLine, name: this.name, ref });
      }
      await ingest.add(chunk);
    } catch (err) {
      throw this.located(err);
    }
    this.sent++;
    this.key = undefined;
    this.lines = [];
    this.validTimes = [];
    this.values = [];
    this.nulls = [];
    this.ends = [];
    this.annotations = [];
    this.anyNull = this.anyEnd = this.anyAnnotation = false;
  }

  /**
   * Turns an ingest error that names a chunk field (`chunks[3].values[17]`) into one that
   * names the CSV line and column (`line 1234, column value`); other errors pass through.
   */
  located(err: unknown): unknown {
    const field = err instanceof InvalidInputError ? err.field : undefined;
    const m =
      field === undefined ? undefined : /^chunks\[(\d+)\](?:\.(\w+))?(?:\.(\w+))?(?:\[(\d+)\])?/.exec(field);
    if (!m || field === undefined) {
      if (err instanceof LimitExceededError) return new CliError(err.message, exitCodes.usage);
      return err;
    }
    const detail = (err as Error).message.slice(field.length + 2);
    const chunk = Number(m[1]);
    const column = columnOf(m[2], m[3]);
    const at = m[4] === undefined ? 0 : Number(m[4]);
    const where = column ? `column ${column}` : "";
    if (chunk === this.sent && this.key !== undefined) {
      const line = this.lines[at] ?? this.firstLine;
      return new CliError(`line ${line}${where ? `, ${where}` : ""}: ${detail}`, exitCodes.usage);
    }
    // Found after the whole file was read (a duplicate across separate runs of rows of one
    // series): the ingest names the series and time; the line is where that series began.
    const first = this.firstLines.get(chunk);
    const seriesAt = first === undefined ? "" : ` (the series first appears at line ${first.line})`;
    return new CliError(`${where || "file"}: ${detail}${seriesAt}`, exitCodes.usage);
  }

  /**
   * The line of a duplicate valid time that the ingest found only at the end (rows of one
   * series split over the file, out of order). The ingest names the series' first chunk and
   * the time to the millisecond; a second pass over the file keeps only that series' rows
   * within a millisecond of it, so memory stays small. Undefined when it cannot tell.
   */
  async duplicateLine(err: unknown, records: AsyncIterable<CsvRecord>): Promise<CliError | undefined> {
    if (!(err instanceof InvalidInputError)) return undefined;
    const m = /^chunks\[(\d+)\]\.valid_times$/.exec(err.field);
    const detail = err.message.slice(err.field.length + 2);
    const time = /duplicate valid time (\S+)/.exec(detail);
    const series = m ? this.firstLines.get(Number(m[1])) : undefined;
    const ms = time ? Date.parse(time[1] as string) : Number.NaN;
    if (!series || Number.isNaN(ms)) return undefined;
    // Rendered to the millisecond (truncated toward zero): look on both sides.
    const lo = BigInt(ms) * 1000n - 999n;
    const hi = BigInt(ms) * 1000n + 999n;
    const refs = new Map<string, string>();
    const seen = new Set<bigint>();
    let header = true;
    for await (const record of records) {
      if (header) {
        header = false;
        continue;
      }
      const f = record.fields;
      if (f.length !== this.columns.count || this.cell(f, "series") !== series.name) continue;
      try {
        const labelsText = this.cell(f, "labels");
        let ref = refs.get(labelsText);
        if (ref === undefined) {
          ref = referenceKey({ kind: "name", name: series.name, labels: parseLabels(labelsText) });
          refs.set(labelsText, ref);
        }
        if (ref !== series.ref) continue;
        const t = parseTimeUs(this.cell(f, "valid_time"));
        if (t < lo || t > hi) continue;
        if (seen.has(t))
          return new CliError(`line ${record.line}, column valid_time: ${detail}`, exitCodes.usage);
        seen.add(t);
      } catch {
        // The first pass accepted every row; a row that fails now is not the duplicate.
      }
    }
    return undefined;
  }

  private seriesKey(record: CsvRecord): string {
    return `${this.cell(record.fields, "series")}\u0000${this.cell(record.fields, "labels")}`;
  }

  private cell(fields: string[], column: Column): string {
    const i = this.columns[column];
    return i === undefined ? "" : (fields[i] ?? "");
  }

  private parse<T>(line: number, column: Column, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new CliError(`line ${line}, column ${column}: ${(err as Error).message}`, exitCodes.usage);
    }
  }
}

/** The CSV column an ingest field path refers to. */
function columnOf(first: string | undefined, second: string | undefined): Column | undefined {
  switch (first) {
    case "valid_times":
      return "valid_time";
    case "values":
    case "nulls":
      return "value";
    case "valid_time_ends":
      return "valid_time_end";
    case "annotations":
      return "annotation";
    case "series":
      return second === "labels" ? "labels" : "series";
    default:
      return undefined;
  }
}
