import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { SeriesKind } from "../../../gen/tdb/v1/types_pb.js";
import { maxTimeUs, minTimeUs } from "../../services/validate.js";
import { type TenantOptions, withTenantOptions } from "../common-options.js";
import { columnIndex, importRecords } from "../csv-import.js";
import { csvRecords } from "../csv-records.js";
import { parseTimeUs } from "../csv-values.js";
import { resolveTenant, withDatabase } from "../database.js";
import { CliError, exitCodes } from "../exit-codes.js";
import { emit, isoFromUs } from "../output.js";
import { Progress } from "../progress.js";

interface ImportOptions extends TenantOptions {
  knownTime?: bigint;
  workflow?: string;
  kind: "actual" | "forecast";
  chunkSize: number;
  progress?: boolean;
  quiet?: boolean;
}

const formatHelp = `
File format (CSV, RFC 4180: comma-separated, "double quotes" around fields with commas,
quotes or line breaks, UTF-8; the first row names the columns, in any order):
  series          series name (required)
  valid_time      RFC 3339 with an offset (2026-01-02T03:04:05.123456Z) or integer
                  microseconds since the Unix epoch (required)
  value           a number; empty = null ("no value"); NaN and Inf are refused (required)
  labels          key=value pairs separated by ";" (site=a;unit=kW), or a JSON object
                  ({"site":"a;b"}); empty = no labels
  valid_time_end  end of an interval value, same formats; empty = none
  annotation      free text; empty = none

Consecutive rows of one series (name + labels) are sent as one chunk. The whole file is one
run (one known time) in one transaction: any bad row and nothing is written. Missing series
are created with --kind. Rows are checked as an Upload's points are (finite values, years
0001-9999, no duplicate valid time per series); errors name the line and column.

Progress (rows, bytes, rows/s) goes to stderr when it is a terminal, or with --progress.
On success one summary line goes to stdout (--json: a JSON document). On failure one line
"tdb: <reason>" on stderr; exit 2 for invalid input, 3 when the file or tenant is not found,
1 for anything else.

Example:
  series,labels,valid_time,value
  power,site=a;unit=kW,2026-01-01T00:00:00Z,12.5
  power,site=a;unit=kW,2026-01-01T01:00:00Z,`;

/** `tdb import FILE.csv`: loads a CSV file as one run, through the Upload RPC's ingest path. */
export function importCommand(program: Command): void {
  withTenantOptions(
    program
      .command("import")
      .description("import points from a CSV file as one run (all or nothing), showing progress")
      .argument("<file>", "CSV file with a header row (see below)")
      .option(
        "--known-time <time>",
        "the run's known time: RFC 3339 or microseconds (default: now)",
        knownTime,
      )
      .option("--workflow <id>", "the run's workflow id (default: none)", workflow)
      .addOption(
        new Option("--kind <kind>", "kind of series created on the fly")
          .choices(["actual", "forecast"])
          .default("actual"),
      )
      .option("--chunk-size <rows>", "rows per chunk, at most (1-1000000)", chunkSize, 10_000)
      .option("--progress", "show progress even when stderr is not a terminal")
      .option("--quiet", "no progress and no summary line (errors are still printed; --json still prints)")
      .addHelpText("after", formatHelp),
  ).action(async (file: string, opts: ImportOptions) => {
    const size = await fileSize(file);
    const showProgress = opts.quiet !== true && (opts.progress === true || process.stderr.isTTY === true);
    const progress = new Progress(showProgress ? process.stderr : undefined, size);
    const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
    try {
      const records = csvRecords(stream, (n) => progress.addBytes(n));
      const header = await records.next();
      const columns = columnIndex(header.done ? undefined : header.value);
      const result = await withDatabase(opts, async (pool) => {
        const tenant = await resolveTenant(pool, opts.tenant);
        return importRecords(
          pool,
          tenant.id,
          { [Symbol.asyncIterator]: () => records },
          columns,
          {
            knownTimeUs: opts.knownTime,
            workflowId: opts.workflow ?? "",
            paramsJson: JSON.stringify({ source: "tdb import", file: path.basename(file) }),
            createdBy: `tdb import${process.env.USER ? ` (${process.env.USER})` : ""}`,
            newSeriesKind: opts.kind === "forecast" ? SeriesKind.FORECAST : SeriesKind.ACTUAL,
          },
          opts.chunkSize,
          (rows, phase) => progress.update(rows, phase, phase === "storing"),
          () => csvRecords(createReadStream(file, { highWaterMark: 256 * 1024 })),
        );
      });
      progress.update(result.rows, "done", true);
      progress.end();
      const seconds = progress.seconds();
      if (opts.quiet === true && opts.json !== true) return;
      emit(
        opts.json === true,
        {
          runId: result.runId,
          pointCount: result.pointCount,
          rows: result.rows,
          seriesCount: result.series.length,
          knownTime: opts.knownTime === undefined ? null : isoFromUs(opts.knownTime.toString()),
          seconds: Math.round(seconds * 1000) / 1000,
          series: result.series.map((s) => ({
            seriesId: s.seriesId,
            name: s.name,
            labels: s.labels,
            pointCount: s.pointCount,
          })),
        },
        () => [
          `imported ${result.pointCount} points into ${result.series.length} series: run ${result.runId} ` +
            `(${Math.round(result.rows / Math.max(seconds, 0.001))} rows/s)`,
        ],
      );
    } catch (err) {
      progress.end();
      throw err;
    } finally {
      stream.destroy();
    }
  });
}

/** The file's size in bytes; a clear error when it cannot be read. */
async function fileSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new CliError(`${file} is not a file`, exitCodes.usage);
    return s.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CliError(`${file}: no such file`, exitCodes.notFound);
    throw new CliError(`${file}: cannot read (${code ?? String(err)})`, exitCodes.failure);
  }
}

function knownTime(value: string): bigint {
  let us: bigint;
  try {
    us = parseTimeUs(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  if (us < minTimeUs || us > maxTimeUs) throw new InvalidArgumentError("time out of range (years 0001-9999)");
  return us;
}

function workflow(value: string): string {
  if (value.length > 200) throw new InvalidArgumentError("must be at most 200 characters");
  return value;
}

function chunkSize(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= 1_000_000)) throw new InvalidArgumentError("must be a whole number from 1 to 1000000");
  return n;
}
