import { once } from "node:events";
import { CsvError, parse } from "csv-parse";
import { CliError, exitCodes } from "./exit-codes.js";

/** One CSV record and the physical line (1-based) it ends on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * Parses RFC 4180 CSV (comma-separated, `"` quotes with `""` escapes, quoted fields may span
 * lines, LF or CRLF, UTF-8 with an optional BOM) with csv-parse, streaming: only the records
 * being parsed are held in memory. Blank lines are skipped; column counts are checked by the
 * caller, which knows the header. `onBytes` is told the size of each piece of input, for
 * progress reports. Malformed CSV becomes a one-line CliError naming the line.
 */
export async function* csvRecords(
  input: AsyncIterable<Buffer | string>,
  onBytes?: (n: number) => void,
): AsyncGenerator<CsvRecord> {
  const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true });
  const feeding = (async () => {
    for await (const piece of input) {
      onBytes?.(typeof piece === "string" ? Buffer.byteLength(piece) : piece.length);
      if (!parser.write(piece)) await once(parser, "drain");
    }
    parser.end();
  })();
  feeding.catch((err: unknown) => parser.destroy(err instanceof Error ? err : new Error(String(err))));
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      yield { line: info.lines, fields: record };
    }
    await feeding;
  } catch (err) {
    throw err instanceof CsvError ? csvProblem(err) : err;
  }
}

/** csv-parse's error, in the CLI's words. */
function csvProblem(err: CsvError): CliError {
  const line = (err as CsvError & { lines?: number }).lines;
  const what: Record<string, string> = {
    CSV_QUOTE_NOT_CLOSED: "a quoted field is not closed before the end of the file",
    CSV_INVALID_CLOSING_QUOTE: "unexpected character after a closing quote",
    CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: "unexpected character after a closing quote",
  };
  const quoteInField =
    'a quote inside an unquoted field (quote the whole field and double the quote: "a""b")';
  const message = err.code === "INVALID_OPENING_QUOTE" ? quoteInField : (what[err.code] ?? err.message);
  return new CliError(line ? `line ${line}: ${message}` : message, exitCodes.usage);
}
